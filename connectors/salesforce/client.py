"""Salesforce client: one org through simple-salesforce (REST API), over https.

Reading, per object (Account, Contact, Lead, Opportunity): records changed since the cursor by SOQL on
`SystemModstamp` (ordered by it and `Id`), paged by query locators (`nextRecordsUrl`, queryMore), then the
records deleted since the last run from `sobjects/{type}/deleted` (getDeleted) as tombstones
`{"Id", "IsDeleted": true, "deletedDate"}`. The cursor (JSON) is the newest (SystemModstamp, Id) seen and
where getDeleted's window starts (its `latestDateCovered`); every page's cursor is safe to store: records
come in (SystemModstamp, Id) order, so resuming after a page skips exactly what it held. The query starts
at the cursor's whole second (SOQL dateTime literals) and drops what it already had. getDeleted refuses a
window older than 30 days (INVALID_REPLICATION_DATE → CursorExpiredError: the engine does a full refresh).

Tokens: an expired session (401 INVALID_SESSION_ID) is refreshed with the refresh token once and the call
repeated; the new token goes to `on_tokens` before it is used. Limits: every answer's `Sforce-Limit-Info`
updates the org's API usage; once it reaches the share the connection leaves free, the stream stops before
its next call with `ApiUsageNearLimit` (pages already yielded are kept). 403 REQUEST_LIMIT_EXCEEDED is
`ApiLimitExceeded`. Both are permanent: no retry storm against a spent allocation.

Writing: leads and contacts are upserted on the connection's external-id field (firmsync's id).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from simple_salesforce import Salesforce

from connectors.base import Page, PermanentError, RetryPolicy, Stream, TokenSet, retrying
from connectors.salesforce.config import SalesforceConfig, SalesforceCredentials
from connectors.salesforce.mapping import EXTERNAL_KEY
from connectors.salesforce.transport import (
    PROVIDER,
    ApiUsageNearLimit,
    SessionExpired,
    TrustingSession,
    map_error,
    token_error,
)

log = logging.getLogger("connectors.salesforce")
T = TypeVar("T")

DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=30.0, max_retry_after=300.0)
DELETION_SKEW = timedelta(minutes=5)  # how far getDeleted windows reach back past this machine's clock
COMMON_FIELDS = ("Id", "OwnerId", "CreatedDate", "LastModifiedDate", "SystemModstamp")
FIELDS: dict[str, tuple[str, ...]] = {
    "Account": (
        *COMMON_FIELDS,
        "Name",
        "Type",
        "Industry",
        "Phone",
        "Website",
        "BillingStreet",
        "BillingCity",
        "BillingState",
        "BillingPostalCode",
        "BillingCountry",
        "AnnualRevenue",
        "NumberOfEmployees",
    ),
    "Contact": (*COMMON_FIELDS, "AccountId", "FirstName", "LastName", "Name", "Email", "Phone", "Title"),
    "Lead": (
        *COMMON_FIELDS,
        "FirstName",
        "LastName",
        "Name",
        "Company",
        "Email",
        "Phone",
        "Status",
        "LeadSource",
        "IsConverted",
    ),
    "Opportunity": (
        *COMMON_FIELDS,
        "AccountId",
        "Name",
        "StageName",
        "Amount",
        "CloseDate",
        "Probability",
        "IsClosed",
        "IsWon",
    ),
}
STREAMS_BY_OBJECT = {
    "Account": "accounts",
    "Contact": "contacts",
    "Lead": "leads",
    "Opportunity": "opportunities",
}
STREAMS = tuple(STREAMS_BY_OBJECT.values())
OBJECT_OF_STREAM = {stream: sobject for sobject, stream in STREAMS_BY_OBJECT.items()}


def parse_sf_datetime(value: str) -> datetime:
    """`2026-11-01T16:00:00.000+0000` (Salesforce's JSON), `…Z` or `…+00:00` → aware UTC datetime."""
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


def _soql_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Cursor:
    modstamp: str | None = None  # newest SystemModstamp read (Salesforce's text)
    id: str | None = None  # the Id of the last record at that stamp
    deleted: str | None = None  # where the next getDeleted window starts

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(data.get("modstamp"), data.get("id"), data.get("deleted"))
        except (ValueError, AttributeError) as error:
            raise PermanentError(PROVIDER, "stored cursor is not a Salesforce cursor") from error

    def dump(self) -> str:
        return json.dumps({"modstamp": self.modstamp, "id": self.id, "deleted": self.deleted}, sort_keys=True)

    def position(self) -> tuple[datetime, str] | None:
        return (parse_sf_datetime(self.modstamp), self.id or "") if self.modstamp else None


class SalesforceClient:
    """One Salesforce org. `on_tokens` receives every refreshed `TokenSet` before it is used."""

    provider = PROVIDER

    def __init__(
        self,
        config: SalesforceConfig,
        credentials: SalesforceCredentials,
        *,
        on_tokens: Callable[[TokenSet], None],
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._on_tokens = on_tokens
        self._policy = retry_policy
        self._now = now
        self._client_secret = credentials.client_secret.get_secret_value()
        self._refresh_token = credentials.refresh_token.get_secret_value()
        self._session = TrustingSession(config.ca_bundle, timeout)
        self._instance_url = config.instance_url
        self._sf: Salesforce | None = None
        if credentials.access_token is not None:
            self._connect(credentials.access_token.get_secret_value())
        self.calls = 0  # API requests made (tests and run metadata)

    def __repr__(self) -> str:
        return f"SalesforceClient(org={self.config.org_id!r}, instance={self._instance_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- tokens

    def _connect(self, access_token: str) -> None:
        self._sf = Salesforce(
            instance_url=self._instance_url,
            session_id=access_token,
            session=self._session,
            version=self.config.api_version,
        )

    def refresh_tokens(self) -> None:
        """A new access token from the refresh token (`on_tokens` receives it before it is used)."""

        def attempt() -> dict[str, Any]:
            try:
                response = self._session.post(
                    self.config.token_url,
                    data={
                        "grant_type": "refresh_token",
                        "client_id": self.config.client_id,
                        "client_secret": self._client_secret,
                        "refresh_token": self._refresh_token,
                        "format": "json",
                    },
                    headers={"Accept": "application/json"},
                )
            except Exception as error:
                raise map_error(error) from error
            if response.status_code != 200:
                raise token_error(response)
            return response.json()

        body = retrying(attempt, policy=self._policy)
        # Salesforce rotates refresh tokens only when the connected app says so; keep a new one if sent.
        self._refresh_token = body.get("refresh_token") or self._refresh_token
        if body.get("instance_url"):
            self._instance_url = str(body["instance_url"]).rstrip("/")
        issued = body.get("issued_at")
        issued_at = datetime.fromtimestamp(int(issued) / 1000, UTC) if issued else None
        self._on_tokens(TokenSet(body["access_token"], self._refresh_token, None, None))
        self._connect(body["access_token"])
        log.info("refreshed Salesforce session for org %s (issued %s)", self.config.org_id, issued_at)

    # ---- calls

    def _call(self, action: Callable[[Salesforce], T]) -> T:
        """One API call with retries of transient errors and one token refresh on INVALID_SESSION_ID."""

        def attempt() -> T:
            if self._sf is None:
                self.refresh_tokens()
            refreshed = False
            while True:
                self.calls += 1
                try:
                    return action(self._sf)  # type: ignore[arg-type]
                except Exception as error:
                    mapped = map_error(error)
                    if isinstance(mapped, SessionExpired) and not refreshed:
                        refreshed = True
                        self.refresh_tokens()
                        continue
                    if isinstance(mapped, SessionExpired):
                        raise PermanentError(PROVIDER, mapped.message, status_code=401) from error
                    if mapped is error:
                        raise
                    raise mapped from error

        return retrying(attempt, policy=self._policy)

    @property
    def api_usage(self):
        return self._session.api_usage

    def check_api_usage(self) -> None:
        """Stop before the next call once usage reaches the share this connection leaves free."""
        usage = self._session.api_usage
        if usage is None or usage.total <= 0:
            return
        allowed = usage.total * (1 - self.config.api_usage_margin_percent / 100)
        if usage.used >= allowed:
            raise ApiUsageNearLimit(
                PROVIDER,
                f"API usage {usage.used:,} of {usage.total:,} daily requests reached the "
                f"{self.config.api_usage_margin_percent:g}% kept free for the org's other integrations; the "
                "sync stopped and resumes from its cursor once usage falls",
                status_code=None,
            )

    def limits(self) -> dict[str, Any]:
        return self._call(lambda sf: sf.limits())

    # ---- reading

    def _query_headers(self, page_size: int) -> dict[str, str]:
        size = max(200, min(page_size, self.config.query_batch_size))
        return {"Sforce-Query-Options": f"batchSize={size}"}

    def external_id_field(self, sobject: str) -> str | None:
        return {
            "Contact": self.config.contact_external_id_field,
            "Lead": self.config.lead_external_id_field,
        }.get(sobject)

    def changed_query(self, sobject: str, cursor: Cursor) -> str:
        external = self.external_id_field(sobject)
        fields = ", ".join((*FIELDS[sobject], external) if external else FIELDS[sobject])
        where = ""
        position = cursor.position()
        if position is not None:
            # Whole seconds (SOQL's dateTime literal); what was already read is dropped by `pages`.
            where = f" WHERE SystemModstamp >= {_soql_datetime(position[0].replace(microsecond=0))}"
        # Only our own field lists and a formatted datetime go in: nothing from a user or a payload.
        return f"SELECT {fields} FROM {sobject}{where} ORDER BY SystemModstamp, Id"  # noqa: S608

    def pages(self, sobject: str, cursor: str | None = None, page_size: int = 2000) -> Iterator[Page]:
        """Records of `sobject` changed since `cursor` (all live ones when None), then its deletions."""
        state = Cursor.load(cursor)
        after = state.position()
        started = self._now()
        headers = self._query_headers(page_size)
        external = self.external_id_field(sobject)
        self.check_api_usage()
        query = self.changed_query(sobject, state)
        result = self._call(lambda sf: sf.query(query, headers=headers))
        while True:
            records = []
            for record in result.get("records") or []:
                record = {k: v for k, v in record.items() if k != "attributes"}
                if external:  # under one name whatever the connection's field is called
                    record[EXTERNAL_KEY] = record.pop(external, None)
                key = (parse_sf_datetime(record["SystemModstamp"]), record["Id"])
                if after is not None and key <= after:
                    continue  # read by an earlier run (same whole second)
                records.append(record)
                state.modstamp, state.id = record["SystemModstamp"], record["Id"]
            next_url = result.get("nextRecordsUrl")
            if not next_url:
                break
            yield Page(records, state.dump(), has_more=True)
            self.check_api_usage()
            result = self._call(
                lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True, headers=headers)
            )
        tombstones = list(self._deletions(sobject, state, started))
        yield Page(records + tombstones, state.dump(), has_more=False)

    def _deletions(self, sobject: str, state: Cursor, started: datetime) -> Iterator[dict[str, Any]]:
        if state.deleted is None:
            # First run: nothing seen before can have been deleted since. Watch from when this read began
            # (less a margin for clock skew with Salesforce): a record it returned and deleted after it was
            # read has a later deletedDate. Not the newest SystemModstamp: a quiet object's is months old,
            # and getDeleted refuses windows starting more than 30 days back.
            state.deleted = (started - DELETION_SKEW).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            return
        start = parse_sf_datetime(state.deleted)
        end = max(self._now(), start + timedelta(minutes=1))
        self.check_api_usage()
        body = self._call(lambda sf: getattr(sf, sobject).deleted(start, end))
        for item in body.get("deletedRecords") or []:
            yield {"Id": item["id"], "IsDeleted": True, "deletedDate": item["deletedDate"]}
        state.deleted = body.get("latestDateCovered") or state.deleted

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        return self._call(lambda sf: getattr(sf, sobject).get(record_id))

    def streams(self) -> dict[str, Stream]:
        return {stream: SalesforceStream(self, sobject) for sobject, stream in STREAMS_BY_OBJECT.items()}

    # ---- writing

    def upsert(
        self, sobject: str, external_field: str, external_id: str, fields: dict[str, Any]
    ) -> tuple[str, bool]:
        """Create or update the record whose `external_field` is `external_id`: (Salesforce id, created).
        Several matching records (300) raise PermanentError with status 300."""
        body = {k: v for k, v in fields.items() if k != external_field}
        self.check_api_usage()
        response = self._call(
            lambda sf: getattr(sf, sobject).upsert(f"{external_field}/{external_id}", body, raw_response=True)
        )
        created = response.status_code == 201
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        record_id = answer.get("id") if isinstance(answer, dict) else None
        if not record_id:  # before v46.0 an update answers 204 without a body
            record_id = self._call(
                lambda sf: getattr(sf, sobject).get_by_custom_id(external_field, external_id)
            )["Id"]
        return str(record_id), created

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        """Change fields of the record with this Salesforce id (PATCH /sobjects/{type}/{id}: 204)."""
        self.check_api_usage()
        self._call(lambda sf: getattr(sf, sobject).update(record_id, fields))

    def record(self, sobject: str, record_id: str) -> dict[str, Any]:
        """A record as the incremental read returns it (its fields, the external id under `firmsyncId`)."""
        external = self.external_id_field(sobject)
        fields = (*FIELDS[sobject], external) if external else FIELDS[sobject]
        record = self._call(lambda sf: getattr(sf, sobject).get(record_id, headers=None))
        out = {name: record.get(name) for name in fields}
        if external:
            out[EXTERNAL_KEY] = out.pop(external, None)
        return out

    def upsert_lead(self, local_id: str, fields: dict[str, Any]) -> tuple[str, bool]:
        return self.upsert("Lead", self.config.lead_external_id_field, local_id, fields)

    def upsert_contact(self, local_id: str, fields: dict[str, Any]) -> tuple[str, bool]:
        return self.upsert("Contact", self.config.contact_external_id_field, local_id, fields)


@dataclass(frozen=True)
class SalesforceStream:
    """One sObject's records as a generic `Stream` (tombstones for deletions)."""

    client: SalesforceClient
    sobject: str

    @property
    def name(self) -> str:
        return STREAMS_BY_OBJECT[self.sobject]

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("Id",)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.pages(self.sobject, cursor)
