"""Connector test fixtures.

The sandbox itself is the session-wide `sandbox` fixture of tests/conftest.py: `python -m
connectors.sandbox` as a subprocess on a free port, health-checked and stopped by PID. Here it is
wrapped with the QuickBooks admin calls these tests need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest


@dataclass(frozen=True)
class QuickBooksSandbox:
    quickbooks_url: str  # what a connection's api_base_url would be

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox's own admin API (not QBO) under /quickbooks/_sandbox."""
        response = httpx.request(method, f"{self.quickbooks_url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def qbo_sandbox(sandbox) -> QuickBooksSandbox:
    return QuickBooksSandbox(quickbooks_url=sandbox.quickbooks)


@dataclass(frozen=True)
class XeroSandbox:
    xero_url: str  # http://HOST:PORT/xero: the emulator's Accounting API, identity and connections

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox's own admin API (not Xero) under /xero/_sandbox."""
        response = httpx.request(method, f"{self.xero_url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def xero_sandbox(sandbox) -> XeroSandbox:
    return XeroSandbox(xero_url=f"{sandbox.url}/xero")
