"""Response bodies in QBO's shapes, built from cached entity JSON so big pages stay cheap."""

import json
import uuid
from collections.abc import Iterable

from fastapi import Response

from connectors.sandbox.quickbooks.errors import QboError
from connectors.sandbox.quickbooks.state import QuickBooksState
from connectors.sandbox.quickbooks.table import EntityId, EntityRow, Tombstone, dumps
from connectors.sandbox.quickbooks.timefmt import format_response_time, format_timestamp

Change = EntityRow | Tombstone


def _time_field(state: QuickBooksState) -> bytes:
    return json.dumps(format_response_time(state.clock.now(), state.zone)).encode()


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # Every Intuit response carries a transaction id that support asks for when debugging.
    return Response(body, status, {"intuit_tid": str(uuid.uuid4()), **(headers or {})}, "application/json")


def _array(rows: Iterable[EntityRow]) -> bytes:
    return b"[" + b",".join(row.json() for row in rows) + b"]"


def entity_body(state: QuickBooksState, entity: str, row: EntityRow) -> bytes:
    """``{"Invoice": {...}, "time": "..."}`` for read, create, update and void."""
    return b'{"%b":' % entity.encode() + row.json() + b',"time":' + _time_field(state) + b"}"


def deleted_body(state: QuickBooksState, entity: str, entity_id: EntityId) -> bytes:
    """What operation=delete answers: ``{"Invoice": {"status": "Deleted", "domain": "QBO", "Id": "..."}}``."""
    deleted = dumps({"status": "Deleted", "domain": "QBO", "Id": str(entity_id)})
    return b'{"%b":' % entity.encode() + deleted + b',"time":' + _time_field(state) + b"}"


def query_body(state: QuickBooksState, entity: str, rows: list[EntityRow], start_position: int) -> bytes:
    if not rows:
        inner = b"{}"  # QBO answers an empty page with an empty QueryResponse object
    else:
        inner = b'{"%b":%b,"startPosition":%d,"maxResults":%d}' % (
            entity.encode(),
            _array(rows),
            start_position,
            len(rows),
        )
    return b'{"QueryResponse":' + inner + b',"time":' + _time_field(state) + b"}"


def count_body(state: QuickBooksState, total: int) -> bytes:
    return b'{"QueryResponse":{"totalCount":%d},"time":%b}' % (total, _time_field(state))


def _change_json(state: QuickBooksState, change: Change) -> bytes:
    if isinstance(change, EntityRow):
        return change.json()
    # A deleted transaction: only its Id, status and when it went.
    stamp = format_timestamp(change.updated, state.zone)
    return dumps(
        {"domain": "QBO", "status": "Deleted", "Id": str(change.id), "MetaData": {"LastUpdatedTime": stamp}}
    )


def cdc_body(state: QuickBooksState, changes: dict[str, list[Change]]) -> bytes:
    responses = []
    for entity, objects in changes.items():
        if objects:
            payload = b'"%b":[%b],"startPosition":1,"maxResults":%d,"totalCount":%d' % (
                entity.encode(),
                b",".join(_change_json(state, change) for change in objects),
                len(objects),
                len(objects),
            )
            responses.append(b"{" + payload + b"}")
        else:
            responses.append(b"{}")
    return (
        b'{"CDCResponse":[{"QueryResponse":['
        + b",".join(responses)
        + b']}],"time":'
        + _time_field(state)
        + b"}"
    )


def error_response(state: QuickBooksState, error: QboError) -> Response:
    now = state.clock.now()
    body = error.body(format_response_time(now, state.zone), int(now * 1000))
    return json_response(json.dumps(body).encode(), error.status, error.headers)
