"""Xero client: the Accounting API and the connections endpoint through xero-python, tokens through
the SDK's OAuth2Token/TokenApi pointed at the connection's token URL, every call retried by `retrying`.

How the SDK is driven (xero-python 15.2.0):
- `ApiClient(oauth2_token_getter=…, oauth2_token_saver=…)`: the getter hands the SDK this client's
  current tokens; the SDK calls the saver right after a refresh, and this client's saver calls
  `on_tokens` before anything uses the new access token (Xero rotates refresh tokens: the old one
  survives only Xero's grace period). The client refreshes itself ahead of expiry, so the SDK's own
  just-in-time refresh is a fallback that goes through the same saver.
- `AccountingApi(base_url=…)` and the connections endpoint take the configured URLs; calls use
  `_preload_content=False` so records stay exactly as Xero sent them (raw payloads for the warehouse
  and the pure mapping functions) instead of the SDK's lossy model objects.
- Rate limits, timeouts and typed errors live in `transport.MeteredPoolManager` under the SDK.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from xero_python.accounting import AccountingApi

from connectors.base import (
    AuthError,
    CompositeBucket,
    ConflictError,
    Page,
    PermanentError,
    RetryPolicy,
    Stream,
    StreamCursor,
    TokenBucket,
    TokenSet,
    TransientError,
    retrying,
)
from connectors.xero.config import XeroConfig, XeroCredentials
from connectors.xero.mapping import parse_xero_datetime
from connectors.xero.transport import (
    PROVIDER,
    AccessTokenRejected,
    ConfiguredOAuth2Token,
    ConnectionsApi,
    api_client,
    json_body,
    tenant_limits,
)

log = logging.getLogger("connectors.xero")

PAGE_SIZE = 100  # Xero returns up to 100 records per `page`
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0, max_retry_after=300.0)
# Refresh this long before the access token's stated expiry (Xero's live 30 minutes).
ACCESS_TOKEN_SKEW = timedelta(minutes=5)
# Xero refresh tokens expire 60 days after issue when unused.
REFRESH_TOKEN_LIFETIME = timedelta(days=60)
# Sort key sent with every incremental read, so pages can be walked as a keyset.
ORDER = "UpdatedDateUTC ASC"


@dataclass(frozen=True)
class StreamSpec:
    """How one Xero collection is read."""

    name: str
    collection: str  # JSON key of the answer, e.g. "Contacts"
    id_field: str
    method: str  # AccountingApi method
    paged: bool  # False: Xero answers with the whole collection at once
    options: tuple[tuple[str, Any], ...] = ()


STREAMS: dict[str, StreamSpec] = {
    spec.name: spec
    for spec in (
        # includeArchived: ARCHIVED contacts are Xero's soft deletes, and must reach the warehouse.
        StreamSpec("contacts", "Contacts", "ContactID", "get_contacts", True, (("include_archived", True),)),
        StreamSpec("invoices", "Invoices", "InvoiceID", "get_invoices", True),
        StreamSpec("payments", "Payments", "PaymentID", "get_payments", True),
        StreamSpec("credit_notes", "CreditNotes", "CreditNoteID", "get_credit_notes", True),
        StreamSpec("items", "Items", "ItemID", "get_items", False),
        StreamSpec("accounts", "Accounts", "AccountID", "get_accounts", False),
    )
}


def _clean(value: Any) -> Any:
    """Payloads without nulls: the SDK's serializer refuses None, and Xero reads absent as unchanged."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    return value


def _http_date(moment: datetime) -> str:
    # Xero wants If-Modified-Since as a UTC `yyyy-mm-ddThh:mm:ss` (no zone, no fraction).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class XeroClient:
    """One Xero organisation (tenant), through the official SDK.

    `on_tokens` receives every rotated `TokenSet` right after a refresh and before the new access token
    is used; the caller must persist it (under a row lock) or lose the connection.
    """

    provider = PROVIDER

    def __init__(
        self,
        config: XeroConfig,
        credentials: XeroCredentials,
        *,
        on_tokens: Callable[[TokenSet], None],
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        bucket: TokenBucket | None = None,
        vendor_bucket: TokenBucket | None = None,
        timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._client_secret = credentials.client_secret.get_secret_value()
        self._refresh_token = credentials.refresh_token.get_secret_value()
        self._access_token = credentials.access_token.get_secret_value() if credentials.access_token else None
        self._access_expires_at = credentials.expires_at
        self._on_tokens = on_tokens
        self._policy = retry_policy
        self._now = now
        self._token_lock = threading.RLock()
        self._last_tokens: TokenSet | None = None

        self.limits = tenant_limits(
            f"{PROVIDER}:{config.accounting_url}:{config.tenant_id}",
            per_minute=config.requests_per_minute,
            per_day=config.requests_per_day,
            concurrent=config.max_concurrent_requests,
        )
        minute: TokenBucket | CompositeBucket = bucket or self.limits.minute
        if vendor_bucket is not None:  # per tenant AND per vendor (all of this app's tenants)
            minute = CompositeBucket(minute, vendor_bucket)
        self._oauth2_token = ConfiguredOAuth2Token(
            client_id=config.client_id,
            client_secret=self._client_secret,
            token_url=config.token_url,
            revocation_url=config.revocation_url,
        )
        self._api_client = api_client(
            oauth2_token=self._oauth2_token,
            token_getter=self._sdk_token,
            token_saver=self._save_sdk_token,
            metered_prefix=config.accounting_url + "/",
            oauth_urls=(config.token_url, config.revocation_url),
            limits=self.limits,
            bucket=minute,
            timeout=timeout,
        )
        self._accounting = AccountingApi(self._api_client, base_url=config.accounting_url)
        self._connections = ConnectionsApi(self._api_client, config.connections_url)

    def __repr__(self) -> str:
        config = self.config
        return f"XeroClient(tenant_id={config.tenant_id!r}, accounting_url={config.accounting_url!r})"

    # ---- lifecycle

    def close(self) -> None:
        self._api_client.rest_client.pool_manager.clear()

    def __enter__(self) -> XeroClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- tokens

    def _sdk_token(self) -> dict[str, Any]:
        """The token the SDK signs requests with (its `oauth2_token_getter`)."""
        expires = self._access_expires_at
        return {
            "access_token": self._access_token,
            "refresh_token": self._refresh_token,
            "scope": list(self.config.scopes),
            "expires_in": None,
            "token_type": "Bearer",
            "expires_at": expires.timestamp() if expires is not None else None,
            "id_token": None,
        }

    def _save_sdk_token(self, token: dict[str, Any]) -> None:
        """The SDK's `oauth2_token_saver`, called right after every refresh: persist, then adopt."""
        access, refresh = token.get("access_token"), token.get("refresh_token")
        if not access or not refresh:
            raise PermanentError(PROVIDER, "token endpoint answered without an access and a refresh token")
        issued = self._now()
        try:
            access_expires_at: datetime | None = issued + timedelta(seconds=int(token["expires_in"]))
        except (KeyError, TypeError, ValueError):
            access_expires_at = None
        tokens = TokenSet(
            access_token=str(access),
            refresh_token=str(refresh),
            access_expires_at=access_expires_at,
            refresh_expires_at=issued + REFRESH_TOKEN_LIFETIME,
        )
        # Persist before use: Xero has already retired the old refresh token.
        self._on_tokens(tokens)
        self._access_token, self._refresh_token = tokens.access_token, tokens.refresh_token
        self._access_expires_at = access_expires_at
        self._last_tokens = tokens
        log.info("refreshed Xero tokens for tenant %s", self.config.tenant_id)

    def refresh_tokens(self) -> TokenSet:
        """Exchange the refresh token for new tokens (through the SDK), hand them to `on_tokens`, use them.

        A refresh whose answer was lost is retried with the same refresh token, which Xero still accepts
        during its grace period.
        """
        with self._token_lock:
            self._last_tokens = None
            retrying(self._api_client.refresh_oauth2_token, policy=self._policy)
            if self._last_tokens is None:
                raise PermanentError(PROVIDER, "the SDK did not refresh (client id, secret or scope missing)")
            return self._last_tokens

    def _access_token_usable(self) -> bool:
        if not self._access_token:
            return False
        if self._access_expires_at is None:
            return True  # unknown expiry: use it, a 401 triggers a refresh
        return self._now() + ACCESS_TOKEN_SKEW < self._access_expires_at

    def _ensure_access_token(self) -> None:
        with self._token_lock:
            if not self._access_token_usable():
                self.refresh_tokens()

    def _call(self, operation: Callable[[], Any]) -> Any:
        """One SDK call: fresh token, retries, one refresh on a 401; returns the parsed JSON body."""

        def attempt() -> Any:
            return json_body(operation())

        self._ensure_access_token()
        try:
            return retrying(attempt, policy=self._policy)
        except AccessTokenRejected:
            log.info("access token rejected for tenant %s; refreshing once", self.config.tenant_id)
        self.refresh_tokens()
        try:
            return retrying(attempt, policy=self._policy)
        except AccessTokenRejected:
            raise AuthError(
                PROVIDER,
                "access token rejected right after a refresh; the connection must be re-authorised",
                status_code=401,
            ) from None

    def _accounting_call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        sdk_method = getattr(self._accounting, method)
        body = self._call(lambda: sdk_method(self.config.tenant_id, _preload_content=False, **kwargs))
        if not isinstance(body, dict):
            raise PermanentError(PROVIDER, f"{method}: answer is not a JSON object")
        return body

    # ---- reading

    def fetch_page(
        self, stream: str, if_modified_since: datetime | None, page: int = 1, page_size: int | None = None
    ) -> dict[str, Any]:
        """One raw answer of a stream's collection (`pagination` included when Xero sends it)."""
        spec = STREAMS[stream]
        kwargs: dict[str, Any] = dict(spec.options)
        kwargs["order"] = ORDER
        if if_modified_since is not None:
            kwargs["if_modified_since"] = _http_date(if_modified_since)
        if spec.paged:
            kwargs["page"] = page
            if page_size is not None and page_size != PAGE_SIZE:
                kwargs["page_size"] = page_size
        return self._accounting_call(spec.method, **kwargs)

    def _records(self, stream: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        records = body.get(STREAMS[stream].collection) or []
        if not isinstance(records, list):
            raise PermanentError(PROVIDER, f"{STREAMS[stream].collection} is not a list")
        return records

    def pages(self, stream: str, since: str | None = None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        """Records of `stream` changed at or after `since` (all when None); see `ModifiedSincePager`."""
        spec = STREAMS[stream]

        def fetch(if_modified_since: datetime | None, page: int) -> list[dict[str, Any]]:
            return self._records(stream, self.fetch_page(stream, if_modified_since, page, page_size))

        return ModifiedSincePager(fetch, id_field=spec.id_field, page_size=page_size, paged=spec.paged).pages(
            since
        )

    def count(self, stream: str) -> int | None:
        """How many records the stream holds, when Xero says so cheaply: `pagination.itemCount` of the
        first page, or the length of an unpaged collection. None when Xero does not say."""
        body = self.fetch_page(stream, None)
        if not STREAMS[stream].paged:
            return len(self._records(stream, body))
        pagination = body.get("pagination")
        count = pagination.get("itemCount") if isinstance(pagination, dict) else None
        return int(count) if isinstance(count, int | str) and str(count).isdigit() else None

    def streams(self) -> dict[str, Stream]:
        return {name: XeroStream(self, name) for name in STREAMS}

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._one(self._accounting_call("get_invoice", invoice_id=invoice_id), "Invoices")

    def get_contact(self, contact_id: str) -> dict[str, Any]:
        return self._one(self._accounting_call("get_contact", contact_id=contact_id), "Contacts")

    @staticmethod
    def _one(body: dict[str, Any], collection: str) -> dict[str, Any]:
        records = body.get(collection)
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            raise PermanentError(PROVIDER, f"answer has no {collection}[0]")
        return records[0]

    # ---- pushing

    def upsert_contact(
        self, payload: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create or update one contact (POST /Contacts: matched on ContactID when given); Xero's record."""
        body = self._accounting_call(
            "update_or_create_contacts",
            contacts={"Contacts": [_clean(payload)]},
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return self._one(body, "Contacts")

    def create_invoice(
        self, payload: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create one invoice (PUT /Invoices). The idempotency key is the same on every retry, so a
        retried create whose first answer was lost does not make a second invoice."""
        body = self._accounting_call(
            "create_invoices",
            invoices={"Invoices": [_clean(payload)]},
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return self._one(body, "Invoices")

    def update_invoice(
        self,
        invoice_id: str,
        payload: dict[str, Any],
        expected_updated_utc: datetime | str | None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Update one invoice unless it changed in Xero since we last saw it.

        Xero has no concurrency token, so the invoice is read first and its `UpdatedDateUTC` compared
        with `expected_updated_utc` (the value from our last read or push); a difference raises
        `ConflictError` carrying Xero's current invoice. None skips the check (a forced write). A change
        landing between this read and the write is not detected: Xero offers nothing to close that gap.
        """
        if expected_updated_utc is not None:
            self._check_unchanged(invoice_id, expected_updated_utc)
        body = self._accounting_call(
            "update_invoice",
            invoice_id=invoice_id,
            invoices={"Invoices": [_clean({**payload, "InvoiceID": invoice_id})]},
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return self._one(body, "Invoices")

    def void_invoice(
        self, invoice_id: str, expected_updated_utc: datetime | str | None = None
    ) -> dict[str, Any]:
        """Void an approved invoice (Status VOIDED; Xero refuses while payments are applied)."""
        return self.update_invoice(invoice_id, {"Status": "VOIDED"}, expected_updated_utc)

    def _check_unchanged(self, invoice_id: str, expected: datetime | str) -> None:
        current = self.get_invoice(invoice_id)
        theirs = parse_xero_datetime(current.get("UpdatedDateUTC"))
        ours = parse_xero_datetime(expected)
        if theirs != ours:
            raise ConflictError(
                PROVIDER,
                f"invoice {invoice_id} changed in Xero (UpdatedDateUTC {theirs} ≠ {ours} we last saw)",
                current=current,
            )

    # ---- connections (tenants of this grant)

    def list_connections(self) -> list[dict[str, Any]]:
        """The tenants this grant may reach: `[{id, tenantId, tenantType, tenantName, …}]`."""
        body = self._call(lambda: self._connections.get_connections(_preload_content=False))
        if not isinstance(body, list):
            raise PermanentError(PROVIDER, "connections answer is not a list")
        return body

    def delete_connection(self, connection_id: str) -> None:
        """Disconnect one tenant from this app (DELETE /connections/{id})."""
        self._call(lambda: self._connections.delete_connection(connection_id, _preload_content=False))


# --------------------------------------------------------------------------- incremental paging


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass
class ModifiedSincePager:
    """Incremental, change-safe paging over `If-Modified-Since` + `page`, ordered by UpdatedDateUTC.

    If-Modified-Since is whole seconds, and whether Xero includes records at exactly that second is not
    pinned down; records carry milliseconds. So every request asks from one whole second *before* the
    instant everything earlier is known to be read, and drops what it has already emitted (by ID and
    UpdatedDateUTC; a record edited since comes again, as it should).

    - Keyset, not offsets: each step asks for page 1 from the latest UpdatedDateUTC emitted, so a
      record edited mid-sync (it moves to the end) never shifts another out of sight.
    - When more records share that window than fit in a page, the keyset cannot advance: the step
      walks pages 2, 3… of the same request until it passes the crowded second, then reads those pages
      again until a pass finds nothing new (an edit mid-walk shifts positions; the next pass catches
      what it hid). Every step ends past the second it began in, so paging always terminates.
    - Every page's cursor is an instant before which every record has been emitted. Resuming from it
      re-reads at most that second's records (at-least-once at the boundary; loads are upserts).
    - Unpaged collections (items, accounts) are one request.
    """

    fetch: Callable[[datetime | None, int], list[dict[str, Any]]]
    id_field: str
    page_size: int = PAGE_SIZE
    paged: bool = True
    max_passes: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")

    def _stamp(self, row: dict[str, Any]) -> tuple[str, datetime]:
        try:
            updated = parse_xero_datetime(row["UpdatedDateUTC"])
        except (KeyError, ValueError) as error:
            raise PermanentError(
                PROVIDER, f"record {row.get(self.id_field)!r} has no usable UpdatedDateUTC"
            ) from error
        if updated is None:
            raise PermanentError(PROVIDER, f"record {row.get(self.id_field)!r} has no UpdatedDateUTC")
        return str(row.get(self.id_field)), updated

    def _read(self, header: datetime | None, page: int) -> list[tuple[dict[str, Any], tuple[str, datetime]]]:
        rows = self.fetch(header, page)
        stamped = [(row, self._stamp(row)) for row in rows]
        times = [key[1] for _, key in stamped]
        if any(later < earlier for earlier, later in pairwise(times)):
            raise PermanentError(PROVIDER, "records are not in UpdatedDateUTC order: paging would miss some")
        return stamped

    def pages(self, since: str | None) -> Iterator[Page]:
        # Every record updated before `complete` has been emitted (by this run or an earlier one).
        complete = StreamCursor.parse(since).value if since else None
        seen: set[tuple[str, datetime]] = set()

        def fresh(stamped: list[tuple[dict[str, Any], tuple[str, datetime]]]) -> list[dict[str, Any]]:
            out = []
            for row, key in stamped:
                if (complete is not None and key[1] < complete) or key in seen:
                    continue
                seen.add(key)
                out.append(row)
            return out

        def cursor() -> str | None:
            return StreamCursor(complete).serialise() if complete is not None else None

        while True:
            header = None if complete is None else _floor_second(complete) - timedelta(seconds=1)
            must_pass = None if complete is None else _floor_second(complete) + timedelta(seconds=1)
            page = 1
            while True:
                stamped = self._read(header, page)
                last = not self.paged or len(stamped) < self.page_size
                top = stamped[-1][1][1] if stamped else None
                if last or must_pass is None or (top is not None and top >= must_pass):
                    break
                # Crowded: this whole page lies in the window the keyset cannot step over.
                rows = fresh(stamped)
                if rows:
                    yield Page(rows, cursor(), has_more=True)
                page += 1

            rows = fresh(stamped)
            if page > 1:
                rows += list(self._recheck(header, page, fresh))
            if top is not None and (complete is None or top > complete):
                complete = top
            yield Page(rows, cursor(), has_more=not last)
            if last:
                return
            # Not the last page, so `top` reached past the second this step began in: progress.
            floor = _floor_second(complete) - timedelta(seconds=1)
            seen = {key for key in seen if key[1] >= floor}

    def _recheck(
        self,
        header: datetime | None,
        pages: int,
        fresh: Callable[[list[tuple[dict[str, Any], tuple[str, datetime]]]], list[dict[str, Any]]],
    ) -> Iterator[dict[str, Any]]:
        """Read the crowded pages again until a pass finds nothing new."""
        for _ in range(self.max_passes):
            found = False
            for page in range(1, pages + 1):
                rows = fresh(self._read(header, page))
                found = found or bool(rows)
                yield from rows
            if not found:
                return
        raise TransientError(PROVIDER, "records kept changing while a crowded second was paged; try again")


@dataclass(frozen=True)
class XeroStream:
    """One Xero collection as a generic `Stream`: raw payloads keyed by their Xero ID."""

    client: XeroClient
    stream: str
    page_size: int = PAGE_SIZE

    @property
    def name(self) -> str:
        return self.stream

    @property
    def primary_key(self) -> tuple[str, ...]:
        return (STREAMS[self.stream].id_field,)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.pages(self.stream, cursor, page_size=self.page_size)
