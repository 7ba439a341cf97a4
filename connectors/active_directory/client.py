"""Active Directory client: users and groups of one domain over LDAP, through ldap3.

Reading: each stream is one subtree search under its base with the simple paged results control (RFC 2696,
OID 1.2.840.113556.1.4.319, marked critical so a server that cannot page refuses instead of truncating).
Large `member` attributes come back in ranges (`member;range=0-1499`); ldap3's auto-range reads them all.

Incremental (Microsoft's "polling for changes using uSNChanged"): every originating write on a domain
controller stamps the object with the DC's next update sequence number. The cursor is
`{"usn": U, "server": S}`: a delta pass asks for `(uSNChanged>=U+1)`. Where the rootDSE publishes
`highestCommittedUSN` (AD does), the pass first reads it as H, adds `(uSNChanged<=H)` and ends at H, so a
write still being committed during the pass is read next time rather than skipped; elsewhere the cursor is
the highest uSNChanged the pass saw. USNs are per DC: `S` is the rootDSE's `dsServiceName`, and a cursor from
another DC (or a USN that went backwards, a DC restored from backup) raises `CursorExpiredError`, so the
engine re-reads everything. Only the last page of a pass carries the new cursor: entries come back in no
USN order, so a pass cut short must be read again from the old one.

Deletions: AD turns a deleted object into a tombstone under CN=Deleted Objects (outside the search bases),
keeping its objectGUID, `isDeleted: TRUE`, `lastKnownParent` and a new uSNChanged. A delta pass ends with a
search of that container with the show-deleted control for the stream's tombstones in its USN range; a
full pass also soft-deletes whatever it no longer finds (and is how a server without tombstones shows it).

Retries: dropped connections, timeouts and `busy`/`unavailable` answers are transient. A paged-results
cookie belongs to its connection, so after a reconnect the pass starts again from its first page (loads are
upserts: an entry read twice is written once). Bad credentials are an `AuthError`; an untrusted certificate,
a missing base DN or missing rights are `PermanentError`s.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors

from connectors.active_directory.config import (
    ActiveDirectoryConfig,
    ActiveDirectoryCredentials,
    normalise_dn,
)
from connectors.active_directory.mapping import (
    GROUP_ATTRIBUTES,
    PROVIDER,
    USER_ATTRIBUTES,
    entry_record,
    usn_of,
)
from connectors.base import (
    AuthError,
    ConnectorError,
    CursorExpiredError,
    Page,
    PermanentError,
    RetryPolicy,
    Stream,
    TokenSet,
    TransientError,
    retrying,
)

log = logging.getLogger("connectors.active_directory")

USERS, GROUPS = "users", "groups"
STREAMS = (USERS, GROUPS)
PAGED_RESULTS = "1.2.840.113556.1.4.319"
SHOW_DELETED = "1.2.840.113556.1.4.417"  # LDAP_SERVER_SHOW_DELETED_OID
NO_SUCH_OBJECT = 32
INSUFFICIENT_ACCESS = 50
TOMBSTONE_ATTRIBUTES = ("objectGUID", "isDeleted", "uSNChanged", "whenChanged", "lastKnownParent", "cn")
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=30.0)

# LDAP result codes (RFC 4511 §4.1.9) worth another attempt.
_TRANSIENT_RESULTS = {3: "timeLimitExceeded", 51: "busy", 52: "unavailable", 81: "serverDown"}
_AUTH_RESULTS = {48: "inappropriateAuthentication", 49: "invalidCredentials"}
# ldap3 raises these when the socket or session fails (no result code).
_COMMUNICATION = (
    ldap_errors.LDAPCommunicationError,
    ldap_errors.LDAPSessionTerminatedByServerError,
    ldap_errors.LDAPResponseTimeoutError,
    ldap_errors.LDAPSocketCloseError,
)
_CERTIFICATE_MARKERS = ("certificate verify failed", "certificate_verify_failed", "hostname", "doesn't match")


def translate(error: Exception) -> ConnectorError:
    """An ldap3 exception → the connector's typed error (messages never carry the password)."""
    if isinstance(error, ConnectorError):
        return error
    text = str(error)
    if isinstance(error, ldap_errors.LDAPOperationResult):
        code = error.result
        name = error.description or _AUTH_RESULTS.get(code) or _TRANSIENT_RESULTS.get(code) or "error"
        detail = f"{name} ({code}): {error.message}".rstrip(": ")
        if code in _AUTH_RESULTS:
            return AuthError(
                PROVIDER, f"the directory refused the service account's bind: {detail}", status_code=code
            )
        if code in _TRANSIENT_RESULTS:
            return TransientError(PROVIDER, detail, status_code=code)
        return PermanentError(PROVIDER, detail, status_code=code)
    if isinstance(error, ldap_errors.LDAPSSLConfigurationError):
        return PermanentError(PROVIDER, f"TLS configuration: {text}")
    lowered = text.lower()
    if isinstance(error, (*_COMMUNICATION, ldap_errors.LDAPStartTLSError)):
        if any(marker in lowered for marker in _CERTIFICATE_MARKERS):
            return PermanentError(
                PROVIDER, f"the domain controller's certificate is not trusted (check the CA bundle): {text}"
            )
        return TransientError(PROVIDER, f"connection failed: {text}")
    if isinstance(error, ldap_errors.LDAPException):
        return PermanentError(PROVIDER, f"{type(error).__name__}: {text}")
    if isinstance(error, OSError):
        return TransientError(PROVIDER, f"connection failed: {error}")
    raise error


def load_cursor(cursor: str | None) -> tuple[int, str | None] | None:
    """(usn, server) from a stored cursor; None: a full pass."""
    if not cursor:
        return None
    try:
        state = json.loads(cursor)
        return int(state["usn"]), state.get("server")
    except (ValueError, KeyError, TypeError) as error:
        raise CursorExpiredError(PROVIDER, "stored cursor is not an Active Directory USN cursor") from error


def dump_cursor(usn: int, server: str | None) -> str:
    return json.dumps({"usn": usn, "server": server}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class _Query:
    base: str
    filter: str
    attributes: tuple[str, ...]
    controls: tuple[tuple[str, bool, Any], ...] = ()


def _under(dn: str | None, base: str) -> bool:
    if not dn:
        return False
    key = normalise_dn(dn)
    return key == base or key.endswith("," + base)


class ActiveDirectoryClient:
    """One domain, read as the connection's service account. `on_tokens` is unused (a password does not
    rotate by itself) and accepted for the registry's client factory signature."""

    provider = PROVIDER

    def __init__(
        self,
        config: ActiveDirectoryConfig,
        credentials: ActiveDirectoryCredentials,
        *,
        on_tokens: Callable[[TokenSet], None] | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        timeout: float | None = None,
    ) -> None:
        self.config = config
        self._password = credentials.password
        self._policy = retry_policy
        self._timeout = timeout if timeout is not None else config.timeout_seconds
        self._connection: ldap3.Connection | None = None
        self.reconnects = 0  # connections opened after the first (a dropped one, a restarted pass)

    def __repr__(self) -> str:
        return f"ActiveDirectoryClient(host={self.config.host!r}, base_dn={self.config.base_dn!r})"

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a connection that already died
                self._connection.unbind()
            self._connection = None

    def __enter__(self) -> ActiveDirectoryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- connection

    def _server(self) -> ldap3.Server:
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=self.config.ca_bundle,
            version=ssl.PROTOCOL_TLS_CLIENT,
        )
        return ldap3.Server(
            self.config.host,
            port=self.config.effective_port,
            use_ssl=self.config.use_ssl,
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=self._timeout,
        )

    def _connect(self) -> ldap3.Connection:
        if self._connection is not None and not self._connection.closed and self._connection.bound:
            return self._connection
        if self._connection is not None:
            self.close()
            self.reconnects += 1
        connection = ldap3.Connection(
            self._server(),
            user=self.config.bind_dn,
            password=self._password.get_secret_value(),
            authentication=ldap3.SIMPLE,
            read_only=True,
            raise_exceptions=True,
            receive_timeout=max(1, math.ceil(self._timeout)),  # ldap3 packs it as whole seconds
            auto_referrals=False,
            auto_range=True,
        )
        try:
            connection.open()
            if self.config.start_tls:
                connection.start_tls()
            connection.bind()
        except Exception as error:
            with contextlib.suppress(Exception):
                connection.unbind()
            raise translate(error) from None
        self._connection = connection
        return connection

    def _reset(self) -> None:
        """Forget a connection that failed: the next call opens (and counts) a new one."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.unbind()
        self._connection = None
        self.reconnects += 1

    def _call(self, operation: Callable[[ldap3.Connection], Any]) -> Any:
        """One request on a bound connection; a transient failure drops the connection."""
        connection = self._connect()
        try:
            return operation(connection)
        except Exception as error:
            translated = translate(error)
            if translated.retryable:
                self._reset()
            raise translated from None

    def check(self) -> dict[str, Any]:
        """Bind and read the rootDSE (a new connection's test); raises the typed error on failure."""
        return self.root_dse()

    def root_dse(self) -> dict[str, Any]:
        """`dsServiceName` and `highestCommittedUSN` where the server publishes them (AD does)."""

        def read(connection: ldap3.Connection) -> dict[str, Any]:
            connection.search(
                "",
                "(objectClass=*)",
                ldap3.BASE,
                attributes=["dsServiceName", "highestCommittedUSN", "defaultNamingContext"],
            )
            entries = [r for r in connection.response or [] if r.get("type") == "searchResEntry"]
            raw = entries[0]["raw_attributes"] if entries else {}
            return {name: values[0].decode("utf-8") for name, values in raw.items() if values}

        return retrying(lambda: self._call(read), policy=self._policy)

    # ---- paged search

    def _page(self, query: _Query, page_size: int, cookie: bytes | None) -> tuple[list[dict], bytes | None]:
        def search(connection: ldap3.Connection) -> tuple[list[dict], bytes | None]:
            connection.search(
                query.base,
                query.filter,
                ldap3.SUBTREE,
                attributes=list(query.attributes),
                paged_size=page_size,
                paged_cookie=cookie,
                paged_criticality=True,
                controls=list(query.controls) or None,
            )
            records = [
                entry_record(r["dn"], r["raw_attributes"])
                for r in connection.response or []
                if r.get("type") == "searchResEntry"
            ]
            control = (connection.result.get("controls") or {}).get(PAGED_RESULTS) or {}
            return records, (control.get("value") or {}).get("cookie") or None

        return self._call(search)

    def search(self, query: _Query, page_size: int) -> Iterator[tuple[list[dict], bool]]:
        """(entries, is_last_page) of one paged pass. A transient failure reconnects and starts the pass
        over (its cookie died with the connection), at most `max_attempts - 1` times per pass."""
        failures = 0
        cookie: bytes | None = None
        while True:
            try:
                records, cookie = self._page(query, page_size, cookie)
            except ConnectorError as error:
                failures += 1
                if not error.retryable or failures >= self._policy.max_attempts:
                    raise
                wait = self._policy.wait_for(failures, error)
                log.warning(
                    "directory search failed (%s); starting the pass over in %.2fs (attempt %d of %d)",
                    error,
                    wait,
                    failures,
                    self._policy.max_attempts,
                )
                self._policy.sleep(wait)
                cookie = None
                continue
            yield records, cookie is None
            if cookie is None:
                return

    def _query(self, stream: str, extra: str = "") -> _Query:
        if stream == USERS:
            base, flt, attributes = self.config.users_base, self.config.user_filter, USER_ATTRIBUTES
        elif stream == GROUPS:
            base, flt, attributes = self.config.groups_base, self.config.group_filter, GROUP_ATTRIBUTES
        else:
            raise ValueError(f"unknown stream {stream!r}")
        return _Query(base, f"(&{flt}{extra})" if extra else flt, attributes)

    def pages(self, stream: str, cursor: str | None = None, page_size: int | None = None) -> Iterator[Page]:
        """Entries of `stream` changed since `cursor` (all of them when None), in pages of at most
        `page_size` and the connection's own page size."""
        state = load_cursor(cursor)
        dse = self.root_dse()
        server = dse.get("dsServiceName")
        highest = int(dse["highestCommittedUSN"]) if dse.get("highestCommittedUSN") else None
        since = None
        if state is not None:
            since, known_server = state
            if known_server and server and known_server.lower() != server.lower():
                raise CursorExpiredError(PROVIDER, f"cursor is from {known_server}, now talking to {server}")
            if highest is not None and highest < since:
                raise CursorExpiredError(
                    PROVIDER, f"the server's USN ({highest}) is behind the cursor ({since})"
                )
        bounds = ""
        if since is not None:
            bounds += f"(uSNChanged>={since + 1})"
        if highest is not None:
            bounds += f"(uSNChanged<={highest})"
        top = since or 0
        size = min(page_size or self.config.page_size, self.config.page_size)
        scope = normalise_dn(self.config.users_base if stream == USERS else self.config.groups_base)
        passes = [self.search(self._query(stream, bounds), size)]
        if since is not None and self.config.track_deletions:  # a full pass sees deletions by absence
            passes.append(self._tombstones(stream, bounds, size))
        for position, reads in enumerate(passes):
            for records, last in reads:
                for record in records:
                    top = max(top, usn_of(record) or 0)
                if position > 0:  # tombstones: only those deleted from under the stream's base are its own
                    records = [r for r in records if _under(r.get("lastKnownParent"), scope)]
                if not (last and position == len(passes) - 1):
                    yield Page(records, cursor if state is not None else None, has_more=True)
                    continue
                end = highest if highest is not None else top
                self.close()  # the pass is over: no socket left open between streams or runs
                yield Page(records, dump_cursor(max(end, since or 0), server), has_more=False)

    def _tombstones(self, stream: str, bounds: str, page_size: int) -> Iterator[tuple[list[dict], bool]]:
        """Objects of the stream deleted within the USN bounds: AD keeps them as tombstones (`isDeleted`)
        in CN=Deleted Objects, returned only with the show-deleted control. Sent non-critical, so a server
        without it (or without the container) just has none. All of the container's are read (the cursor
        passes them all); `pages` keeps those whose `lastKnownParent` lies under the stream's base."""
        kind = "(objectClass=user)(!(objectClass=computer))" if stream == USERS else "(objectClass=group)"
        query = _Query(
            self.config.deleted_objects_dn or f"CN=Deleted Objects,{self.config.base_dn}",
            f"(&(isDeleted=TRUE){kind}{bounds})",
            TOMBSTONE_ATTRIBUTES,
            controls=((SHOW_DELETED, False, None),),
        )
        try:
            yield from self.search(query, page_size)
        except PermanentError as error:
            # AD lets only administrators list Deleted Objects unless granted (runbook): without the right,
            # deletions wait for the nightly full pass instead of failing every sync.
            if error.status_code not in (NO_SUCH_OBJECT, INSUFFICIENT_ACCESS):
                raise
            log.warning("no tombstones readable (%s); deletions are seen by full passes only", error)
            yield [], True

    def window_pages(self, stream: str, start: str, page_size: int | None = None) -> Iterator[Page]:
        """Entries changed since `start` (ISO-8601) by `whenChanged`, for a time-range backfill: the stream's
        cursor is not moved (pages carry none). whenChanged is kept per DC, like the USN, so this is the
        DC's view of "changed since"."""
        since = datetime.fromisoformat(start.replace("Z", "+00:00"))
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        stamp = since.astimezone(UTC).strftime("%Y%m%d%H%M%S.0Z")
        size = min(page_size or self.config.page_size, self.config.page_size)
        for records, last in self.search(self._query(stream, f"(whenChanged>={stamp})"), size):
            if last:
                self.close()
            yield Page(records, None, has_more=not last)

    def count(self, stream: str) -> int:
        """Entries the stream's full pass would return (no attributes read)."""
        query = self._query(stream)
        query = _Query(query.base, query.filter, (ldap3.NO_ATTRIBUTES,))
        total = sum(len(records) for records, _ in self.search(query, self.config.page_size))
        self.close()
        return total

    def streams(self) -> dict[str, Stream]:
        return {name: ActiveDirectoryStream(self, name) for name in STREAMS}


@dataclass(frozen=True)
class ActiveDirectoryStream:
    client: ActiveDirectoryClient
    stream: str
    page_size: int | None = None

    @property
    def name(self) -> str:
        return self.stream

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("objectGUID",)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.pages(self.stream, cursor, self.page_size)
