"""The sandbox: one FastAPI app, one mount per emulated vendor."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from connectors.sandbox.common.asgi import RAW_SEND_SCOPE_KEY
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.google import MOUNT_PATH as GOOGLE_MOUNT
from connectors.sandbox.google import build_google_app
from connectors.sandbox.microsoft import MOUNT_PATH as MICROSOFT_MOUNT
from connectors.sandbox.microsoft import build_microsoft_app
from connectors.sandbox.quickbooks import MOUNT_PATH as QUICKBOOKS_MOUNT
from connectors.sandbox.quickbooks import build_quickbooks_app
from connectors.sandbox.salesforce import MOUNT_PATH as SALESFORCE_MOUNT
from connectors.sandbox.salesforce import ROOT_MOUNT_PATH as SALESFORCE_ROOT_MOUNT
from connectors.sandbox.salesforce import build_salesforce_app
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.slack import MOUNT_PATH as SLACK_MOUNT
from connectors.sandbox.slack import build_slack_app
from connectors.sandbox.stripe import MOUNT_PATH as STRIPE_MOUNT
from connectors.sandbox.stripe import build_stripe_app
from connectors.sandbox.xero import MOUNT_PATH as XERO_MOUNT
from connectors.sandbox.xero import build_xero_app


class _SandboxApp(FastAPI):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Keep the server's own send callable: through it a "drop" fault reaches the socket.
        if scope["type"] == "http":
            scope[RAW_SEND_SCOPE_KEY] = send
        await super().__call__(scope, receive, send)


class ClockAdvance(BaseModel):
    seconds: float = Field(..., gt=0, le=400 * 86_400)


def create_app(settings: SandboxSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the sandbox. ``clock`` lets in-process tests move time; by default it is the wall clock."""
    settings = settings or SandboxSettings()
    clock = clock or Clock()
    quickbooks, quickbooks_state = build_quickbooks_app(settings, clock)
    xero, xero_state = build_xero_app(settings, clock)
    google, google_state = build_google_app(settings, clock)
    stripe, stripe_state = build_stripe_app(settings, clock)
    slack, slack_state = build_slack_app(settings, clock)
    microsoft, microsoft_state = build_microsoft_app(settings, clock)
    salesforce, salesforce_at_root, salesforce_state = build_salesforce_app(settings, clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        xero_state.close()  # the webhook delivery thread
        stripe_state.close()  # and its own

    app = _SandboxApp(
        title="firmsync vendor sandbox",
        description="Local emulators of the vendor APIs firmsync syncs with. "
        "See /quickbooks/docs, /xero/docs, /google/docs, /stripe/docs, /slack/docs and /salesforce/docs.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.quickbooks = quickbooks_state
    app.state.xero = xero_state
    app.state.google = google_state
    app.state.stripe = stripe_state
    app.state.slack = slack_state
    app.state.microsoft = microsoft_state
    app.state.salesforce = salesforce_state
    app.mount(QUICKBOOKS_MOUNT, quickbooks)
    app.mount(XERO_MOUNT, xero)
    app.mount(GOOGLE_MOUNT, google)
    app.mount(STRIPE_MOUNT, stripe)
    app.mount(SLACK_MOUNT, slack)
    app.mount(MICROSOFT_MOUNT, microsoft)
    app.mount(SALESFORCE_MOUNT, salesforce)
    # simple-salesforce keeps only the host of `instance_url`: Salesforce's paths start at the root.
    app.mount(SALESFORCE_ROOT_MOUNT, salesforce_at_root)

    @app.get("/healthz", tags=["sandbox"])
    async def healthz() -> dict:
        return {
            "status": "ok",
            "vendors": {
                "quickbooks": QUICKBOOKS_MOUNT,
                "xero": XERO_MOUNT,
                "google": GOOGLE_MOUNT,
                "stripe": STRIPE_MOUNT,
                "slack": SLACK_MOUNT,
                "microsoft": MICROSOFT_MOUNT,
                "salesforce": SALESFORCE_MOUNT,
            },
        }

    @app.post(
        "/_sandbox/clock/advance", tags=["sandbox"], summary="Move the sandbox clock forward (all vendors)"
    )
    async def advance_clock(body: ClockAdvance) -> dict:
        clock.advance(body.seconds)
        return {"now": clock.now()}

    return app
