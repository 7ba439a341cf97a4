"""Xero webhooks (developer.xero.com/documentation/guides/webhooks).

A subscription (registered through the admin API, as in Xero's developer portal) has a delivery URL
and a webhook key. Every contact, invoice and credit note write queues an event; a background thread
delivers them in batches::

    {"events": [{"resourceUrl", "resourceId", "eventDateUtc", "eventType", "eventCategory",
                 "tenantId", "tenantType"}], "firstEventSequence": 1, "lastEventSequence": 3,
     "entropy": "…"}

with header ``x-xero-signature`` = base64(HMAC-SHA256(webhook key, raw body)). A 2xx answer
delivers the batch; otherwise Xero retries at once, then every 15 minutes (settings) for 24 hours, then
disables the subscription; undelivered events stay queued, in order. Deliveries start once the
intent-to-receive check passed: Xero posts an empty, correctly signed payload (expects 200) and one
with a wrong signature (expects 401).
"""

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.xero.tenant import Event, Tenant
from connectors.sandbox.xero.timefmt import event_date

PENDING, OK, RETRY, DISABLED = "PENDING", "OK", "RETRY", "DISABLED"
DELIVERY_LOG = 50


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def new_webhook_key() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def payload(events: list[dict[str, Any]]) -> bytes:
    first = events[0]["_sequence"] if events else 0
    last = events[-1]["_sequence"] if events else 0
    body = {
        "events": [{k: v for k, v in e.items() if not k.startswith("_")} for e in events],
        "firstEventSequence": first,
        "lastEventSequence": last,
        "entropy": _entropy(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Subscription:
    id: str
    url: str
    key: str
    tenant_ids: frozenset[str] | None  # None: every tenant of the app, as in Xero
    status: str
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    sequence: itertools.count = field(default_factory=lambda: itertools.count(1))
    delivered: int = 0
    deliveries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=DELIVERY_LOG))
    failing_since: float | None = None
    next_attempt: float = 0.0
    first_queued: float | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "webhook_key": self.key,
            "tenant_ids": sorted(self.tenant_ids) if self.tenant_ids is not None else None,
            "status": self.status,
            "pending_events": len(self.pending),
            "delivered_events": self.delivered,
            "deliveries": list(self.deliveries),
        }


class WebhookHub:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.subscriptions: dict[str, Subscription] = {}
        self.resource_base = "https://api.xero.com/api.xro/2.0"  # replaced by the URL clients use
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- subscriptions -----------------------------------------------------------------------------

    def subscribe(
        self, url: str, key: str | None, tenant_ids: list[str] | None, validated: bool
    ) -> Subscription:
        sub = Subscription(
            id=secrets.token_hex(8),
            url=url,
            key=key or new_webhook_key(),
            tenant_ids=frozenset(t.lower() for t in tenant_ids) if tenant_ids is not None else None,
            status=OK if validated else PENDING,
        )
        with self._lock:
            self.subscriptions[sub.id] = sub
        self._ensure_worker()
        return sub

    def unsubscribe(self, sub_id: str) -> bool:
        with self._lock:
            return self.subscriptions.pop(sub_id, None) is not None

    def on_events(self, tenant: Tenant, events: list[Event]) -> None:
        """Tenant listener: queue the events for every subscription that covers the tenant."""
        if not self.subscriptions:
            return
        with self._lock:
            for sub in self.subscriptions.values():
                if sub.tenant_ids is not None and tenant.tenant_id not in sub.tenant_ids:
                    continue
                for event in events:
                    sub.pending.append(
                        {
                            "resourceUrl": f"{self.resource_base}/{event.resource}/{event.resource_id}",
                            "resourceId": event.resource_id,
                            "eventDateUtc": event_date(event.event_ms),
                            "eventType": event.event_type,
                            "eventCategory": event.category,
                            "tenantId": tenant.tenant_id,
                            "tenantType": "ORGANISATION",
                            "_sequence": next(sub.sequence),
                        }
                    )
                if sub.first_queued is None:
                    sub.first_queued = time.monotonic()
            self._lock.notify_all()

    # -- intent to receive -------------------------------------------------------------------------

    async def intent_to_receive(self, sub_id: str) -> dict[str, Any]:
        sub = self.subscriptions[sub_id]
        correct, wrong = payload([]), payload([])
        results = {}
        async with httpx.AsyncClient(timeout=self.settings.xero_webhook_timeout_seconds) as client:
            for label, body, key in (
                ("correctly_signed", correct, sub.key),
                ("wrongly_signed", wrong, new_webhook_key()),
            ):
                try:
                    response = await client.post(sub.url, content=body, headers=self._headers(key, body))
                    results[label] = response.status_code
                except httpx.HTTPError as exc:
                    results[label] = f"error: {type(exc).__name__}"
        passed = results["correctly_signed"] == 200 and results["wrongly_signed"] == 401
        with self._lock:
            if passed and sub.status == PENDING:
                sub.status = OK
                self._lock.notify_all()
        return {
            "id": sub.id,
            **{f"{k}_status": v for k, v in results.items()},
            "passed": passed,
            "status": sub.status,
        }

    # -- delivery ----------------------------------------------------------------------------------

    @staticmethod
    def _headers(key: str, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json; charset=utf-8", "x-xero-signature": sign(key, body)}

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="xero-webhooks", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _due(self) -> tuple[Subscription | None, float]:
        """The next subscription with a batch ready, or how long to wait for one."""
        now, wait = time.monotonic(), 1.0
        for sub in self.subscriptions.values():
            if sub.status not in (OK, RETRY) or not sub.pending:
                continue
            ready_at = max(
                sub.next_attempt, (sub.first_queued or now) + self.settings.xero_webhook_batch_seconds
            )
            if ready_at <= now:
                return sub, 0.0
            wait = min(wait, ready_at - now)
        return None, wait

    def _run(self) -> None:
        with httpx.Client(timeout=self.settings.xero_webhook_timeout_seconds) as client:
            while True:
                with self._lock:
                    sub, wait = self._due()
                    while sub is None and not self._stopping:
                        self._lock.wait(timeout=wait)
                        sub, wait = self._due()
                    if self._stopping:
                        return
                    assert sub is not None
                    batch = list(itertools.islice(sub.pending, self.settings.xero_webhook_max_batch))
                self._deliver(client, sub, batch)

    def _post(self, client: httpx.Client, sub: Subscription, body: bytes) -> int | str:
        try:
            return client.post(sub.url, content=body, headers=self._headers(sub.key, body)).status_code
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}"

    def _deliver(self, client: httpx.Client, sub: Subscription, batch: list[dict[str, Any]]) -> None:
        body = payload(batch)
        outcome = self._post(client, sub, body)
        if not (isinstance(outcome, int) and 200 <= outcome < 300):
            outcome = self._post(client, sub, body)  # Xero retries a failed delivery at once
        delivered = isinstance(outcome, int) and 200 <= outcome < 300
        now = time.monotonic()
        with self._lock:
            sub.deliveries.append(
                {
                    "first_event_sequence": batch[0]["_sequence"],
                    "last_event_sequence": batch[-1]["_sequence"],
                    "events": len(batch),
                    "outcome": outcome,
                    "at": time.time(),
                }
            )
            if delivered:
                for _ in batch:
                    sub.pending.popleft()
                sub.delivered += len(batch)
                sub.status, sub.failing_since, sub.next_attempt = OK, None, 0.0
                # The rest of a long queue goes out at once, not after another batching window.
                sub.first_queued = now - self.settings.xero_webhook_batch_seconds if sub.pending else None
                return
            sub.failing_since = sub.failing_since or now
            if now - sub.failing_since >= self.settings.xero_webhook_retry_for_seconds:
                sub.status = DISABLED
            else:
                sub.status = RETRY
                sub.next_attempt = now + self.settings.xero_webhook_retry_seconds
