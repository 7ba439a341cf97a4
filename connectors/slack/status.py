"""The `/firmsync status` answer: one Block Kit message listing the firm's integrations.

Pure: records in, a slash-command response out (`response_type` `ephemeral`, only the asker sees it).
Block Kit limits respected (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks per
message and 3000 characters per section text; user-supplied text is escaped as Slack's formatting rules
ask (`&`, `<`, `>`, https://api.slack.com/reference/surfaces/formatting#escaping), and sync times use
Slack's `<!date^…>` token so each reader sees them in their own time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_BLOCKS = 50
MAX_ERROR_CHARS = 300
# header, summary, divider, one section per connection, and room for the "and N more" context
_MAX_LISTED = MAX_BLOCKS - 4
_ICONS = {
    "active": ":white_check_mark:",
    "ok": ":white_check_mark:",
    "syncing": ":arrows_counterclockwise:",
    "pending": ":hourglass_flowing_sand:",
    "error": ":warning:",
    "failing": ":warning:",
    "needs_reauth": ":no_entry:",
    "revoked": ":no_entry:",
    "disabled": ":double_vertical_bar:",
}
_HEALTHY = {"active", "ok", "syncing", "pending"}


@dataclass(frozen=True)
class ConnectionStatus:
    provider: str
    display_name: str
    status: str
    last_sync_at: datetime | None
    last_error: str | None


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    # `<!date^unix^{date_short_pretty} at {time}|fallback>` renders in the reader's zone.
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{moment.isoformat()}>"


def _record(item: ConnectionStatus | Sequence[Any]) -> ConnectionStatus:
    return item if isinstance(item, ConnectionStatus) else ConnectionStatus(*item)


def _section(c: ConnectionStatus) -> dict[str, Any]:
    icon = _ICONS.get(c.status, ":grey_question:")
    lines = [
        f"{icon} *{escape(c.display_name)}* ({escape(c.provider)})",
        f"Status: `{escape(c.status)}` · Last sync: {_when(c.last_sync_at)}",
    ]
    if c.last_error:
        error = (
            c.last_error
            if len(c.last_error) <= MAX_ERROR_CHARS
            else c.last_error[: MAX_ERROR_CHARS - 1] + "…"
        )
        lines.append(f"Last error: {escape(error)}")
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}


def format_status(connections: Iterable[ConnectionStatus | Sequence[Any]]) -> dict[str, Any]:
    """`(provider, display name, status, last sync at, last error)` records → the command's JSON answer."""
    records = sorted((_record(c) for c in connections), key=lambda c: (c.status in _HEALTHY, c.display_name))
    attention = sum(1 for c in records if c.status not in _HEALTHY)
    if not records:
        summary = "No integrations are connected yet."
    elif attention:
        summary = f"{len(records)} integrations, {attention} need attention."
    else:
        summary = f"{len(records)} integrations, all healthy."
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "firmsync status"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
    ]
    if records:
        blocks.append({"type": "divider"})
        blocks.extend(_section(c) for c in records[:_MAX_LISTED])
        if len(records) > _MAX_LISTED:
            more = len(records) - _MAX_LISTED
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {more} more"}]})
    return {"response_type": "ephemeral", "text": f"firmsync status: {summary}", "blocks": blocks}
