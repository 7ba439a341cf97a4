"""Stripe API v1 emulator, mounted at ``/stripe``.

Client configuration (HOST:PORT is where the sandbox listens; nothing else changes in a connector):

- API base (stripe-python ``StripeClient(key, base_addresses={"api": …})``; real
  ``https://api.stripe.com``): ``http://HOST:PORT/stripe``
- Secret key: per sandbox account, ``sk_test_…`` (from the admin API), sent as ``Authorization: Bearer``
  or as the HTTP Basic user name. Missing or unknown keys answer 401, rolled keys 401
  ``api_key_expired``.
- Webhook signing secret: per endpoint, ``whsec_…`` (from the admin API)
- Admin API (not Stripe): ``http://HOST:PORT/stripe/_sandbox/…``

Served: ``GET /v1/customers|charges|payment_intents|refunds|events`` (lists, see ``listing``) and
``GET /v1/<resource>/{id}``, ``DELETE /v1/customers/{id}``. Rate limit: per account, 25 reads and 25
writes per second (Stripe's test mode), changeable per account; over it, 429 with Stripe's
``rate_limit`` error. Events go back 30 days. See ``webhooks`` for deliveries and signing.

Admin API, ``/stripe/_sandbox`` (no auth):

- ``POST /accounts`` ``{name?, customers, payments, refund_share, currency, seed, anchor?, spread_days}``:
  a new seeded account → ``{account_id, name, secret_key, counts, limits}``; ``GET /accounts[/{id}]``,
  ``DELETE /accounts/{id}`` (not the demo)
- ``POST /accounts/{id}/roll_key``: a new secret key, the old one expires
- ``GET|PUT /accounts/{id}/limits`` ``{read_per_second, write_per_second}``
- ``GET|DELETE /accounts/{id}/stats``: requests ``by_status`` and ``by_path``, 429s in ``throttled``
- ``POST /accounts/{id}/customers`` ``{name, email, …, created?}``; ``POST /accounts/{id}/customers/{cus}``
  (update); ``POST /accounts/{id}/payments`` ``{amount, currency, customer?, description?, created?}``;
  ``POST /accounts/{id}/refunds`` ``{charge, amount?, reason?}``; ``POST /accounts/{id}/invoices/paid``
  ``{customer, amount, currency}``: each records Stripe's events and delivers them as webhooks
- ``POST /accounts/{id}/webhook_endpoints`` ``{url, enabled_events?, secret?}`` → ``{id, secret, …}``;
  ``GET|DELETE /webhook_endpoints/{id}``: queue and delivery log
- ``POST|GET|DELETE /faults`` ``{kind, realm?, path_contains?, times, …}``: injected faults; ``realm``
  matches the account id the request's key belongs to

The demo account (``SANDBOX_STRIPE_DEMO_ACCOUNT_ID`` with key ``SANDBOX_STRIPE_DEMO_SECRET_KEY``) is
seeded at start from fixed settings, so it is identical after a restart.
"""

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.stripe.admin_api import admin_router
from connectors.sandbox.stripe.api import data_router
from connectors.sandbox.stripe.errors import StripeError
from connectors.sandbox.stripe.gateway import StripeGateway
from connectors.sandbox.stripe.state import StripeState

MOUNT_PATH = "/stripe"


def build_stripe_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, StripeState]:
    state = StripeState(settings, clock)
    api = FastAPI(
        title="Stripe sandbox",
        description="Emulates the Stripe API v1 (customers, charges, payment intents, refunds, events) and "
        "signed webhooks. Paths under /_sandbox are the sandbox's own admin API, not Stripe.",
    )
    api.include_router(admin_router(state), prefix="/_sandbox")
    api.include_router(data_router(state))

    @api.exception_handler(StripeError)
    async def stripe_error(_: Request, error: StripeError) -> Response:
        return Response(error.body(), error.status, error.headers, media_type="application/json")

    return StripeGateway(api, state), state
