"""Google Calendar API v3 and Google OAuth 2.0 emulator, mounted at ``/google``.

Client configuration (HOST:PORT is where the sandbox listens; nothing else changes in a connector):

- Calendar API (real ``https://www.googleapis.com/calendar/v3/``): ``http://HOST:PORT/google/calendar/v3/``.
  google-api-python-client: ``build("calendar", "v3", client_options={"api_endpoint":
  "http://HOST:PORT/google/calendar/v3/"}, …)`` with the SDK's bundled discovery document, or
  ``discoveryServiceUrl="http://HOST:PORT/google/discovery/v1/apis/{api}/{apiVersion}/rest"`` with
  ``static_discovery=False`` to build from the sandbox's own document.
- Authorization (real ``https://accounts.google.com/o/oauth2/v2/auth``): ``http://HOST:PORT/google/o/oauth2/v2/auth``
- Token (real ``https://oauth2.googleapis.com/token``; google-auth's ``Credentials(token_uri=…)``):
  ``http://HOST:PORT/google/token``
- Revocation (real ``https://oauth2.googleapis.com/revoke``): ``http://HOST:PORT/google/revoke``
- Admin API (not Google): ``http://HOST:PORT/google/_sandbox/…``

The one OAuth app is ``SANDBOX_GOOGLE_CLIENT_ID`` / ``SANDBOX_GOOGLE_CLIENT_SECRET``. Calendar requests need
``Authorization: Bearer <access token>`` (else 401 authError). See ``calendars`` for event semantics (etags,
If-Match, cancellations), ``listing`` for paging and sync tokens, ``recurrence`` for singleEvents, ``tokens``
for OAuth, ``gateway`` for quotas and faults. The demo user (``SANDBOX_GOOGLE_DEMO_EMAIL``) is seeded at start
from fixed settings, so the demo calendar is the same after a restart.
"""

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.google import seed
from connectors.sandbox.google.admin_api import admin_router
from connectors.sandbox.google.api import api_router
from connectors.sandbox.google.discovery import discovery_router
from connectors.sandbox.google.errors import GoogleError
from connectors.sandbox.google.gateway import GoogleGateway
from connectors.sandbox.google.oauth import oauth_router
from connectors.sandbox.google.state import GoogleState
from connectors.sandbox.settings import SandboxSettings

MOUNT_PATH = "/google"


def build_google_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, GoogleState]:
    state = GoogleState(settings, clock)
    demo = state.add_account(state.demo_email, "Demo Staff", settings.google_demo_timezone)
    seed.seed_events(
        demo.primary,
        settings.google_demo_events,
        settings.google_demo_seed,
        settings.google_demo_anchor.timestamp(),
    )
    api = FastAPI(
        title="Google Calendar sandbox",
        description="Emulates the Google Calendar API v3 and Google OAuth 2.0. "
        "Paths under /_sandbox are the sandbox's own admin API, not Google.",
    )
    api.include_router(oauth_router(state))
    api.include_router(discovery_router())
    api.include_router(api_router(state))
    api.include_router(admin_router(state), prefix="/_sandbox")

    @api.exception_handler(GoogleError)
    async def google_error(_: Request, error: GoogleError) -> Response:
        return Response(
            error.body(), error.status, error.headers, media_type="application/json; charset=UTF-8"
        )

    return GoogleGateway(api, state), state
