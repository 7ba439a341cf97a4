"""Xero Accounting API 2.0, Xero Identity (OAuth 2.0) and Connections emulator, mounted at ``/xero``.

Client configuration (HOST:PORT is where the sandbox listens; nothing else changes in a connector):

- Accounting API base (xero-python ``AccountingApi(api_client, base_url=…)``; real
  ``https://api.xero.com/api.xro/2.0``): ``http://HOST:PORT/xero/api.xro/2.0``
- Connections (xero-python ``IdentityApi(api_client, base_url=…)``; real ``https://api.xero.com``):
  base ``http://HOST:PORT/xero`` → ``GET /xero/connections`` (or ``/xero/Connections``),
  ``DELETE /xero/connections/{id}``
- Authorize (real ``https://login.xero.com/identity/connect/authorize``):
  ``http://HOST:PORT/xero/identity/connect/authorize``
- Token (xero-python ``TokenApi.refresh_token_url``; real ``https://identity.xero.com/connect/token``):
  ``http://HOST:PORT/xero/identity/connect/token``
- Revocation (``TokenApi.revoke_token_url``; real ``https://identity.xero.com/connect/revocation``):
  ``http://HOST:PORT/xero/identity/connect/revocation``
- OpenID discovery: ``http://HOST:PORT/xero/identity/.well-known/openid-configuration`` (JWKS at
  ``…/openid-configuration/jwks``, user info at ``/xero/identity/connect/userinfo``)
- Admin API (not Xero): ``http://HOST:PORT/xero/_sandbox/…``

The one OAuth app is ``SANDBOX_XERO_CLIENT_ID`` / ``SANDBOX_XERO_CLIENT_SECRET``. Accounting requests
need ``Authorization: Bearer <access token>`` (else 401) and ``xero-tenant-id`` naming a tenant the
token's consent is connected to (else 403). Collections: Contacts, Invoices (with LineItems; ACCREC
and ACCPAY), CreditNotes, Payments (against an invoice or a credit note), Items, Accounts, and
Organisation. See ``data_api`` for list/get/write semantics, ``limits`` for the rate limits,
``tokens`` for token lifetimes and the refresh grace rule, ``webhooks`` for deliveries and signing.

Admin API, ``/xero/_sandbox`` (no auth):

- ``POST /tenants`` ``{name?, contacts, items, invoices, credit_notes, seed, anchor?}``: a new seeded
  organisation → ``{tenant_id, name, counts, client_id, client_secret, access_token, refresh_token,
  expires_in, token_type, scope, authentication_event_id, connections}``
- ``GET /tenants``; ``DELETE /tenants/{id}`` forgets one (not the demo)
- ``POST /tenants/{id}/grant`` ``{scope?}``: tokens for an existing organisation, as after consent
- ``POST /tenants/{id}/revoke``: revoke every consent covering it so far
- ``GET|PUT /tenants/{id}/limits`` ``{minute_limit, day_limit, concurrent_limit, time_scale,
  access_token_ttl_seconds, latency_seconds}``; ``GET|PUT /app/limits`` ``{app_minute_limit}``
- ``GET|DELETE /tenants/{id}/stats``: requests ``by_status`` and ``by_path``, 429s by limit in
  ``throttled``
- ``POST /tenants/{id}/contacts/bulk`` ``{count, seed}``; ``POST /tenants/{id}/invoices/bulk``
  ``{count, seed, paid_share}``: records written now (benchmarks of 100k)
- ``POST /tenants/{id}/touch`` ``{contacts, invoices, seed, spread_seconds}``: edits stamped evenly
  over the span before now
- ``GET|PUT /consent`` ``{tenant_ids}``: which tenants the authorize endpoint grants (null: all)
- ``POST /webhooks`` ``{url, webhook_key?, tenant_ids?, intent_to_receive_passed?}``,
  ``GET /webhooks[/{id}]``, ``DELETE /webhooks/{id}``: subscriptions with status, queue and log
- ``POST /webhooks/{id}/intent-to-receive``: Xero's check, a correctly and a wrongly signed empty
  batch; passes on 200 then 401
- ``POST|GET|DELETE /faults`` ``{kind, realm?, path_contains?, times, …}``: injected faults; ``realm``
  matches the ``xero-tenant-id`` header

The demo organisation (``SANDBOX_XERO_DEMO_TENANT_ID``, "Demo Company (US)") is seeded at start from
fixed settings, so it is identical after a restart. Its first ``SANDBOX_XERO_DEMO_SHARED_CONTACTS``
contacts are the first active customers of the QuickBooks demo company (same names, e-mails, phones
and addresses; see ``seed.qbo_demo_parties``).
"""

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.xero.admin_api import admin_router
from connectors.sandbox.xero.data_api import data_router
from connectors.sandbox.xero.errors import XeroError
from connectors.sandbox.xero.gateway import XeroGateway
from connectors.sandbox.xero.oauth import oauth_router
from connectors.sandbox.xero.state import XeroState

MOUNT_PATH = "/xero"


def build_xero_app(settings: SandboxSettings, clock: Clock) -> tuple[ASGIApp, XeroState]:
    state = XeroState(settings, clock)
    api = FastAPI(
        title="Xero sandbox",
        description="Emulates the Xero Accounting API 2.0, Xero Identity (OAuth 2.0) and Connections. "
        "Paths under /_sandbox are the sandbox's own admin API, not Xero.",
    )
    api.include_router(oauth_router(state))
    api.include_router(data_router(state))
    api.include_router(admin_router(state), prefix="/_sandbox")

    @api.exception_handler(XeroError)
    async def xero_error(_: Request, error: XeroError) -> Response:
        return Response(error.body(), error.status, error.headers, media_type=error.content_type)

    return XeroGateway(api, state), state
