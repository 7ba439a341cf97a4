"""Intuit webhooks: data-change events queued by every write and delivered in the background.

As Intuit documents them (developer.intuit.com .../develop/webhooks and its best practices):
- a notification carries one company's events, batched; the body is signed with the app's verifier
  token: header ``intuit-signature`` = base64(HMAC-SHA256(verifier token, raw body));
- the endpoint must answer 2xx within 3 seconds, else the batch is retried after 10 s, 20 s, 30 s, 5 min,
  20 min, 2 h, 4 h, 6 h and every 6 h after that, and later events wait until it is acknowledged.

Two payload formats. ``classic``:
``{"eventNotifications":[{"realmId","dataChangeEvent":{"entities":[{"name","id","operation","lastUpdated"}]}}]}``;
``cloudevents``, the format Intuit moved every app to in 2026: a JSON array of CloudEvents 1.0 objects,
``{"specversion","id","source","type":"qbo.invoice.updated.v1","datacontenttype","time","intuitentityid",
"intuitaccountid","data"}``. Subscriptions choose; ``classic`` is the default here.

Subscriptions are registered per company through the admin API (Intuit configures one endpoint per app).
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

WebhookFormat = Literal["classic", "cloudevents"]
PAST_TENSE = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
}
DELIVERY_LOG_SIZE = 200


def sign(verifier_token: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _utc(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Event:
    name: str
    id: str
    operation: str
    at: float  # epoch seconds of the change (the object's LastUpdatedTime, or when it was deleted)


@dataclass
class Subscription:
    id: str
    realm_id: str
    url: str
    verifier_token: str
    entities: frozenset[str] | None
    format: WebhookFormat
    pending: list[Event] = field(default_factory=list)
    pending_since: float = 0.0  # monotonic time the oldest pending event was queued
    in_flight: bytes | None = None  # the batch being delivered (resent byte for byte until acknowledged)
    in_flight_count: int = 0
    attempts: int = 0
    next_attempt: float = 0.0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "realm_id": self.realm_id,
            "url": self.url,
            "entities": sorted(self.entities) if self.entities is not None else None,
            "format": self.format,
            "pending_events": len(self.pending) + self.in_flight_count,
            "failed_attempts": self.attempts,
        }


class WebhookHub:
    """Holds subscriptions and delivers their events from one background thread."""

    def __init__(
        self,
        source: str,
        batch_seconds: float,
        timeout_seconds: float,
        retry_seconds: tuple[float, ...],
        max_entities: int,
    ) -> None:
        self._source = source
        self._batch = batch_seconds
        self._timeout = timeout_seconds
        self._retry = retry_seconds or (21_600.0,)
        self._max_entities = max_entities
        self._cond = threading.Condition()
        self._subscriptions: dict[str, Subscription] = {}
        self._deliveries: dict[str, deque[dict[str, Any]]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- subscriptions (admin API) ----------------------------------------------------------------

    def subscribe(
        self,
        realm_id: str,
        url: str,
        verifier_token: str,
        entities: list[str] | None = None,
        format: WebhookFormat = "classic",
    ) -> Subscription:
        subscription = Subscription(
            id=secrets.token_hex(8),
            realm_id=realm_id,
            url=url,
            verifier_token=verifier_token,
            entities=frozenset(entities) if entities is not None else None,
            format=format,
        )
        with self._cond:
            self._subscriptions[subscription.id] = subscription
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qbo-webhooks", daemon=True)
                self._thread.start()
        return subscription

    def unsubscribe(self, realm_id: str, subscription_id: str) -> bool:
        with self._cond:
            subscription = self._subscriptions.get(subscription_id)
            if subscription is None or subscription.realm_id != realm_id:
                return False
            del self._subscriptions[subscription_id]
            return True

    def subscriptions(self, realm_id: str) -> list[dict[str, Any]]:
        with self._cond:
            return [s.describe() for s in self._subscriptions.values() if s.realm_id == realm_id]

    def deliveries(self, realm_id: str) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._deliveries.get(realm_id, ()))

    def forget_realm(self, realm_id: str) -> None:
        with self._cond:
            for subscription_id in [k for k, s in self._subscriptions.items() if s.realm_id == realm_id]:
                del self._subscriptions[subscription_id]
            self._deliveries.pop(realm_id, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- events -------------------------------------------------------------------------------------

    def publish(self, realm_id: str, entity: str, entity_id: str, operation: str, at: float) -> None:
        """Queue one data-change event for every subscription of the company that wants the entity."""
        event = Event(entity, entity_id, operation, at)
        with self._cond:
            queued = False
            for subscription in self._subscriptions.values():
                if subscription.realm_id != realm_id:
                    continue
                if subscription.entities is not None and entity not in subscription.entities:
                    continue
                if not subscription.pending:
                    subscription.pending_since = time.monotonic()
                subscription.pending.append(event)
                queued = True
            if queued:
                self._cond.notify_all()

    def payload(self, subscription: Subscription, events: list[Event]) -> bytes:
        if subscription.format == "cloudevents":
            body: Any = [
                {
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": self._source,
                    "type": f"qbo.{event.name.lower()}.{PAST_TENSE.get(event.operation, 'updated')}.v1",
                    "datacontenttype": "application/json",
                    "time": _utc(event.at),
                    "intuitentityid": event.id,
                    "intuitaccountid": subscription.realm_id,
                    "data": {},
                }
                for event in events
            ]
        else:
            entities = [
                {"name": e.name, "id": e.id, "operation": e.operation, "lastUpdated": _utc(e.at)}
                for e in events
            ]
            body = {
                "eventNotifications": [
                    {"realmId": subscription.realm_id, "dataChangeEvent": {"entities": entities}}
                ]
            }
        return json.dumps(body, separators=(",", ":")).encode()

    # -- delivery -----------------------------------------------------------------------------------

    def _due(self, now: float) -> tuple[list[Subscription], float | None]:
        due, next_time = [], None
        for subscription in self._subscriptions.values():
            if subscription.in_flight is not None:
                at = subscription.next_attempt
            elif subscription.pending:
                at = subscription.pending_since + self._batch
            else:
                continue
            if at <= now:
                due.append(subscription)
            elif next_time is None or at < next_time:
                next_time = at
        return due, next_time

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while True:
                with self._cond:
                    if self._closed:
                        return
                    due, next_time = self._due(time.monotonic())
                    if not due:
                        self._cond.wait(None if next_time is None else max(0.0, next_time - time.monotonic()))
                        continue
                    for subscription in due:
                        if subscription.in_flight is None:
                            batch = subscription.pending[: self._max_entities]
                            subscription.pending = subscription.pending[self._max_entities :]
                            subscription.pending_since = time.monotonic()
                            subscription.in_flight = self.payload(subscription, batch)
                            subscription.in_flight_count = len(batch)
                    work = [(s, s.in_flight, s.in_flight_count) for s in due]
                for subscription, body, count in work:
                    self._deliver(client, subscription, body, count)  # type: ignore[arg-type]

    def _deliver(self, client: httpx.Client, subscription: Subscription, body: bytes, count: int) -> None:
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": sign(subscription.verifier_token, body),
            "intuit-t-id": str(uuid.uuid4()),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = client.post(subscription.url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        with self._cond:
            attempt = subscription.attempts + 1
            subscription.attempts = 0 if ok else attempt
            record = {
                "subscription_id": subscription.id,
                "url": subscription.url,
                "at": _utc(time.time()),
                "attempt": attempt,
                "status": status,
                "error": error,
                "delivered": ok,
                "entities": count,
                "body": body.decode(),
            }
            self._deliveries.setdefault(subscription.realm_id, deque(maxlen=DELIVERY_LOG_SIZE)).append(record)
            if ok:
                subscription.in_flight, subscription.in_flight_count = None, 0
            else:
                delay = self._retry[min(subscription.attempts, len(self._retry)) - 1]
                subscription.next_attempt = time.monotonic() + delay
