"""What every webhook verifier shares: the request as received, the signing key, the verified event,
and constant-time HMAC helpers.

Pure vendor knowledge: no web framework, no database. The API hands a `WebhookRequest` (raw bytes,
lower-cased headers, the URL the vendor called) and a `WebhookKey` (the connection's signing secret) to
`verify`, and only after it returns does it call `handshake` / `parse`. Nothing read from an unverified
body may be trusted; `account_hints` exists only to choose *which* secret to verify with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

# Hints are untrusted and each one costs a database lookup and an HMAC: keep the fan-out small.
MAX_ACCOUNT_HINTS = 5


class SignatureError(Exception):
    """The request is not signed by the vendor with this key. The message is safe to log: it never
    contains the secret, the expected signature or the body."""


@dataclass(frozen=True)
class WebhookRequest:
    """One delivery as received. `url` is the URL as the vendor called it (scheme, host, path, query)."""

    url: str
    headers: Mapping[str, str]
    body: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def is_form(self) -> bool:
        return self.media_type == "application/x-www-form-urlencoded"

    def text(self) -> str | None:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def json(self) -> Any | None:
        """The body as JSON, or None when it is not JSON (never raises)."""
        text = self.text()
        if text is None or not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def form(self) -> list[tuple[str, str]] | None:
        """`application/x-www-form-urlencoded` pairs in body order, or None for other bodies."""
        if not self.is_form:
            return None
        text = self.text()
        if text is None:
            return None
        return parse_qsl(text, keep_blank_values=True)


@dataclass(frozen=True)
class WebhookKey:
    """What a connection verifies with: the signing secret and, for vendors that sign the URL
    (Square, Twilio), the exact URL registered with the vendor when the connection pins one."""

    secret: str = field(repr=False)
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """A response the vendor expects: a handshake answer, or the acknowledgement of a stored event."""

    status_code: int = 200
    body: bytes = b""
    media_type: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery, ready for the inbox. `payload` is JSON (parsed form fields for form bodies);
    `raw_body` keeps form-encoded (or non-JSON) bodies verbatim."""

    event_id: str
    event_type: str | None
    payload: Any | None
    raw_body: str | None


class WebhookVerifier(ABC):
    """One vendor's signature scheme, event ids and account names."""

    provider: ClassVar[str]
    # Credentials field (of the connection's credentials model) holding the signing secret.
    key_field: ClassVar[str]
    # Config field naming the exact URL the vendor signs, for vendors whose signature covers the URL.
    url_field: ClassVar[str | None] = None
    # Non-secret vendor headers worth keeping with the event (retry counters, environment, ...).
    stored_headers: ClassVar[tuple[str, ...]] = ()
    # What to answer once the event is stored; None lets the API answer with its own JSON.
    reply: ClassVar[Reply | None] = None

    def key(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> WebhookKey | None:
        secret = credentials.get(self.key_field)
        if not isinstance(secret, str) or not secret:
            return None
        url = config.get(self.url_field) if self.url_field else None
        return WebhookKey(secret=secret, url=url if isinstance(url, str) and url else None)

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        """Vendor accounts the *unverified* request names: only used to pick candidate secrets."""
        return ()

    @abstractmethod
    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        """Return if `request` is signed with `key`; raise SignatureError otherwise."""

    def challenge(self, request: WebhookRequest) -> Reply | None:
        """An endpoint check the vendor sends unsigned, with nothing in it to verify (Microsoft Graph's
        `validationToken`): its answer, else None. Answered before verification and never stored."""
        return None

    def handshake(self, request: WebhookRequest) -> Reply | None:
        """For a verified request: the answer to an endpoint check that is not an event, else None."""
        return None

    @abstractmethod
    def parse(self, request: WebhookRequest) -> WebhookEvent:
        """The event of a verified request."""


# --------------------------------------------------------------------------- helpers


def hmac_digest(secret: str, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode("utf-8"), message, getattr(hashlib, algorithm)).digest()


def hmac_base64(secret: str, message: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hmac_digest(secret, message, algorithm)).decode("ascii")


def hmac_hex(secret: str, message: bytes, algorithm: str = "sha256") -> str:
    return hmac_digest(secret, message, algorithm).hex()


def matches_any(expected: str, candidates: Iterable[str]) -> bool:
    """Constant-time: every candidate is compared (no early exit), each with `hmac.compare_digest`."""
    found = False
    for candidate in candidates:
        # compare_digest only accepts ASCII str; a non-ASCII header value can never match.
        if candidate.isascii():
            found |= hmac.compare_digest(expected, candidate.strip())
    return found


def body_hash(body: bytes) -> str:
    """The event id of deliveries whose vendor sends none: deterministic, so a redelivery dedupes."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def require_header(request: WebhookRequest, name: str) -> str:
    value = request.header(name)
    if value is None or not value.strip():
        raise SignatureError(f"missing {name} header")
    return value.strip()


def check_timestamp(raw: str, *, now: float, tolerance: int, header: str) -> int:
    """A Unix timestamp within `tolerance` seconds of now (either side), against replays."""
    try:
        timestamp = int(raw)
    except ValueError:
        raise SignatureError(f"{header} is not a Unix timestamp") from None
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"{header} is outside the {tolerance}s tolerance (possible replay)")
    return timestamp


def form_payload(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields as JSON: a name sent once maps to its value, a repeated name to the list of values."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    return out


def json_event(request: WebhookRequest, event_id: str | None, event_type: Any) -> WebhookEvent:
    """A JSON delivery; falls back to the body hash as id and to raw text when the body is not JSON."""
    payload = request.json()
    return WebhookEvent(
        event_id=_event_id(event_id, request.body),
        event_type=_clip(event_type, 200) if isinstance(event_type, str) and event_type else None,
        payload=payload,
        raw_body=None if payload is not None else request.body.decode("utf-8", "replace"),
    )


def form_event(request: WebhookRequest, event_id: str | None, event_type: str | None) -> WebhookEvent:
    pairs = request.form() or []
    return WebhookEvent(
        event_id=_event_id(event_id, request.body),
        event_type=_clip(event_type, 200) if event_type else None,
        payload=form_payload(pairs),
        raw_body=request.body.decode("utf-8", "replace"),
    )


def string_at(value: Any, *path: str) -> str | None:
    """`value[path[0]][path[1]]...` when every step is a dict and the leaf a non-empty string."""
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value if isinstance(value, str) and value else None


def distinct(values: Iterable[str | None]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen and len(value) <= 255:
            seen.append(value)
        if len(seen) >= MAX_ACCOUNT_HINTS:
            break
    return tuple(seen)


def _event_id(vendor_id: str | None, body: bytes) -> str:
    if not vendor_id:
        return body_hash(body)
    # An id longer than the column is hashed rather than cut, so two long ids cannot collide.
    return vendor_id if len(vendor_id) <= 255 else "sha256:" + hashlib.sha256(vendor_id.encode()).hexdigest()


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit]
