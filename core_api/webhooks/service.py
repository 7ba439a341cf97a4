"""Webhook intake: find the connection, verify the vendor's signature with its secret, store the event.

Order of operations for `POST /webhooks/{provider}[/{connection_id}]` (the router applies the rate limit
and the size limit first):
1. Candidate connections: the one in the URL, or those of the vendor accounts the *unverified* body names
   (`app.webhook_target`, a definer function; the body is trusted for nothing else).
2. Verify the signature with each candidate's secret. None verifies → 401 and nothing is written.
   (An unsigned challenge — Graph's validationToken — is answered between 1 and 2: it carries nothing to
   verify and writes nothing.)
3. A verified handshake (Xero's intent to receive, Slack's url_verification) is answered, not stored.
4. Otherwise the event is written once per verified connection, in a tenant transaction for that
   connection's firm (`INSERT … ON CONFLICT DO NOTHING`: a redelivery gets 200 and no second row).
Nothing is applied here; the pipelines drain the inbox.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.webhooks import Reply, SignatureError, WebhookEvent, WebhookRequest, WebhookVerifier
from core_api.db import bind_tenant
from core_api.errors import NotFound, ProblemError
from core_api.security.secrets_box import secrets_box
from core_api.settings import Settings
from core_api.tenancy import Role, TenantContext, issue_tenant_context
from core_api.webhooks.repository import WebhookInboxRepository, WebhookTarget, find_targets
from core_api.webhooks.schemas import WebhookReceipt

log = logging.getLogger(__name__)

# Headers kept with every event besides each vendor's own (`WebhookVerifier.stored_headers`). An allow-list:
# signatures, authorisation, cookies and anything unknown are never stored.
STORED_HEADERS = ("content-type", "user-agent")


def issue_webhook_tenant(target: WebhookTarget) -> TenantContext:
    """The webhook intake's issuer of TenantContext: the third in ADR 0002's list, after the auth dependency
    and the pipelines' connection lookup.

    Called only after a delivery's signature verified with the secret of `target`, a live connection read
    by `app.webhook_target`: the firm comes from that stored row, never from the request. The context only
    reaches `WebhookInboxRepository`; no user acts, and the role is the least one (it gates nothing there).
    """
    return issue_tenant_context(target.firm_id, Role.readonly, None)


@dataclass(frozen=True)
class Outcome:
    """What to answer: a vendor-specific reply (handshake / required acknowledgement) or a receipt."""

    reply: Reply | None
    receipt: WebhookReceipt | None


def unauthorized(detail: str = "The webhook signature is missing or invalid.") -> ProblemError:
    return ProblemError(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Signature realm="webhooks"'}
    )


def receive(
    sessions: sessionmaker[Session],
    settings: Settings,
    verifier: WebhookVerifier,
    request: WebhookRequest,
    *,
    connection_id: uuid.UUID | None,
    now: Callable[[], float] = time.time,
) -> Outcome:
    provider = verifier.provider
    hints = () if connection_id is not None else verifier.account_hints(request)
    with sessions() as session:
        try:
            targets = find_targets(session, provider, connection_id=connection_id, account_ids=hints)
        finally:
            session.rollback()
    if not targets:
        raise NotFound(f"{provider} connection")

    challenge = verifier.challenge(request)
    if challenge is not None:
        # Unsigned by the vendor's design (Graph's validationToken): an echo that writes nothing.
        log.info("webhook challenge answered provider=%s", provider)
        return Outcome(reply=challenge, receipt=None)

    verified = [t for t in targets if _verifies(verifier, request, t, settings, now())]
    if not verified:
        raise unauthorized()

    handshake = verifier.handshake(request)
    if handshake is not None:
        log.info("webhook handshake answered provider=%s connections=%d", provider, len(verified))
        return Outcome(reply=handshake, receipt=None)

    event = _storable(verifier.parse(request), request.body)
    headers = {
        name: value
        for name in (*STORED_HEADERS, *verifier.stored_headers)
        if (value := request.header(name)) is not None
    }
    stored = False
    for target in verified:
        tenant = issue_webhook_tenant(target)
        # One transaction per connection, scoped to its firm (RLS checks the row's firm on insert).
        with sessions() as session:
            bind_tenant(session, tenant)
            stored |= WebhookInboxRepository(session, tenant).add(
                connection_id=target.connection_id,
                provider=provider,
                event_id=event.event_id,
                event_type=event.event_type,
                content_type=request.header("content-type"),
                headers=headers,
                payload=event.payload,
                raw_body=event.raw_body,
            )
            session.commit()
    log.info(
        "webhook %s provider=%s event_id=%s connections=%d",
        "stored" if stored else "duplicate",
        provider,
        event.event_id,
        len(verified),
    )
    receipt = WebhookReceipt(
        provider=provider, event_id=event.event_id, status="stored" if stored else "duplicate"
    )
    return Outcome(reply=verifier.reply, receipt=receipt)


def _verifies(
    verifier: WebhookVerifier, request: WebhookRequest, target: WebhookTarget, settings: Settings, now: float
) -> bool:
    try:
        credentials = secrets_box().open(target.credentials_encrypted)
    except ValueError:
        log.warning("webhook connection=%s: credentials cannot be decrypted", target.connection_id)
        return False
    key = verifier.key(target.config, credentials)
    if key is None:
        log.info("webhook connection=%s has no %s to verify with", target.connection_id, verifier.key_field)
        return False
    try:
        verifier.verify(request, key, now=now, tolerance=settings.webhook_timestamp_tolerance_seconds)
    except SignatureError as exc:
        # The reason is safe to log (SignatureError never carries secrets, signatures or the body).
        log.info(
            "webhook rejected provider=%s connection=%s: %s", verifier.provider, target.connection_id, exc
        )
        return False
    return True


def _storable(event: WebhookEvent, body: bytes) -> WebhookEvent:
    """PostgreSQL jsonb cannot hold NUL characters or lone surrogates, nor text a NUL: a verified JSON body
    that does is kept verbatim as text instead (NULs replaced), rather than failing the delivery."""
    payload: Any = event.payload
    if payload is not None:
        try:
            encoded = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            encoded = None
        if encoded is None or b"\\u0000" in encoded:
            payload = None
            event = WebhookEvent(event.event_id, event.event_type, None, body.decode("utf-8", "replace"))
    return WebhookEvent(
        event_id=_clean(event.event_id),
        event_type=_clean(event.event_type) if event.event_type is not None else None,
        payload=payload,
        raw_body=_clean(event.raw_body) if event.raw_body is not None else None,
    )


def _clean(text: str) -> str:
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
