"""Injectable faults: each rule answers the next N matching requests badly, then is used up."""

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from connectors.sandbox.common.asgi import drop_connection, send_bytes, wait_for_disconnect

FaultKind = Literal["500", "503", "timeout", "drop", "429"]

DEFAULT_TIMEOUT_DELAY_SECONDS = 30.0


class FaultSpec(BaseModel):
    """One injected fault. With neither ``realm`` nor ``path_contains`` it matches any vendor request."""

    kind: FaultKind
    realm: str | None = Field(None, description="only requests for this tenant (realm / org / account)")
    path_contains: str | None = Field(None, description="only requests whose URL path contains this text")
    times: int = Field(1, ge=1, le=100_000, description="how many matching requests get the fault")
    retry_after: int | None = Field(None, ge=0, le=3600, description="Retry-After seconds for 429/503")
    delay_seconds: float | None = Field(
        None,
        ge=0,
        description=f"timeout: how long to hold the request (default {DEFAULT_TIMEOUT_DELAY_SECONDS})",
    )
    probability: float = Field(
        1.0, gt=0, le=1, description="share of matching requests that get the fault (a flaky vendor)"
    )
    seed: int = Field(0, description="seeds the probability draws, so a flaky run is reproducible")


@dataclass
class FaultRule:
    id: int
    spec: FaultSpec
    remaining: int
    rng: random.Random | None = None

    def fires(self) -> bool:
        if self.spec.probability >= 1:
            return True
        if self.rng is None:
            self.rng = random.Random(self.spec.seed)  # noqa: S311 - fault injection, not security
        return self.rng.random() < self.spec.probability

    def matches(self, tenant: str | None, path: str) -> bool:
        if self.spec.realm is not None and self.spec.realm != tenant:
            return False
        return self.spec.path_contains is None or self.spec.path_contains in path

    def as_dict(self) -> dict:
        return {"id": self.id, "remaining": self.remaining, **self.spec.model_dump()}


class FaultInjector:
    """Rules are tried in the order they were added; the first match with uses left is consumed."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> FaultRule:
        rule = FaultRule(id=next(self._ids), spec=spec, remaining=spec.times)
        self._rules.append(rule)
        return rule

    def take(self, tenant: str | None, path: str) -> FaultSpec | None:
        for rule in self._rules:
            if rule.matches(tenant, path) and rule.fires():
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return rule.spec
        return None

    def pending(self) -> list[dict]:
        return [rule.as_dict() for rule in self._rules]

    def clear(self) -> int:
        cleared = len(self._rules)
        self._rules.clear()
        return cleared


FaultBody = Callable[[int], bytes]
"""Renders the vendor's error body for an HTTP status (500, 503, 429, 504)."""


async def answer_with_fault(
    spec: FaultSpec, scope: Scope, receive: Receive, send: Send, body_for: FaultBody, max_delay: float
) -> str:
    """Play one fault on the wire and return the outcome for the request counters."""
    if spec.kind == "drop":
        await drop_connection(scope)
        return "dropped"
    if spec.kind == "timeout":
        delay = min(
            spec.delay_seconds if spec.delay_seconds is not None else DEFAULT_TIMEOUT_DELAY_SECONDS, max_delay
        )
        if await wait_for_disconnect(receive, delay):
            return "timeout"
        # Still connected after the delay: answer as a gateway that gave up on its upstream.
        await send_bytes(send, 504, body_for(504))
        return "504"
    status = int(spec.kind)
    headers = []
    if spec.kind == "429" or spec.retry_after is not None:
        headers.append(("Retry-After", str(spec.retry_after if spec.retry_after is not None else 1)))
    await send_bytes(send, status, body_for(status), headers=headers)
    return spec.kind
