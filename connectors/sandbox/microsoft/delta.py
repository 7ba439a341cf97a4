"""calendarView delta (learn.microsoft.com/graph/api/event-delta, /graph/delta-query-events).

A round starts with `startDateTime`/`endDateTime` and pages through `@odata.nextLink` (a `$skiptoken`);
its last page carries `@odata.deltaLink` (a `$deltatoken`). The next round, from that link, returns only what
changed since: created and updated events in full, deleted ones as `{"id", "@removed": {"reason":
"deleted"}}`, and events moved out of the window with reason "changed". Page size: 10 by default, up to
`Prefer: odata.maxpagesize=N` (the answer says `Preference-Applied`).

Tokens are signed and carry the window, the change sequence the round reads up to and the id after which
the next page starts (keyset paging: an event deleted mid-round never shifts a page). A delta token past its
life, issued before the mailbox's sync state was reset, or issued by an earlier run of the sandbox (whose
change sequence is gone) answers 410 Gone `syncStateNotFound`.
"""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner
from connectors.sandbox.microsoft import errors
from connectors.sandbox.microsoft.events import overlaps
from connectors.sandbox.microsoft.state import MicrosoftState, User

DEFAULT_PAGE = 10
MAX_PAGE = 1000


class DeltaTokens:
    def __init__(self, secret: str) -> None:
        self._signer = TokenSigner(secret, "microsoft-delta")

    def sign(self, claims: dict[str, Any]) -> str:
        return self._signer.sign(claims)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            return self._signer.verify(token)
        except InvalidToken:
            raise errors.bad_request("The $deltatoken or $skiptoken is not valid.", "BadRequest") from None


def page_size(prefer: str | None) -> int:
    for part in (prefer or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, min(MAX_PAGE, int(value.strip())))
    return DEFAULT_PAGE


def _window(params: dict[str, str]) -> tuple[str, str]:
    start = params.get("startDateTime") or params.get("startdatetime")
    end = params.get("endDateTime") or params.get("enddatetime")
    if not start or not end:
        raise errors.bad_request(
            "This request requires a time window specified by the query string parameters StartDateTime and "
            "EndDateTime.",
            "ErrorInvalidParameter",
        )
    return start, end


def _parse(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise errors.bad_request(f"Cannot parse '{text}' as a date.", "ErrorInvalidParameter") from None
    if moment.tzinfo is None:
        raise errors.bad_request("startDateTime and endDateTime need an offset.", "ErrorInvalidParameter")
    return moment


def _removed(event_id: str, reason: str) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.event", "id": event_id, "@removed": {"reason": reason}}


def _was_in(user: User, event_id: str, start: datetime, end: datetime) -> bool:
    was = user.was.get(event_id)
    return was is not None and overlaps({"start": was[0], "end": was[1]}, start, end)


def delta_page(
    state: MicrosoftState, tokens: DeltaTokens, user: User, params: dict[str, str], link_base: str, size: int
) -> dict[str, Any]:
    now = state.clock.now()
    if "$deltatoken" in params:
        claims = tokens.verify(params["$deltatoken"])
        if claims.get("kind") != "delta" or claims.get("user") != user.id:
            raise errors.bad_request("The $deltatoken is not valid for this resource.")
        if (
            claims.get("gen") != state.generation
            or claims["iat"] < user.delta_valid_after
            or claims["iat"] + state.settings.microsoft_delta_token_ttl < now
        ):
            raise errors.sync_state_not_found()
        round_ = {
            "start": claims["start"],
            "end": claims["end"],
            "since": claims["seq"],
            "upto": user.seq,
            "after": "",
        }
    elif "$skiptoken" in params:
        claims = tokens.verify(params["$skiptoken"])
        if claims.get("kind") != "skip" or claims.get("user") != user.id:
            raise errors.bad_request("The $skiptoken is not valid for this resource.")
        if claims.get("gen") != state.generation:
            raise errors.sync_state_not_found()
        round_ = {k: claims[k] for k in ("start", "end", "since", "upto", "after")}
    else:
        start, end = _window(params)
        _parse(start), _parse(end)
        round_ = {"start": start, "end": end, "since": None, "upto": user.seq, "after": ""}
    start, end = _parse(round_["start"]), _parse(round_["end"])
    since, upto, after = round_["since"], round_["upto"], round_["after"]

    items: list[tuple[str, dict[str, Any]]] = []
    for event_id, event in user.events.items():
        seq = user.seqs[event_id]
        if seq > upto or event_id <= after or (since is not None and seq <= since):
            continue
        if overlaps(event, start, end):
            items.append((event_id, event))
        elif since is not None and _was_in(user, event_id, start, end):
            # Moved out of the window since the last round: gone from this view.
            items.append((event_id, _removed(event_id, "changed")))
    if since is not None:
        for event_id, removed in user.removed.items():
            if since < removed.seq <= upto and event_id > after:
                items.append((event_id, _removed(event_id, "deleted")))
    items.sort(key=lambda pair: pair[0])
    page, more = items[:size], len(items) > size
    body: dict[str, Any] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
        "value": [dict(item) for _, item in page],
    }
    if more:
        skip = tokens.sign(
            {"kind": "skip", "user": user.id, **round_, "after": page[-1][0], "gen": state.generation}
        )
        body["@odata.nextLink"] = f"{link_base}?{urlencode({'$skiptoken': skip})}"
    else:
        delta = tokens.sign(
            {
                "kind": "delta",
                "user": user.id,
                "start": round_["start"],
                "end": round_["end"],
                "seq": upto,
                "gen": state.generation,
                "iat": now,
            }
        )
        body["@odata.deltaLink"] = f"{link_base}?{urlencode({'$deltatoken': delta})}"
    return body
