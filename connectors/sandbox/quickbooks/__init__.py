"""QuickBooks Online Accounting API v3 and Intuit OAuth2 emulator, mounted at ``/quickbooks``.

Reference for clients (HOST:PORT is where the sandbox listens):

- API base (python-quickbooks ``api_url_v3``): ``http://HOST:PORT/quickbooks/v3``
- OAuth discovery (intuit-oauth ``environment``):
  ``http://HOST:PORT/quickbooks/.well-known/openid_sandbox_configuration``
- Admin API (not QBO): ``http://HOST:PORT/quickbooks/_sandbox/...``
"""

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.quickbooks.admin_api import admin_router
from connectors.sandbox.quickbooks.data_api import data_router
from connectors.sandbox.quickbooks.errors import QboError
from connectors.sandbox.quickbooks.gateway import QuickBooksGateway
from connectors.sandbox.quickbooks.oauth import oauth_router
from connectors.sandbox.quickbooks.responses import error_response
from connectors.sandbox.quickbooks.state import QuickBooksState
from connectors.sandbox.settings import SandboxSettings

MOUNT_PATH = "/quickbooks"


def build_quickbooks_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, QuickBooksState]:
    state = QuickBooksState(settings, clock)
    api = FastAPI(
        title="QuickBooks Online sandbox",
        description="Emulates the QBO Accounting API v3 (Customer, Invoice, Payment, CreditMemo, Item, "
        "Account, TaxCode; query, CDC, webhooks) and Intuit OAuth 2.0. "
        "Paths under /_sandbox are the sandbox's own admin API, not QBO.",
    )
    api.include_router(oauth_router(state))
    api.include_router(data_router(state))
    api.include_router(admin_router(state), prefix="/_sandbox")

    @api.exception_handler(QboError)
    async def qbo_error(_: Request, error: QboError) -> Response:
        return error_response(state, error)

    return QuickBooksGateway(api, state), state
