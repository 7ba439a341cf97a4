"""Salesforce REST API and OAuth 2.0 emulator, mounted at ``/salesforce`` — and at ``/services`` on the root.

simple-salesforce builds every URL from the *host and port* of ``instance_url`` (``https://{host}/services/
data/v{version}/…``) and insists on https, so the API must live at ``/services`` on the sandbox's TLS port,
as it does on a Salesforce instance. Client configuration (nothing else changes in a connector):

- Login / token (real ``https://login.salesforce.com/services/oauth2/token``):
  ``https://localhost:TLS_PORT/salesforce/services/oauth2/token`` (or ``/services/oauth2/token``);
  authorize at ``…/services/oauth2/authorize``.
- Instance (real ``https://MyDomain.my.salesforce.com``): the token answer's ``instance_url``,
  ``https://localhost:TLS_PORT`` — ``SANDBOX_SALESFORCE_INSTANCE_URL`` overrides it.
- Trust: the sandbox CA (``SANDBOX_TLS_DIR/ca.pem``) as the requests session's ``verify``.
- Admin API (not Salesforce): ``http(s)://HOST:PORT/salesforce/_sandbox/…``.

The connected app is ``SANDBOX_SALESFORCE_CLIENT_ID`` / ``_CLIENT_SECRET``. The demo org
(``SANDBOX_SALESFORCE_DEMO_ORG_ID``) is seeded at start from fixed settings and answers the fixed refresh
token ``SANDBOX_SALESFORCE_DEMO_REFRESH_TOKEN``, so the demo firm's connection survives restarts. See ``api``
for the REST resources and limits, ``soql`` for the query subset, ``oauth`` for the flow.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox.common.asgi import ConnectionDropped, route_path
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.salesforce import errors, seed
from connectors.sandbox.salesforce.admin_api import admin_router
from connectors.sandbox.salesforce.api import ORG_SCOPE_KEY, api_router
from connectors.sandbox.salesforce.oauth import oauth_router
from connectors.sandbox.salesforce.state import SalesforceState
from connectors.sandbox.settings import SandboxSettings

MOUNT_PATH = "/salesforce"
ROOT_MOUNT_PATH = "/services"  # where Salesforce's own paths start on an instance
ADMIN_PREFIX = "/_sandbox"


def _stats_path(path: str) -> str:
    """Paths without ids, so counters group by resource: /services/data/v59.0/sobjects/Lead/{id}."""
    parts = path.split("/")
    if "query" in parts and parts[-1] != "query" and "-" in parts[-1]:
        parts[-1] = "{locator}"
    if "sobjects" in parts:
        at = parts.index("sobjects")
        parts[at + 2 :] = [p if p in ("deleted", "") else "{id}" for p in parts[at + 2 :]]
    return "/".join(parts)


class SalesforceGateway:
    """Injected faults (matched by the token's org) and request counters per org, in front of the app."""

    def __init__(self, app: ASGIApp, state: SalesforceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX) or not path.startswith("/services/data"):
            await self.app(scope, receive, send)
            return
        token = ""
        for key, value in scope.get("headers", []):
            if key.lower() == b"authorization":
                token = value.decode("latin-1").partition(" ")[2].strip()
        org_id = self.state.org_hint(token) if token else None
        outcome = "unanswered"

        async def counting_send(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
            await send(message)

        try:
            fault = self.state.faults.take(org_id, path)
            if fault is not None:
                max_delay = self.state.settings.fault_max_delay_seconds
                outcome = await answer_with_fault(fault, scope, receive, send, errors.fault_body, max_delay)
                return
            await self.app(scope, receive, counting_send)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            if org_id in self.state.orgs:
                self.state.stats.record(org_id, _stats_path(path), outcome)


class _AtRoot:
    """The same app under the root's ``/services`` mount: it sees its paths as ``/services/…`` again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root = scope.get("root_path", "")
            if root.endswith(ROOT_MOUNT_PATH):
                scope = dict(scope, root_path=root[: -len(ROOT_MOUNT_PATH)])
        await self.app(scope, receive, send)


def build_salesforce_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, ASGIApp, SalesforceState]:
    """(the app for ``/salesforce``, the app for the root's ``/services``, its state)."""
    state = SalesforceState(settings, clock)
    demo = state.add_org(
        settings.salesforce_demo_org_name,
        org_id=settings.salesforce_demo_org_id,
        username=settings.salesforce_demo_username,
    )
    state.fixed_refresh[settings.salesforce_demo_refresh_token.get_secret_value()] = demo.org_id
    seed.seed_org(
        state,
        demo,
        accounts=settings.salesforce_demo_accounts,
        contacts=settings.salesforce_demo_contacts,
        leads=settings.salesforce_demo_leads,
        opportunities=settings.salesforce_demo_opportunities,
        seed=settings.salesforce_demo_seed,
        anchor=settings.salesforce_demo_anchor.timestamp(),
    )
    api = FastAPI(
        title="Salesforce sandbox",
        description="Emulates Salesforce's REST API (query, sObject rows, upsert by external id, getDeleted, "
        "limits) and the OAuth 2.0 web server flow. Paths under /_sandbox are the sandbox's own admin API.",
    )
    api.include_router(oauth_router(state))
    api.include_router(api_router(state))
    api.include_router(admin_router(state), prefix=ADMIN_PREFIX)

    @api.exception_handler(errors.SalesforceError)
    async def salesforce_error(request: Request, error: errors.SalesforceError) -> Response:
        headers = dict(error.headers)
        org = request.scope.get(ORG_SCOPE_KEY)
        if org is not None:
            headers["Sforce-Limit-Info"] = state.limit_info(org)
        return JSONResponse(error.payload(), error.status, headers)

    gateway = SalesforceGateway(api, state)
    return gateway, _AtRoot(gateway), state
