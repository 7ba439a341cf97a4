"""Everything the Salesforce emulator holds: orgs with their records and delete logs, API usage, tokens,
query locators, faults and counters."""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner
from connectors.sandbox.common.stats import RequestStats
from connectors.sandbox.salesforce import errors
from connectors.sandbox.salesforce.schema import (
    COMPOUND_NAME,
    KEY_PREFIXES,
    OBJECTS,
    READ_ONLY,
    REQUIRED,
    STAGES,
    record_id,
    sf_datetime,
    with_checksum,
)
from connectors.sandbox.settings import SandboxSettings

DAY = 86_400.0
DELETE_LOG_DAYS = 15  # getDeleted returns no more than 15 days back
REPLICATION_WINDOW_DAYS = 30  # an older start date is INVALID_REPLICATION_DATE
LOCATOR_TTL = 15 * 60.0  # query cursors time out after 15 minutes of inactivity


@dataclass
class Locator:
    records: list[dict[str, Any]]
    position: int
    batch: int
    version: str
    touched: float


@dataclass
class Org:
    org_id: str
    name: str
    username: str
    created: float
    daily_api_requests: int
    session_timeout_seconds: int
    user_id: str
    pod: str
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {o: {} for o in OBJECTS})
    # sObject → [(id, deleted at)] in deletion order; purged after DELETE_LOG_DAYS.
    delete_log: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: {o: [] for o in OBJECTS})
    purged_through: dict[str, float] = field(default_factory=dict)
    api_calls: deque[float] = field(default_factory=deque)
    access_tokens_expired_at: float = 0.0
    refresh_tokens_revoked_at: float = 0.0
    # Sessions issued so far die after this many more API requests (a session timing out mid-sync).
    expire_sessions_after_calls: int | None = None
    serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_id(self, sobject: str) -> str:
        return record_id(KEY_PREFIXES[sobject], self.pod, next(self.serial))


class SalesforceState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.client_id = settings.salesforce_client_id
        self.client_secret = settings.salesforce_client_secret.get_secret_value()
        self.orgs: dict[str, Org] = {}
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.locators: dict[str, Locator] = {}
        self.consent_org: str | None = None  # who approves at /authorize (None: the demo org)
        secret = settings.secret.get_secret_value()
        self._codes = TokenSigner(secret, "salesforce-code", "aPrx")
        self._refresh = TokenSigner(secret, "salesforce-refresh", "5Aep861")
        self._access = TokenSigner(secret, "salesforce-access", "")
        self._spent_codes: set[str] = set()
        # Fixed refresh tokens (the demo org's) → org id.
        self.fixed_refresh: dict[str, str] = {}

    # ---- orgs

    def add_org(
        self,
        name: str,
        *,
        org_id: str | None = None,
        username: str | None = None,
        daily_api_requests: int | None = None,
    ) -> Org:
        if org_id is None:
            org_id = with_checksum("00D" + secrets.token_hex(6)[:12].upper())
        if org_id in self.orgs:
            raise errors.SalesforceError(409, "DUPLICATE_VALUE", f"org {org_id} exists")
        pod = "5g" if not self.orgs else secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + str(len(self.orgs) % 10)
        org = Org(
            org_id=org_id,
            name=name,
            username=username or f"admin@{org_id.lower()}.sandbox.example",
            created=self.clock.now(),
            daily_api_requests=daily_api_requests or self.settings.salesforce_daily_api_requests,
            session_timeout_seconds=self.settings.salesforce_session_timeout_seconds,
            user_id="",
            pod=pod,
        )
        org.user_id = org.new_id("User")
        self.orgs[org_id] = org
        return org

    def org(self, org_id: str) -> Org:
        org = self.orgs.get(org_id)
        if org is None:
            raise errors.not_found(f"no org {org_id}")
        return org

    # ---- API usage: a rolling 24 hours per org

    def api_usage(self, org: Org) -> int:
        cutoff = self.clock.now() - DAY
        while org.api_calls and org.api_calls[0] <= cutoff:
            org.api_calls.popleft()
        return len(org.api_calls)

    def count_call(self, org: Org) -> None:
        """Count one API request, or refuse it when the org's daily allocation is spent."""
        if self.api_usage(org) >= org.daily_api_requests:
            raise errors.request_limit_exceeded()
        org.api_calls.append(self.clock.now())

    def limit_info(self, org: Org) -> str:
        return f"api-usage={self.api_usage(org)}/{org.daily_api_requests}"

    # ---- records

    def write(
        self,
        org: Org,
        sobject: str,
        values: dict[str, Any],
        record_id_: str | None = None,
        *,
        at: float | None = None,
    ) -> dict:
        """Create (no id) or update a record as the API does: validated, stamped (`at`, default now),
        derived fields set."""
        schema = OBJECTS[sobject]
        for name in values:
            if name not in schema:
                raise errors.invalid_field(f"No such column '{name}' on sobject of type {sobject}")
            if name in READ_ONLY or (name == "Name" and sobject in COMPOUND_NAME):
                raise errors.SalesforceError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {name}.",
                    fields=[name],
                )
        now = sf_datetime(self.clock.now() if at is None else at)
        if record_id_ is None:
            record = dict.fromkeys(schema)
            record |= {
                "Id": org.new_id(sobject),
                "IsDeleted": False,
                "OwnerId": org.user_id,
                "CreatedDate": now,
            }
        else:
            record = dict(org.records[sobject][record_id_])
        record.update(values)
        missing = [f for f in REQUIRED[sobject] if record.get(f) in (None, "")]
        if missing:
            raise errors.SalesforceError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                fields=missing,
            )
        if sobject in COMPOUND_NAME:
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        if sobject == "Lead" and record.get("Status") is None:
            record["Status"] = "Open - Not Contacted"
        if sobject == "Lead" and record.get("IsConverted") is None:
            record["IsConverted"] = False
        if sobject == "Opportunity":
            probability, closed, won = STAGES.get(record["StageName"], (None, False, False))
            if "Probability" not in values:
                record["Probability"] = probability
            record["IsClosed"], record["IsWon"] = closed, won
        for ref in ("AccountId",):
            if ref in values and values[ref] is not None and values[ref] not in org.records["Account"]:
                raise errors.SalesforceError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"invalid cross reference id: {values[ref]}",
                    fields=[ref],
                )
        # Every write moves both stamps; writes in the same millisecond share one (readers order by Id too).
        record["LastModifiedDate"] = record["SystemModstamp"] = now
        org.records[sobject][record["Id"]] = record
        return record

    def delete(self, org: Org, sobject: str, record_id_: str) -> None:
        record = org.records[sobject].pop(record_id_, None)
        if record is None:
            raise errors.SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        org.delete_log[sobject].append((record_id_, self.clock.now()))

    def find(self, org: Org, sobject: str, record_id_: str) -> dict | None:
        found = org.records[sobject].get(record_id_)
        if found is None and len(record_id_) == 15:  # the case-sensitive 15-character form
            found = org.records[sobject].get(with_checksum(record_id_))
        return found

    def deleted_between(self, org: Org, sobject: str, start: float, end: float) -> list[tuple[str, float]]:
        self._purge(org, sobject)
        return [(rid, at) for rid, at in org.delete_log[sobject] if start <= at < end]

    def earliest_available(self, org: Org, sobject: str) -> float:
        self._purge(org, sobject)
        return org.purged_through.get(sobject, org.created)

    def _purge(self, org: Org, sobject: str) -> None:
        cutoff = self.clock.now() - DELETE_LOG_DAYS * DAY
        log = org.delete_log[sobject]
        while log and log[0][1] < cutoff:
            org.purged_through[sobject] = log.pop(0)[1]

    # ---- tokens (self-describing and signed: a restarted sandbox still accepts them)

    def issue_code(self, org: Org, redirect_uri: str) -> str:
        claims = {"o": org.org_id, "r": redirect_uri, "n": secrets.token_hex(6)}
        return self._codes.sign(
            claims | {"e": self.clock.now() + self.settings.salesforce_authorization_code_ttl}
        )

    def redeem_code(self, code: str, redirect_uri: str | None) -> Org:
        try:
            claims = self._codes.verify(code)
        except InvalidToken:
            raise errors.OAuthError("invalid_grant", "invalid authorization code") from None
        if claims["e"] <= self.clock.now() or claims["n"] in self._spent_codes:
            raise errors.OAuthError("invalid_grant", "expired authorization code")
        if redirect_uri != claims["r"]:
            raise errors.OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        self._spent_codes.add(claims["n"])
        return self.org(claims["o"])

    def issue_refresh(self, org: Org) -> str:
        return self._refresh.sign({"o": org.org_id, "i": self.clock.now(), "n": secrets.token_hex(4)})

    def org_of_refresh(self, token: str) -> Org:
        org_id = self.fixed_refresh.get(token)
        if org_id is None:
            try:
                claims = self._refresh.verify(token)
            except InvalidToken:
                raise errors.OAuthError("invalid_grant", "authentication failure") from None
            org = self.orgs.get(claims["o"])
            if org is None or claims["i"] <= org.refresh_tokens_revoked_at:
                raise errors.OAuthError("invalid_grant", "expired access/refresh token")
            return org
        org = self.orgs.get(org_id)
        if org is None or org.refresh_tokens_revoked_at > org.created:
            raise errors.OAuthError("invalid_grant", "expired access/refresh token")
        return org

    def issue_access(self, org: Org) -> str:
        # Salesforce session ids start with the org id and "!".
        body = self._access.sign({"o": org.org_id, "i": self.clock.now(), "n": secrets.token_hex(4)})
        return f"{org.org_id[:15]}!{body}"

    def org_of_access(self, token: str) -> Org | None:
        _, _, body = token.partition("!")
        try:
            claims = self._access.verify(body)
        except InvalidToken:
            return None
        org = self.orgs.get(claims["o"])
        if org is None:
            return None
        now = self.clock.now()
        if claims["i"] <= org.access_tokens_expired_at or claims["i"] + org.session_timeout_seconds <= now:
            return None
        return org

    def org_hint(self, token: str) -> str | None:
        """The org a token names, valid or not (fault matching and counters)."""
        _, _, body = token.partition("!")
        try:
            return self._access.verify(body)["o"]
        except InvalidToken:
            return None

    # ---- query locators

    def new_locator(self, records: list[dict], batch: int, version: str) -> str:
        self._expire_locators()
        locator = with_checksum("01g" + secrets.token_hex(6)[:12].upper())
        self.locators[locator] = Locator(records, 0, batch, version, self.clock.now())
        return locator

    def locator(self, locator: str) -> Locator:
        self._expire_locators()
        found = self.locators.get(locator)
        if found is None:
            raise errors.SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        found.touched = self.clock.now()
        return found

    def _expire_locators(self) -> None:
        cutoff = self.clock.now() - LOCATOR_TTL
        for key in [k for k, v in self.locators.items() if v.touched < cutoff]:
            del self.locators[key]
