"""Webhook endpoints and deliveries (docs.stripe.com/webhooks).

An endpoint (registered through the admin API, as in the Dashboard or `POST /v1/webhook_endpoints`) has
a URL, the event types it wants (`["*"]`: all) and a signing secret `whsec_...`. Each event is POSTed on
its own, as pretty-printed JSON, with

    Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

("Verify webhook signatures manually", docs.stripe.com/webhooks#verify-manually). `t` is the wall-clock
time of each attempt, so a retry carries a fresh timestamp and signature. Any 2xx answer delivers the
event; otherwise it is retried after the configured delays (Stripe backs off exponentially for up to three
days). `pending_webhooks` on the event counts endpoints still owed it.
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.stripe.account import Account
from connectors.sandbox.stripe.objects import new_id

DELIVERY_LOG = 100


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24).replace("-", "a").replace("_", "b")


@dataclass
class Delivery:
    event: dict[str, Any]
    attempts: int = 0
    due: float = 0.0


@dataclass
class Endpoint:
    id: str
    account_id: str
    url: str
    secret: str
    enabled_events: tuple[str, ...]
    queue: deque[Delivery] = field(default_factory=deque)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=DELIVERY_LOG))
    delivered: int = 0
    failed: int = 0

    def wants(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "webhook_endpoint",
            "account": self.account_id,
            "url": self.url,
            "secret": self.secret,
            "enabled_events": list(self.enabled_events),
            "status": "enabled",
            "pending_events": len(self.queue),
            "delivered_events": self.delivered,
            "failed_attempts": self.failed,
            "deliveries": list(self.log),
        }


class WebhookHub:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def add(self, account: Account, url: str, enabled_events: list[str], secret: str | None) -> Endpoint:
        endpoint = Endpoint(
            new_id("we_"), account.account_id, url, secret or new_secret(), tuple(enabled_events)
        )
        with self._lock:
            self.endpoints[endpoint.id] = endpoint
        self._ensure_worker()
        return endpoint

    def remove(self, endpoint_id: str) -> bool:
        with self._lock:
            return self.endpoints.pop(endpoint_id, None) is not None

    def on_event(self, account: Account, event: dict[str, Any]) -> None:
        """Account listener: queue the event for every endpoint of the account that wants its type."""
        with self._lock:
            for endpoint in self.endpoints.values():
                if endpoint.account_id == account.account_id and endpoint.wants(event["type"]):
                    endpoint.queue.append(Delivery(event))
                    event["pending_webhooks"] += 1
            self._lock.notify_all()

    # -- delivery ----------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _next(self) -> tuple[Endpoint | None, Delivery | None, float]:
        """A delivery that is due (a retrying event does not hold back the ones queued after it)."""
        now, wait = time.monotonic(), 1.0
        for endpoint in self.endpoints.values():
            for delivery in endpoint.queue:
                if delivery.due <= now:
                    return endpoint, delivery, 0.0
                wait = min(wait, delivery.due - now)
        return None, None, wait

    def _run(self) -> None:
        with httpx.Client(timeout=self.settings.stripe_webhook_timeout_seconds) as client:
            while True:
                with self._lock:
                    endpoint, delivery, wait = self._next()
                    while delivery is None and not self._stopping:
                        self._lock.wait(timeout=wait)
                        endpoint, delivery, wait = self._next()
                    if self._stopping:
                        return
                    assert endpoint is not None and delivery is not None
                self._attempt(client, endpoint, delivery)

    def _attempt(self, client: httpx.Client, endpoint: Endpoint, delivery: Delivery) -> None:
        body = json.dumps(delivery.event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(endpoint.secret, body, int(time.time())),
        }
        try:
            outcome: int | str = client.post(endpoint.url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            outcome = f"error: {type(exc).__name__}"
        delivered = isinstance(outcome, int) and 200 <= outcome < 300
        with self._lock:
            delivery.attempts += 1
            endpoint.log.append(
                {
                    "event": delivery.event["id"],
                    "type": delivery.event["type"],
                    "attempt": delivery.attempts,
                    "outcome": outcome,
                    "at": time.time(),
                }
            )
            give_up = delivery.attempts >= self.settings.stripe_webhook_max_attempts
            if delivered or give_up:
                endpoint.queue.remove(delivery)
                delivery.event["pending_webhooks"] = max(0, delivery.event["pending_webhooks"] - 1)
                if delivered:
                    endpoint.delivered += 1
            if not delivered:
                endpoint.failed += 1
                delays = self.settings.stripe_webhook_retry_seconds
                delivery.due = time.monotonic() + delays[min(delivery.attempts - 1, len(delays) - 1)]
