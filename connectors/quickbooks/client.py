"""QuickBooks Online client: Intuit OAuth through intuit-oauth, the Accounting API through
python-quickbooks, every HTTP call metered by a token bucket and retried by `retrying`.

Reads: six streams (customers, invoices, payments, credit_memos, items, accounts), paged by
`Metadata.LastUpdatedTime` (`EntityPager`) or, for recent cursors, fetched with change data capture,
which also reports deletions. Writes: customers and invoices (create, sparse update, void), with
the caller's SyncToken, so an edit made in QuickBooks meanwhile surfaces as `ConflictError`.

SDK quirks this module works around (python-quickbooks 0.9.12, intuit-oauth 1.2.6):
- `QuickBooks(auth_client=...)` silently refreshes when the AuthClient has no access token,
  which would rotate the refresh token without telling `on_tokens`; the client therefore does
  every refresh itself and never hands the SDK an AuthClient.
- The SDK's own session is replaced by `transport.ApiSession` (see there).
- The SDK picks `sandbox_api_url_v3` or `api_url_v3` from `auth_client.environment`; both are
  set to `<api_base_url>/v3` on the instance so the configured URL wins either way.
- The SDK's objects fill every property with a default; writes send `sdk_objects.sdk_object`s,
  which carry only the payload's fields, and return the JSON QuickBooks answered with.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
from intuitlib.exceptions import AuthClientError
from quickbooks.cdc import change_data_capture
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import QuickbooksBaseObject
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from connectors.base import (
    AuthError,
    CompositeBucket,
    ConflictError,
    CursorExpiredError,
    Page,
    PermanentError,
    RetryPolicy,
    Stream,
    StreamCursor,
    TokenBucket,
    TokenSet,
    retrying,
    shared_bucket,
)
from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials
from connectors.quickbooks.entities import CUSTOMER, ENTITIES, INVOICE, QboEntity, entity
from connectors.quickbooks.mapping import is_voided
from connectors.quickbooks.oauth import auth_client, expiry
from connectors.quickbooks.paging import MAX_PAGE_SIZE, EntityPager, updated_at
from connectors.quickbooks.sdk_objects import sdk_object
from connectors.quickbooks.transport import (
    PROVIDER,
    STALE_OBJECT,
    AccessTokenRejected,
    ApiSession,
    MeteredAuthClient,
    QuickBooksFault,
    map_oauth_error,
    map_sdk_error,
    raise_for_transport,
)

log = logging.getLogger("connectors.quickbooks")

__all__ = ["MAX_PAGE_SIZE", "Changes", "EntityStream", "QuickBooksClient"]

DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0, max_retry_after=300.0)
# Refresh this long before the access token's stated expiry so a request never races it.
ACCESS_TOKEN_SKEW = timedelta(minutes=5)
# intuit-oauth wants a redirect URI even though refreshing never uses it.
_UNUSED_REDIRECT_URI = "https://localhost/unused"

# Change data capture (Intuit, "Change data capture operation"): changes "within the last 30 days",
# and "a maximum of 1,000 objects" per response.
CDC_LOOKBACK = timedelta(days=30)
CDC_MAX_OBJECTS = 1000
# A cursor this close to the lookback limit is not risked: the request could cross it in flight, and
# the company's clock is not ours.
CDC_MARGIN = timedelta(hours=1)
# CDC's answer covers changes up to its `time`; the cursor stops this much short of it, in case a write
# stamped just before `time` commits after the read (resuming re-reads a minute: loads are upserts).
CDC_SETTLE = timedelta(minutes=1)

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    """What change data capture reported since a time.

    `records[stream]` are full payloads, oldest change first, and for deleted records stubs with
    `status: Deleted` (see `mapping.is_deleted`). `cursor` is safe to resume from. `truncated` means
    the answer hit the 1,000-object cap: later changes are missing and the span must be re-read.
    """

    records: dict[str, list[dict[str, Any]]]
    cursor: str
    truncated: bool

    def deleted(self, stream: str) -> list[str]:
        return [str(r.get("Id")) for r in self.records.get(stream, []) if _is_deleted(r)]


def _is_deleted(payload: dict[str, Any]) -> bool:
    return str(payload.get("status", "")).lower() == "deleted"


# --------------------------------------------------------------------------- client


class QuickBooksClient:
    """One QuickBooks Online company (realm), read and written through the official SDKs.

    `on_tokens` receives every rotated `TokenSet` right after a refresh and before the new access
    token is used; Intuit invalidates the previous refresh token, so the caller must persist it
    (under a row lock) or lose the connection.
    """

    provider = PROVIDER

    def __init__(
        self,
        config: QuickBooksConfig,
        credentials: QuickBooksCredentials,
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
        self._access_expires_at = credentials.access_token_expires_at
        self._on_tokens = on_tokens
        self._policy = retry_policy
        self._timeout = timeout
        self._now = now
        self._bucket = bucket or shared_bucket(
            f"{PROVIDER}:{config.api_base_url}:{config.realm_id}",
            lambda: TokenBucket.per_minute(config.requests_per_minute),
        )
        if vendor_bucket is not None:  # per connection (realm) AND per vendor (all of this app's realms)
            self._bucket = CompositeBucket(self._bucket, vendor_bucket)
        self._session = ApiSession(bucket=self._bucket, timeout=timeout)
        self._auth_client: MeteredAuthClient | None = None
        self._sdk: QuickBooks | None = None
        self._token_lock = threading.RLock()
        self._answered_at: StreamCursor | None = None  # QuickBooks' time at its last query answer

    def __repr__(self) -> str:
        return (
            f"QuickBooksClient(realm_id={self.config.realm_id!r}, api_base_url={self.config.api_base_url!r})"
        )

    # ---- lifecycle

    def close(self) -> None:
        self._session.close()
        if self._auth_client is not None:
            self._auth_client.close()

    def __enter__(self) -> QuickBooksClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- tokens

    def _access_token_usable(self) -> bool:
        if not self._access_token:
            return False
        if self._access_expires_at is None:
            return True  # unknown expiry: use it, a 401 triggers a refresh
        return self._now() + ACCESS_TOKEN_SKEW < self._access_expires_at

    def _oauth(self) -> MeteredAuthClient:
        if self._auth_client is None:
            self._auth_client = auth_client(
                self.config,
                self._client_secret,
                _UNUSED_REDIRECT_URI,
                bucket=self._bucket,
                timeout=self._timeout,
                policy=self._policy,
            )
        return self._auth_client

    def refresh_tokens(self) -> TokenSet:
        """Exchange the refresh token for new tokens, hand them to `on_tokens`, then use them."""
        with self._token_lock:
            auth = self._oauth()
            old_refresh_token = self._refresh_token

            def refresh() -> None:
                # Clear what a previous refresh left behind, so a malformed answer cannot pass it off as new.
                auth.access_token = auth.refresh_token = None
                try:
                    auth.refresh(refresh_token=old_refresh_token)
                except AuthClientError as error:
                    raise map_oauth_error(error, what="token refresh") from None
                except requests.RequestException as error:
                    raise_for_transport(error)

            retrying(refresh, policy=self._policy)
            if not auth.access_token or not auth.refresh_token:
                raise PermanentError(PROVIDER, "token endpoint answered without tokens")
            issued = self._now()
            tokens = TokenSet(
                access_token=auth.access_token,
                refresh_token=auth.refresh_token,
                access_expires_at=expiry(issued, auth.expires_in),
                refresh_expires_at=expiry(issued, auth.x_refresh_token_expires_in),
            )
            self._refresh_token = tokens.refresh_token
            self._access_token = tokens.access_token
            self._access_expires_at = tokens.access_expires_at
            # Persist before use: the old refresh token is already dead.
            self._on_tokens(tokens)
            self._session.access_token = tokens.access_token
            if self._sdk is not None:
                self._sdk.refresh_token = tokens.refresh_token
            log.info("refreshed QuickBooks tokens for realm %s", self.config.realm_id)
            return tokens

    def _ensure_access_token(self) -> None:
        with self._token_lock:
            if not self._access_token_usable():
                self.refresh_tokens()
            self._session.access_token = self._access_token

    # ---- SDK calls

    def _quickbooks(self) -> QuickBooks:
        if self._sdk is None:
            sdk = QuickBooks(
                company_id=self.config.realm_id,
                minorversion=self.config.minor_version,
                refresh_token=self._refresh_token,
            )
            sdk.api_url_v3 = self.config.api_url_v3
            sdk.sandbox_api_url_v3 = self.config.api_url_v3
            sdk.session = self._session
            self._sdk = sdk
        return self._sdk

    def _call(self, operation: Callable[[QuickBooks], T]) -> T:
        """Run one SDK operation: fresh token, bucket, retries, and one refresh on a 401."""

        def attempt() -> T:
            try:
                return operation(self._quickbooks())
            except QuickbooksException as error:
                raise map_sdk_error(error) from None

        self._ensure_access_token()
        try:
            return retrying(attempt, policy=self._policy)
        except AccessTokenRejected:
            log.info("access token rejected for realm %s; refreshing once", self.config.realm_id)
        self.refresh_tokens()
        try:
            return retrying(attempt, policy=self._policy)
        except AccessTokenRejected:
            raise AuthError(
                PROVIDER,
                "access token rejected right after a refresh; the connection must be re-authorised",
                status_code=401,
            ) from None

    def query(self, statement: str) -> dict[str, Any]:
        """Run one statement of the QBO query language; returns its `QueryResponse` object."""
        result = self._call(lambda sdk: sdk.query(statement))
        if isinstance(result, dict) and result.get("time"):
            self._answered_at = StreamCursor.parse(str(result["time"]))
        response = result.get("QueryResponse") if isinstance(result, dict) else None
        if not isinstance(response, dict):
            raise PermanentError(PROVIDER, "query answer has no QueryResponse object")
        return response

    # ---- reading

    def count(self, stream: str) -> int:
        """How many records QuickBooks has for a stream (inactive list entities included), for the
        warehouse's row-count check."""
        of = entity(stream)
        where = " WHERE Active IN (true, false)" if of.name_list else ""
        response = self.query(f"SELECT COUNT(*) FROM {of.name}{where}")  # noqa: S608 - entity names only
        return int(response.get("totalCount", 0))

    def count_customers(self, include_inactive: bool = True) -> int:
        if include_inactive:
            return self.count("customers")
        return int(self.query("SELECT COUNT(*) FROM Customer WHERE Active = true").get("totalCount", 0))

    def get(self, stream: str, external_id: str) -> dict[str, Any]:
        """One record as QuickBooks has it now (e.g. to show a conflict)."""
        of = entity(stream)
        answer = self._call(lambda sdk: sdk.get_single_object(of.name, pk=external_id))
        return _entity_of(answer, of.name)

    def query_pages(
        self, stream: str, since: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[Page]:
        """Records changed at or after `since` (all when None) by query; see `EntityPager`."""
        return EntityPager(self.query, entity(stream), page_size=page_size, settled_at=self._settled).pages(
            since
        )

    def _settled(self) -> StreamCursor | None:
        """QuickBooks' time at its last query answer, less the settle margin CDC cursors keep too."""
        answered = self._answered_at
        return None if answered is None else StreamCursor(answered.value - CDC_SETTLE)

    def customer_pages(self, since: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[Page]:
        """Customers changed at or after `since` (all when None), active and inactive alike."""
        return self.query_pages("customers", since, page_size)

    def stream_pages(
        self, stream: str, since: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[Page]:
        """A stream's records changed since the cursor `since` (all when None), the way the sync engine
        should read them:

        - no cursor: everything, by query;
        - list entities (customers, items, accounts): always by query on `LastUpdatedTime`. QuickBooks
          deactivates them rather than deleting them, and the query sees inactive ones, so CDC would add
          nothing but a capped extra call in a burst of edits;
        - transactions with a cursor within CDC's 30 days (Intuit's recommended way to poll for recent
          changes): one CDC call, which also reports deleted records; past its 1,000-object cap, or with an
          older cursor, `CursorExpiredError`: what was deleted in between only shows as absence, which the
          engine's full refresh turns into soft deletes.
        """
        of = entity(stream)
        if since is None or of.name_list:
            yield from self.query_pages(of.stream, since, page_size)
            return
        if not self.cdc_reaches(since):
            raise CursorExpiredError(
                PROVIDER, f"{of.stream} cursor {since} is older than CDC's {CDC_LOOKBACK.days} days"
            )
        changes = self.changes_since([of], since)
        if changes.truncated:
            raise CursorExpiredError(
                PROVIDER,
                f"more than {CDC_MAX_OBJECTS} {of.stream} changed since {since}: CDC cannot list them",
            )
        yield Page(changes.records[of.stream], changes.cursor, has_more=False)

    def changed_pages(self, cursors: Mapping[str, str | None]) -> dict[str, Page] | None:
        """Every stream's changes since its cursor in ONE CDC call (any of the six entities may be asked
        for together), each stream's page carrying the call's cursor. None when CDC cannot answer for all
        of them: a stream with no cursor yet, the oldest cursor beyond CDC's 30 days, or 1,000 objects or
        more (CDC's cap); the caller then reads each stream through `stream_pages`. Reading from the
        oldest cursor re-reads a few records of the other streams, which upserts leave unchanged."""
        if not cursors or any(cursor is None for cursor in cursors.values()):
            return None
        since = min((_cursor(cursor) for cursor in cursors.values()), key=lambda c: c.value)
        if not self.cdc_reaches(since.value):
            return None
        changes = self.changes_since(list(cursors), since)
        if changes.truncated:
            return None
        # A stream whose cursor is already past the call's (a record edited within CDC's settle minute)
        # keeps its own: cursors never move backwards.
        return {
            stream: Page(
                changes.records[entity(stream).stream],
                StreamCursor.latest(cursor, changes.cursor),
                has_more=False,
            )
            for stream, cursor in cursors.items()
        }

    def cdc_reaches(self, since: str | datetime) -> bool:
        """Whether change data capture still covers changes since `since`."""
        return _cursor(since).value > self._now() - CDC_LOOKBACK + CDC_MARGIN

    def changes_since(self, entities: Iterable[str | QboEntity], since: str | datetime) -> Changes:
        """Changed and deleted records of `entities` (stream or entity names) since `since`, through
        python-quickbooks' `change_data_capture`. Raises CursorExpiredError beyond CDC's 30 days."""
        wanted = tuple(dict.fromkeys(entity(e) for e in entities))
        if not wanted:
            raise ValueError("changes_since needs at least one entity")
        start = _cursor(since)
        if not self.cdc_reaches(start.value):
            raise CursorExpiredError(
                PROVIDER, f"CDC only reaches back {CDC_LOOKBACK.days} days; {start} is older"
            )
        # The entities stand in for the SDK's classes, so records come back as the JSON QuickBooks sent.
        answer = self._call(lambda sdk: change_data_capture(list(wanted), start.serialise(), qb=sdk))
        records = {e.stream: list(getattr(answer, e.name, None) or []) for e in wanted}
        stamps = [start]
        for of in wanted:
            for record in records[of.stream]:
                try:
                    stamps.append(updated_at(record, of))
                except PermanentError:
                    log.warning("CDC %s %r has no LastUpdatedTime", of.name, record.get("Id"))
        answered_at = getattr(answer, "time", None)
        if answered_at:
            stamps.append(StreamCursor(StreamCursor.parse(str(answered_at)).value - CDC_SETTLE))
        total = sum(len(r) for r in records.values())
        return Changes(records=records, cursor=max(stamps).serialise(), truncated=total >= CDC_MAX_OBJECTS)

    def streams(self) -> dict[str, Stream]:
        return {e.stream: EntityStream(self, e) for e in ENTITIES}

    # ---- writing

    def upsert_customer(
        self,
        payload: dict[str, Any],
        *,
        external_id: str | None = None,
        sync_token: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a Customer (no `external_id`) or sparse-update one with the SyncToken it was read
        with; returns the Customer as QuickBooks saved it. See `_write` for errors and `request_id`."""
        return self._write(Customer, payload, external_id, sync_token, request_id)

    def upsert_invoice(
        self,
        payload: dict[str, Any],
        *,
        external_id: str | None = None,
        sync_token: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Create an Invoice or sparse-update one (its lines are replaced by the payload's)."""
        return self._write(Invoice, payload, external_id, sync_token, request_id)

    def void_invoice(self, external_id: str, sync_token: str) -> dict[str, Any]:
        """Void an invoice (QuickBooks keeps it, zeroed, with "Voided" in PrivateNote); returns it.

        A void whose token is stale because the void itself already landed (a retry after a lost
        answer) returns the voided invoice; any other stale token raises ConflictError.
        """
        invoice = Invoice()
        invoice.Id, invoice.SyncToken = str(external_id), str(sync_token)
        try:
            answer = self._call(lambda sdk: invoice.void(qb=sdk))
        except QuickBooksFault as fault:
            if fault.code != STALE_OBJECT:
                raise
            conflict = self._conflict(INVOICE, str(external_id), str(sync_token), fault)
            if conflict.current is not None and is_voided(conflict.current):
                return conflict.current
            raise conflict from None
        return _entity_of(answer, INVOICE.name)

    def _write(
        self,
        cls: type[QuickbooksBaseObject],
        payload: dict[str, Any],
        external_id: str | None,
        sync_token: str | None,
        request_id: str | None,
    ) -> dict[str, Any]:
        """One create or sparse update through the SDK's objects.

        - `request_id` is sent as Intuit's `requestid`, so a retried write (after a timeout, or the
          caller's own retry with the same id, e.g. its outbox row id) is applied once.
        - A stale SyncToken (fault 5010) raises ConflictError carrying the record as it is now.
        - Validation faults (2020 required field, 6000 business rule, 610 not found, 6240 duplicate
          name…) raise QuickBooksFault, a PermanentError with Intuit's message and detail.
        """
        of = entity(cls.qbo_object_name)
        if (external_id is None) != (sync_token is None):
            raise ValueError(f"updating a {of.name} needs its Id and the SyncToken it was read with")
        body = {key: value for key, value in payload.items() if key not in ("Id", "SyncToken", "sparse")}
        if external_id is not None:
            body |= {"Id": str(external_id), "SyncToken": str(sync_token), "sparse": True}
        obj = sdk_object(cls, body)
        request_id = request_id or uuid.uuid4().hex

        def write(sdk: QuickBooks) -> dict[str, Any]:
            send = sdk.create_object if external_id is None else sdk.update_object
            return send(of.name, obj.to_json(), request_id=request_id)

        try:
            answer = self._call(write)
        except QuickBooksFault as fault:
            if fault.code == STALE_OBJECT and external_id is not None:
                raise self._conflict(of, str(external_id), str(sync_token), fault) from None
            raise
        return _entity_of(answer, of.name)

    def _conflict(
        self, of: QboEntity, external_id: str, sync_token: str, fault: QuickBooksFault
    ) -> ConflictError:
        try:
            current = self.get(of.stream, external_id)
        except PermanentError:  # deleted meanwhile (610), or unreadable: nothing to compare with
            current = None
        now = f" (now {current.get('SyncToken')})" if current else ""
        return ConflictError(
            PROVIDER,
            f"{of.name} {external_id} changed in QuickBooks since SyncToken {sync_token}{now}: "
            f"{fault.vendor_message}",
            current=current,
            status_code=fault.status_code,
        )


def _cursor(since: str | datetime | StreamCursor) -> StreamCursor:
    if isinstance(since, StreamCursor):
        return since
    if isinstance(since, datetime):
        return StreamCursor(since)
    return StreamCursor.parse(since)


def _entity_of(answer: Any, name: str) -> dict[str, Any]:
    record = answer.get(name) if isinstance(answer, dict) else None
    if not isinstance(record, dict):
        raise PermanentError(PROVIDER, f"answer has no {name} object")
    return record


@dataclass(frozen=True)
class EntityStream:
    """One stream as a generic `Stream`: raw payloads keyed by `Id`, read by `stream_pages`."""

    client: QuickBooksClient
    entity: QboEntity = CUSTOMER
    page_size: int = MAX_PAGE_SIZE

    @property
    def name(self) -> str:
        return self.entity.stream

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("Id",)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.stream_pages(self.entity.stream, cursor, page_size=self.page_size)
