"""Queueing a notification for the firm's Slack: an outbox row (entity `notification`) written in the
caller's transaction, so it exists exactly when the fact it tells of commits (ADR 0014).

`app.queue_notification` (migration 0015) decides who hears of it: every live, active Slack connection of
the firm whose `config.notify.<event>` is not false. The pipelines deliver the rows
(`pipelines/slack_delivery.py`). Invoice payments are queued by a trigger on `app.invoices` through the
same function.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

# The events a firm can turn on or off (`connectors.slack.config.SlackNotifications`).
SYNC_FAILED = "sync_failed"
SYNC_RECOVERED = "sync_recovered"
NEW_LEAD = "new_lead"
INVOICE_PAID = "invoice_paid"
EVENTS = (SYNC_FAILED, SYNC_RECOVERED, NEW_LEAD, INVOICE_PAID)
MAX_TEXT = 3000  # Slack truncates a message's text beyond 40,000 characters; ours stay short

_QUEUE = text("select app.queue_notification(:firm, :event, :entity, :text)")


def queue_notification(
    session: Session, firm_id: uuid.UUID, event: str, entity_id: uuid.UUID, message: str
) -> int:
    """Queue `message` for the firm's Slack connections that want `event`; returns how many rows."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    return int(
        session.execute(
            _QUEUE, {"firm": firm_id, "event": event, "entity": entity_id, "text": message[:MAX_TEXT]}
        ).scalar()
        or 0
    )


def escape(value: str) -> str:
    """Slack's three control characters in text the firm or a vendor wrote (names, errors)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
