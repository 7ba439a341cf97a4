"""Microsoft identity platform (v2.0) and Microsoft Graph v1.0 calendar emulator, mounted at ``/microsoft``.

msal insists on https, so clients use the sandbox's TLS port and trust its CA (``ca.pem``). Client
configuration (HOST:PORT is the TLS listener; nothing else changes in a connector):

- Authority (real ``https://login.microsoftonline.com/{tenant}``): ``https://HOST:PORT/microsoft/{tenant}``.
  msal reads the first path segment as the tenant, so it names this one ``microsoft``; only the cache's
  realm shows it. Instance discovery (real ``https://login.microsoftonline.com/common/discovery/instance``):
  ``msal.ConfidentialClientApplication(…, instance_discovery="https://HOST:PORT/microsoft/common/discovery/
  instance")`` — msal's own option naming the discovery endpoint; it then reads the OpenID configuration
  from ``/microsoft/{tenant}/v2.0/.well-known/openid-configuration``.
- Graph (real ``https://graph.microsoft.com/v1.0``): ``https://HOST:PORT/microsoft/v1.0``.
- Admin API (not Microsoft): ``…/microsoft/_sandbox/…``.

The one app is ``SANDBOX_MICROSOFT_CLIENT_ID`` / ``SANDBOX_MICROSOFT_CLIENT_SECRET``. The demo tenant and
user (``SANDBOX_MICROSOFT_DEMO_*``) are seeded at start from fixed settings, so the demo mailbox is the same
after a restart. See ``identity`` (tokens), ``delta`` (calendarView delta), ``graph`` (events, If-Match),
``subscriptions`` (validation handshake, notifications), ``gateway`` (auth, throttling, faults).
"""

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.microsoft import seed
from connectors.sandbox.microsoft.admin_api import admin_router
from connectors.sandbox.microsoft.errors import GraphError, IdentityError
from connectors.sandbox.microsoft.gateway import MicrosoftGateway
from connectors.sandbox.microsoft.graph import graph_router
from connectors.sandbox.microsoft.identity import identity_router
from connectors.sandbox.microsoft.state import MicrosoftState
from connectors.sandbox.microsoft.subscriptions import notifier
from connectors.sandbox.settings import SandboxSettings

MOUNT_PATH = "/microsoft"


def build_microsoft_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, MicrosoftState]:
    state = MicrosoftState(settings, clock)
    tenant = state.add_tenant(settings.microsoft_demo_tenant_id, settings.microsoft_demo_tenant_domain)
    demo = state.add_user(tenant, settings.microsoft_demo_user, "Demo Staff", settings.microsoft_demo_user_id)
    seed.seed_events(
        state,
        demo,
        settings.microsoft_demo_events,
        settings.microsoft_demo_seed,
        settings.microsoft_demo_anchor.timestamp(),
    )
    state.on_change = notifier(state)
    api = FastAPI(
        title="Microsoft identity platform + Graph sandbox",
        description="Emulates the identity platform v2.0 endpoints msal uses and Microsoft Graph v1.0 "
        "calendar events (delta, If-Match, subscriptions). Paths under /_sandbox are the sandbox admin API.",
    )
    # Graph's and the admin API's fixed paths first: `/{tenant}/…` would match `v1.0` otherwise.
    api.include_router(graph_router(state))
    api.include_router(admin_router(state), prefix="/_sandbox")
    api.include_router(identity_router(state))

    @api.exception_handler(GraphError)
    async def graph_error(_: Request, error: GraphError) -> Response:
        return Response(error.body(), error.status, error.headers, media_type="application/json")

    @api.exception_handler(IdentityError)
    async def identity_error(_: Request, error: IdentityError) -> Response:
        return JSONResponse(error.body(), error.status)

    return MicrosoftGateway(api, state), state
