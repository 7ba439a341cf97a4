"""Slack Web API emulator, mounted at ``/slack``.

Client configuration (HOST:PORT is where the sandbox listens; nothing else changes in a connector):

- Web API base (slack-sdk ``WebClient(base_url=…)``; real ``https://slack.com/api/``):
  ``http://HOST:PORT/slack/api/``
- OAuth consent screen (real ``https://slack.com/oauth/v2/authorize``): ``http://HOST:PORT/slack/oauth/v2/authorize``;
  the code exchange is the Web API method ``oauth.v2.access``. App credentials:
  ``SANDBOX_SLACK_CLIENT_ID`` / ``SANDBOX_SLACK_CLIENT_SECRET``.
- Bot token: ``xoxb-…`` per workspace (from the admin API or OAuth), as ``Authorization: Bearer`` or a
  ``token`` argument. Missing: ``not_authed``; unknown: ``invalid_auth``; revoked: ``token_revoked``
  (all HTTP 200 with ``"ok": false``, as Slack answers).
- Signing secret: per workspace (from the admin API); signs the slash commands the sandbox sends.
- Admin API (not Slack): ``http://HOST:PORT/slack/_sandbox/…``

Served: ``auth.test``, ``chat.postMessage``, ``conversations.list`` (cursor pagination),
``conversations.info``, ``oauth.v2.access``. Rate limits per method and workspace by tier (tier 2
20/min, tier 3 50/min, tier 4 100/min) and chat.postMessage at 1 message per second per channel;
over them HTTP 429, ``Retry-After``
and ``{"ok": false, "error": "ratelimited"}``. See ``admin_api`` for the admin API and ``slash`` for
slash commands.

The demo workspace (``SANDBOX_SLACK_DEMO_TEAM_ID`` with bot token ``SANDBOX_SLACK_DEMO_BOT_TOKEN`` and
signing secret ``SANDBOX_SLACK_DEMO_SIGNING_SECRET``) is created at start; its
token, signing secret, bot and channel ids are the same after every restart.
"""

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.sandbox.common.asgi import route_path
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.slack.admin_api import admin_router
from connectors.sandbox.slack.slash import response_url_router
from connectors.sandbox.slack.state import SlackState
from connectors.sandbox.slack.web_api import web_api_router

MOUNT_PATH = "/slack"


def _fault_body(status: int) -> bytes:
    error = "ratelimited" if status == 429 else "internal_error" if status < 503 else "service_unavailable"
    return b'{"ok":false,"error":"' + error.encode() + b'"}'


class SlackGateway:
    """Injected faults (sandbox only) on Web API calls, before the framework, so a "drop" reaches the
    socket. A fault's ``realm`` is the team id of the request's bearer token."""

    def __init__(self, app: ASGIApp, state: SlackState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not route_path(scope).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        team_id = None
        for key, value in scope.get("headers", []):
            if key.lower() == b"authorization":
                grant = self.state.tokens.get(value.decode("latin-1").partition(" ")[2].strip())
                team_id = grant.team_id if grant else None
        fault = self.state.faults.take(team_id, scope["path"])
        if fault is not None:
            await answer_with_fault(
                fault, scope, receive, send, _fault_body, self.state.settings.fault_max_delay_seconds
            )
            return
        await self.app(scope, receive, send)


def build_slack_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, SlackState]:
    state = SlackState(settings, clock)
    api = FastAPI(
        title="Slack sandbox",
        description="Emulates Slack's Web API (auth.test, chat.postMessage, conversations.list/info, "
        "oauth.v2.access), OAuth v2 and signed slash commands. Paths under /_sandbox are the sandbox's own "
        "admin API, not Slack.",
    )
    api.include_router(admin_router(state), prefix="/_sandbox")
    api.include_router(web_api_router(state))
    api.include_router(response_url_router(state))
    return SlackGateway(api, state), state
