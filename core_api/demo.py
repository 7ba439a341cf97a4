"""The demo firm `make run` creates: an admin user and QuickBooks and Xero connections to the sandbox, a
staff member (`demo.staff@firmsync.example`) whose Google Calendar is the sandbox's demo Google user and
whose Microsoft 365 calendar is the sandbox's demo Microsoft user, the sandbox's demo Salesforce org — the
https ones over the sandbox's TLS port with its CA bundle from settings — a Slack connection to the
sandbox's demo workspace posting notifications to #firmsync-alerts, and the sandbox's demo Stripe account
(its webhooks point at this API). When `make run` started its directory server (slapd playing Active
Directory), the firm's members are provisioned from its demo domain too.

The sandbox's demo books overlap on purpose (its first 20 Xero contacts are the first 20 active
QuickBooks customers): synced, they become 20 clients with two external references each.

Idempotent: a second `make run` finds the firm and leaves it (and its synced data) alone.
"""

from __future__ import annotations

import logging
import uuid

import httpx
from sqlalchemy import select

from core_api.connections.repository import ConnectionRepository
from core_api.connections.secrets import seal_credentials
from core_api.db import owner_engine, session_factory, tenant_session
from core_api.models import Connection, Firm, Membership, User
from core_api.security.passwords import hash_password
from core_api.settings import Settings
from core_api.tenancy import Role, issue_tenant_context

log = logging.getLogger(__name__)
DEMO_SLUG = "demo"
DEMO_REALM = "9130357766920001"
DEMO_XERO_TENANT = "8f0d3c1e-5a7b-4c2d-9e61-2b4a6c8d0e1f"  # the sandbox's SANDBOX_XERO_DEMO_TENANT_ID
DEMO_STAFF_EMAIL = "demo.staff@firmsync.example"  # the sandbox's SANDBOX_GOOGLE_DEMO_EMAIL
DEMO_SALESFORCE_ORG = "00D5g00000FIRMSYNC"  # the sandbox's SANDBOX_SALESFORCE_DEMO_ORG_ID
DEMO_SLACK_TEAM = "T0FIRMSYNC1"  # the sandbox's SANDBOX_SLACK_DEMO_TEAM_ID
DEMO_SLACK_CHANNEL = "firmsync-alerts"  # one of its SANDBOX_SLACK_DEMO_CHANNELS
# The sandbox's SANDBOX_MICROSOFT_DEMO_TENANT_ID and _DEMO_USER_ID (its UPN is the staff address).
DEMO_MICROSOFT_TENANT = "b7c1e2f3-4a5d-4e6f-8a9b-0c1d2e3f4a5b"
DEMO_MICROSOFT_USER = "0e5a9c3d-7b21-4f8e-a6d4-3c2b1a0f9e8d"
DEMO_STRIPE_ACCOUNT = "acct_1FirmsyncDemo0001"  # the sandbox's SANDBOX_STRIPE_DEMO_ACCOUNT_ID


def seed_demo(settings: Settings, *, sandbox_url: str) -> uuid.UUID:
    factory = session_factory(owner_engine())
    with factory() as session, session.begin():
        user = session.scalar(select(User).where(User.email == settings.demo_email.lower()))
        if user is None:
            user = User(
                email=settings.demo_email.lower(),
                password_hash=hash_password(settings.demo_password.get_secret_value()),
                full_name="Demo Admin",
            )
            session.add(user)
            session.flush()
        user_id = user.id
        staff = session.scalar(select(User).where(User.email == DEMO_STAFF_EMAIL))
        if staff is None:
            # Signs in with the demo password too; its calendar is the sandbox's demo Google user.
            staff = User(
                email=DEMO_STAFF_EMAIL,
                password_hash=hash_password(settings.demo_password.get_secret_value()),
                full_name="Demo Staff",
            )
            session.add(staff)
            session.flush()
        staff_id = staff.id
        firm_id = session.execute(
            select(Firm.id).where(Firm.slug == DEMO_SLUG).execution_options(populate_existing=True)
        ).scalar()

    tenant = issue_tenant_context(firm_id or uuid.uuid4(), Role.firm_admin, user_id)
    with tenant_session(tenant, factory) as session:
        if firm_id is None:
            session.add(Firm(id=tenant.firm_id, name="Demo Accounting LLP", slug=DEMO_SLUG, currency="USD"))
            session.flush()
            session.add(Membership(firm_id=tenant.firm_id, user_id=user_id, role=Role.firm_admin))
        if not session.scalar(
            select(Membership.id).where(Membership.firm_id == tenant.firm_id, Membership.user_id == staff_id)
        ):
            session.add(Membership(firm_id=tenant.firm_id, user_id=staff_id, role=Role.staff))
            session.flush()
        repo = ConnectionRepository(session, tenant)
        if repo.find_account("quickbooks", DEMO_REALM) is None:
            _connect_quickbooks(session, repo, sandbox_url)
        if repo.find_account("xero", DEMO_XERO_TENANT) is None:
            _connect_xero(session, repo, sandbox_url)
        if repo.find_account("google_calendar", DEMO_STAFF_EMAIL) is None:
            _connect_google_calendar(session, repo, sandbox_url)
        if repo.find_account("salesforce", DEMO_SALESFORCE_ORG) is None:
            _connect_salesforce(session, repo, settings, sandbox_url)
        if repo.find_account("slack", DEMO_SLACK_TEAM) is None:
            _connect_slack(session, repo, sandbox_url)
        if repo.find_account("microsoft_calendar", DEMO_STAFF_EMAIL) is None:
            _connect_microsoft_calendar(session, repo, sandbox_url, settings)
        if repo.find_account("stripe", DEMO_STRIPE_ACCOUNT) is None:
            _connect_stripe(session, repo, sandbox_url, settings)
        if (
            settings.demo_directory
            and repo.find_account("active_directory", _directory_account(settings)) is None
        ):
            _connect_active_directory(repo, settings)
    return tenant.firm_id


def _connect_quickbooks(session, repo: ConnectionRepository, sandbox_url: str) -> None:
    from connectors import registry

    spec = registry.get_connector("quickbooks")
    base = f"{sandbox_url.rstrip('/')}/quickbooks"
    grant = httpx.post(f"{base}/_sandbox/realms/{DEMO_REALM}/grant", timeout=10).raise_for_status().json()
    config = spec.config_model.model_validate(
        {
            "realm_id": DEMO_REALM,
            "environment": "sandbox",
            "api_base_url": base,
            "discovery_url": f"{base}/.well-known/openid_sandbox_configuration",
            "client_id": grant["client_id"],
        }
    )
    credentials = spec.credentials_model.model_validate(
        {"client_secret": grant["client_secret"], "refresh_token": grant["refresh_token"]}
    )
    connection = Connection(
        provider="quickbooks",
        account_id=DEMO_REALM,
        display_name="QuickBooks (sandbox)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo QuickBooks connection created for realm %s", DEMO_REALM)


def _connect_xero(session, repo: ConnectionRepository, sandbox_url: str) -> None:
    from connectors import registry

    spec = registry.get_connector("xero")
    base = f"{sandbox_url.rstrip('/')}/xero"
    grant = (
        httpx.post(f"{base}/_sandbox/tenants/{DEMO_XERO_TENANT}/grant", json={}, timeout=10)
        .raise_for_status()
        .json()
    )
    config = spec.config_model.model_validate(
        {
            "tenant_id": DEMO_XERO_TENANT,
            "client_id": grant["client_id"],
            "accounting_url": f"{base}/api.xro/2.0",
            "connections_url": f"{base}/connections",
            "authorize_url": f"{base}/identity/connect/authorize",
            "token_url": f"{base}/identity/connect/token",
            "revocation_url": f"{base}/identity/connect/revocation",
        }
    )
    credentials = spec.credentials_model.model_validate(
        {"client_secret": grant["client_secret"], "refresh_token": grant["refresh_token"]}
    )
    connection = Connection(
        provider="xero",
        account_id=DEMO_XERO_TENANT,
        display_name="Xero (sandbox)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo Xero connection created for tenant %s", DEMO_XERO_TENANT)


def _connect_google_calendar(session, repo: ConnectionRepository, sandbox_url: str) -> None:
    """The demo staff member's calendar: the sandbox's demo Google user, consented without a browser."""
    from connectors import registry

    spec = registry.get_connector("google_calendar")
    base = f"{sandbox_url.rstrip('/')}/google"
    grant = (
        httpx.post(f"{base}/_sandbox/accounts/{DEMO_STAFF_EMAIL}/consent", json={}, timeout=10)
        .raise_for_status()
        .json()
    )
    config = spec.config_model.model_validate(
        {
            "client_id": grant["client_id"],
            "account_email": DEMO_STAFF_EMAIL,
            "api_endpoint": f"{base}/calendar/v3/",
            "authorize_url": f"{base}/o/oauth2/v2/auth",
            "token_url": f"{base}/token",
            "revocation_url": f"{base}/revoke",
        }
    )
    credentials = spec.credentials_model.model_validate(
        {"client_secret": grant["client_secret"], "refresh_token": grant["refresh_token"]}
    )
    connection = Connection(
        provider="google_calendar",
        account_id=DEMO_STAFF_EMAIL,
        display_name="Google Calendar (sandbox demo staff)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo Google Calendar connection created for %s", DEMO_STAFF_EMAIL)


def _connect_salesforce(session, repo: ConnectionRepository, settings: Settings, sandbox_url: str) -> None:
    """The sandbox's demo Salesforce org, over https (simple-salesforce insists) trusted through the sandbox's
    CA bundle from settings; without one (no TLS sandbox) the demo firm has no Salesforce connection."""
    from connectors import registry

    if not settings.sandbox_ca_bundle:
        log.info("no FIRMSYNC_SANDBOX_CA_BUNDLE: the demo firm is not connected to Salesforce")
        return
    spec = registry.get_connector("salesforce")
    admin = f"{sandbox_url.rstrip('/')}/salesforce/_sandbox"
    grant = httpx.post(f"{admin}/orgs/{DEMO_SALESFORCE_ORG}/consent", timeout=10).raise_for_status().json()
    config = spec.config_model.model_validate(
        {
            "org_id": DEMO_SALESFORCE_ORG,
            "instance_url": grant["instance_url"],
            "login_url": f"{settings.sandbox_tls_url.rstrip('/')}/salesforce",
            "client_id": grant["client_id"],
            "ca_bundle": settings.sandbox_ca_bundle,
        }
    )
    credentials = spec.credentials_model.model_validate(
        {"client_secret": grant["client_secret"], "refresh_token": grant["refresh_token"]}
    )
    connection = Connection(
        provider="salesforce",
        account_id=DEMO_SALESFORCE_ORG,
        display_name="Salesforce (sandbox demo org)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo Salesforce connection created for org %s", DEMO_SALESFORCE_ORG)


def _connect_slack(session, repo: ConnectionRepository, sandbox_url: str) -> None:
    """The sandbox's demo workspace with its demo bot token (the same after every sandbox restart, unlike
    tokens its admin API issues: a second `make run` keeps a working connection), its signing secret, and
    #firmsync-alerts for notifications (every event on)."""
    from connectors import registry
    from connectors.sandbox.settings import SandboxSettings

    spec = registry.get_connector("slack")
    base = f"{sandbox_url.rstrip('/')}/slack"
    workspace = (
        httpx.get(f"{base}/_sandbox/workspaces/{DEMO_SLACK_TEAM}", timeout=10).raise_for_status().json()
    )
    config = spec.config_model.model_validate(
        {
            "team_id": DEMO_SLACK_TEAM,
            "app_id": workspace["app_id"],
            "api_base_url": f"{base}/api",
            "channel": DEMO_SLACK_CHANNEL,
        }
    )
    credentials = spec.credentials_model.model_validate(
        {"signing_secret": workspace["signing_secret"], "bot_token": SandboxSettings().slack_demo_bot_token}
    )
    connection = Connection(
        provider="slack",
        account_id=DEMO_SLACK_TEAM,
        display_name="Slack (sandbox demo workspace)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo Slack connection created for workspace %s", DEMO_SLACK_TEAM)


def _connect_microsoft_calendar(
    session, repo: ConnectionRepository, sandbox_url: str, settings: Settings
) -> None:
    """The demo staff member's Outlook calendar: the sandbox's demo Microsoft user, over https (msal insists),
    trusted through the sandbox's CA file — never with verification off. Skipped without that file."""
    from connectors import registry

    if not settings.sandbox_ca_bundle:
        log.warning("no FIRMSYNC_SANDBOX_CA_BUNDLE: the demo Microsoft 365 calendar is not connected")
        return
    spec = registry.get_connector("microsoft_calendar")
    admin = f"{sandbox_url.rstrip('/')}/microsoft/_sandbox"
    grant = httpx.post(f"{admin}/users/{DEMO_MICROSOFT_USER}/consent", timeout=10).raise_for_status().json()
    base = f"{settings.sandbox_tls_url.rstrip('/')}/microsoft"
    config = spec.config_model.model_validate(
        {
            "client_id": grant["client_id"],
            "tenant_id": DEMO_MICROSOFT_TENANT,
            "account_email": DEMO_STAFF_EMAIL,
            "authority_host": base,
            "instance_discovery": False,  # a host Microsoft's discovery cannot vouch for
            "graph_url": f"{base}/v1.0",
            "ca_bundle": settings.sandbox_ca_bundle,
        }
    )
    credentials = spec.credentials_model.model_validate(
        {"client_secret": grant["client_secret"], "refresh_token": grant["refresh_token"]}
    )
    connection = Connection(
        provider="microsoft_calendar",
        account_id=DEMO_STAFF_EMAIL,
        display_name="Microsoft 365 Calendar (sandbox demo staff)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo Microsoft 365 calendar connection created for %s", DEMO_STAFF_EMAIL)


def _connect_stripe(session, repo: ConnectionRepository, sandbox_url: str, settings: Settings) -> None:
    """The sandbox's demo Stripe account (its fixed test key, read from the sandbox's admin API), and a
    webhook endpoint there that signs its deliveries to this connection's URL with a new secret."""
    import secrets

    from connectors import registry

    spec = registry.get_connector("stripe")
    base = f"{sandbox_url.rstrip('/')}/stripe"
    account = (
        httpx.get(f"{base}/_sandbox/accounts/{DEMO_STRIPE_ACCOUNT}", timeout=10).raise_for_status().json()
    )
    signing_secret = "whsec_" + secrets.token_urlsafe(24)
    config = spec.config_model.model_validate(
        {"account_id": DEMO_STRIPE_ACCOUNT, "api_base_url": base, "account_label": account["name"]}
    )
    credentials = spec.credentials_model.model_validate(
        {"api_key": account["secret_key"], "webhook_signing_secret": signing_secret}
    )
    connection = Connection(
        provider="stripe",
        account_id=DEMO_STRIPE_ACCOUNT,
        display_name="Stripe (sandbox)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    session.flush()
    api = (settings.webhook_public_base_url or settings.app_url).rstrip("/")
    httpx.post(
        f"{base}/_sandbox/accounts/{DEMO_STRIPE_ACCOUNT}/webhook_endpoints",
        json={"url": f"{api}/webhooks/stripe/{connection.id}", "secret": signing_secret},
        timeout=10,
    ).raise_for_status()
    log.info("demo Stripe connection created for account %s", DEMO_STRIPE_ACCOUNT)


def _directory_account(settings: Settings) -> str:
    from connectors import registry

    spec = registry.get_connector("active_directory")
    return spec.account_id(spec.config_model.model_validate(settings.demo_directory["config"]))


def _connect_active_directory(repo: ConnectionRepository, settings: Settings) -> None:
    """The demo domain `make run` serves with slapd (deploy/local/directory_server.py), over LDAPS verified
    against its CA; its mapped groups make the firm's partner, manager, staff and billing members."""
    from connectors import registry

    spec = registry.get_connector("active_directory")
    config = spec.config_model.model_validate(settings.demo_directory["config"])
    credentials = spec.credentials_model.model_validate(settings.demo_directory["credentials"])
    connection = Connection(
        provider="active_directory",
        account_id=spec.account_id(config),
        display_name="Active Directory (demo domain)",
        config=config.model_dump(mode="json"),
    )
    seal_credentials(connection, credentials)
    repo.add(connection)
    log.info("demo Active Directory connection created for %s", connection.account_id)
