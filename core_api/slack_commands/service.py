"""`/firmsync` slash commands from Slack: verify, find the firm by its workspace, answer (ADR 0014).

Order of operations (the router has already capped the body's size):
1. The signature (`X-Slack-Signature` over `v0:{timestamp}:{raw body}`) and the timestamp's replay window
   (`FIRMSYNC_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS`) are checked before anything is answered or read for
   the firm. The keys: the platform Slack app's signing secret (settings, no database), else the signing
   secrets of the live Slack connections of the workspace the *unverified* body names, found through
   the narrow `app.webhook_target` definer function as the webhook intake does (the body is trusted for
   nothing else). None verifies → 401, nothing read.
2. The firm: the one whose Slack connection is for the signed `team_id` (its signing secret verified, or
   the app's did). No such connection → a polite ephemeral answer; a workspace linked to several firms
   is refused the same way rather than guessing.
3. The answer: `status` lists that firm's connections only (tenant session, RLS); anything else → help.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.slack.config import SlackApp
from connectors.slack.signature import SlashCommand, verify_slash_command
from connectors.slack.status import ConnectionStatus, format_status
from connectors.webhooks import SignatureError
from core_api.connections.repository import ConnectionRepository
from core_api.db import bind_tenant
from core_api.security.secrets_box import secrets_box
from core_api.settings import Settings
from core_api.webhooks.repository import WebhookTarget, find_targets
from core_api.webhooks.service import issue_webhook_tenant, unauthorized

log = logging.getLogger(__name__)
PROVIDER = "slack"
MAX_LISTED = 200  # format_status shows 46 and counts the rest

HELP = (
    "*firmsync* commands:\n"
    "• `/firmsync status`: this firm's integrations, their last sync and last error\n"
    "• `/firmsync help`: this message"
)
NOT_CONNECTED = (
    "This Slack workspace is not connected to a firmsync firm yet. A firm admin can connect it under "
    "Integrations → Slack in firmsync; then `/firmsync status` shows the firm's integrations here."
)
AMBIGUOUS = (
    "This Slack workspace is connected to more than one firmsync firm, so firmsync cannot tell whose "
    "status to show. Ask a firm admin to keep one connection to this workspace."
)


@dataclass(frozen=True)
class _Verified:
    command: SlashCommand
    targets: list[WebhookTarget]  # connections of the signed workspace whose firm may answer


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


def _team_hint(body: bytes) -> str | None:
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return fields.get("team_id") or None


def _app_secret(settings: Settings) -> str | None:
    app = settings.oauth_apps.get(PROVIDER)
    if app is None:
        return None
    try:
        return SlackApp.model_validate(
            {**app.config, "client_id": app.client_id}
        ).signing_secret.get_secret_value()
    except ValueError:
        return None


def _connection_secret(target: WebhookTarget) -> str | None:
    try:
        secret = secrets_box().open(target.credentials_encrypted).get("signing_secret")
    except ValueError:
        log.warning("slash command: connection %s credentials cannot be decrypted", target.connection_id)
        return None
    return str(secret) if secret else None


def verify(
    sessions: sessionmaker[Session],
    settings: Settings,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: Callable[[], float] = time.time,
) -> _Verified:
    """The verified command and the connections that may answer it, or 401 (ProblemError)."""
    tolerance = settings.webhook_timestamp_tolerance_seconds

    def check(secret: str) -> SlashCommand | None:
        try:
            return verify_slash_command(secret, headers, body, now=now(), tolerance=tolerance)
        except SignatureError as exc:
            reason[0] = str(exc)  # safe to log: never carries a secret, signature or body
            return None

    reason = ["no signing secret for this workspace"]
    app_secret = _app_secret(settings)
    command = check(app_secret) if app_secret else None
    team = command.team_id if command else _team_hint(body)
    targets: list[WebhookTarget] = []
    if team:
        with sessions() as session:
            try:
                targets = find_targets(session, PROVIDER, connection_id=None, account_ids=(team,))
            finally:
                session.rollback()
    if command is None:
        # Not the app's signature: each of the workspace's connections may hold its own signing secret.
        for target in targets:
            secret = _connection_secret(target)
            command = check(secret) if secret else None
            if command is not None:
                targets = [t for t in targets if t.firm_id == target.firm_id]
                break
    if command is None:
        log.info("slash command rejected: %s", reason[0])
        raise unauthorized("The Slack signature is missing, invalid or too old.")
    return _Verified(command, [t for t in targets if t.account_id == command.team_id])


def answer(
    sessions: sessionmaker[Session],
    settings: Settings,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    verified = verify(sessions, settings, headers, body, now=now)
    command = verified.command
    words = command.text.strip().split()
    subcommand = words[0].lower() if words else "help"
    if subcommand != "status":
        return ephemeral(HELP if subcommand == "help" else f"Unknown command `{subcommand[:40]}`.\n{HELP}")
    firms = {t.firm_id for t in verified.targets}
    if not firms:
        return ephemeral(NOT_CONNECTED)
    if len(firms) > 1:
        return ephemeral(AMBIGUOUS)
    tenant = issue_webhook_tenant(verified.targets[0])
    with sessions() as session:
        bind_tenant(session, tenant)
        try:
            connections, _ = ConnectionRepository(session, tenant).list(
                limit=MAX_LISTED, offset=0, provider=None
            )
            records = [
                ConnectionStatus(
                    provider=c.provider,
                    display_name=c.display_name,
                    status="failing" if c.status == "active" and c.last_sync_status == "failed" else c.status,
                    last_sync_at=c.last_sync_at,
                    last_error=c.last_sync_error or c.status_detail,
                )
                for c in connections
            ]
        finally:
            session.rollback()
    log.info("slash command answered: status for team %s (%d connections)", command.team_id, len(records))
    return format_status(records)
