"""Slash commands signed by the sandbox's Slack and checked by the connector; the /firmsync status answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.slack.client import SlackClient
from connectors.slack.config import SlackConfig, SlackCredentials
from connectors.slack.signature import verify_slash_command
from connectors.slack.status import ConnectionStatus, format_status
from connectors.webhooks.base import SignatureError
from tests.support.processes import free_port


class Recorder:
    """Where the sandbox sends commands: keeps each raw request and answers 200 with an empty JSON body."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.requests.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/commands"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def workspace(sandbox) -> dict:
    return sandbox.new_slack_workspace(channels=["ops"])


def send(sandbox, workspace: dict, recorder: Recorder, **spec: Any) -> tuple[dict[str, str], bytes]:
    delivery = sandbox.slack_admin(
        "POST", f"/workspaces/{workspace['team_id']}/slash_commands", json={"url": recorder.url, **spec}
    )
    assert delivery["status"] == 200, delivery
    return recorder.requests[-1]


def client(sandbox, workspace: dict) -> SlackClient:
    return SlackClient(
        SlackConfig(team_id=workspace["team_id"], api_base_url=f"{sandbox.slack}/api"),
        SlackCredentials(signing_secret=SecretStr(workspace["signing_secret"]), bot_token=None),
    )


def test_a_sandbox_signed_command_is_accepted(sandbox, workspace: dict, recorder: Recorder) -> None:
    headers, body = send(sandbox, workspace, recorder, text="status", user_id="U777")
    command = client(sandbox, workspace).verify_slash_command(headers, body, now=time.time())
    assert (command.command, command.text, command.team_id, command.user_id) == (
        "/firmsync",
        "status",
        workspace["team_id"],
        "U777",
    )
    assert command.response_url.startswith(f"{sandbox.slack}/commands/")


def test_tampered_wrongly_keyed_and_stale_commands_are_refused(
    sandbox, workspace: dict, recorder: Recorder
) -> None:
    slack = client(sandbox, workspace)
    headers, body = send(sandbox, workspace, recorder, tamper=True)
    with pytest.raises(SignatureError, match="does not match"):
        slack.verify_slash_command(headers, body, now=time.time())
    headers, body = send(sandbox, workspace, recorder, signing_secret="someone-elses-secret")
    with pytest.raises(SignatureError, match="does not match"):
        slack.verify_slash_command(headers, body, now=time.time())
    stale_at = int(time.time()) - 301  # just outside the five-minute window
    headers, body = send(sandbox, workspace, recorder, timestamp=stale_at)
    with pytest.raises(SignatureError, match="five minutes"):
        slack.verify_slash_command(headers, body, now=time.time())
    # the same request was fine while it was fresh: only the clock made it a replay
    assert verify_slash_command(workspace["signing_secret"], headers, body, now=stale_at + 299).text == ""
    with pytest.raises(SignatureError, match="missing"):
        slack.verify_slash_command({}, body, now=time.time())


def test_format_status_lists_problems_first_with_escaped_errors() -> None:
    synced = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    answer = format_status(
        [
            ("quickbooks", "QuickBooks Online", "active", synced, None),
            ConnectionStatus("xero", "Xero <Books>", "needs_reauth", None, "token revoked & <gone>"),
        ]
    )
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "firmsync status: 2 integrations, 1 need attention."
    header, _summary, divider, first, second = answer["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "firmsync status"}}
    assert divider == {"type": "divider"}
    assert first["text"]["text"] == (
        ":no_entry: *Xero &lt;Books&gt;* (xero)\n"
        "Status: `needs_reauth` · Last sync: never\n"
        "Last error: token revoked &amp; &lt;gone&gt;"
    )
    assert second["text"]["text"] == (
        ":white_check_mark: *QuickBooks Online* (quickbooks)\n"
        f"Status: `active` · Last sync: <!date^{int(synced.timestamp())}^{{date_short_pretty}} at {{time}}|"
        "2026-12-01T09:30:00+00:00>"
    )
    json.dumps(answer)  # what the slash-command endpoint returns must serialise as is


def test_format_status_without_connections_and_with_too_many() -> None:
    assert format_status([])["blocks"][1]["text"]["text"] == "No integrations are connected yet."
    many = format_status([("stripe", f"Stripe {n}", "active", None, "x" * 500) for n in range(60)])
    assert len(many["blocks"]) == 50  # Block Kit's limit per message
    assert many["blocks"][-1]["elements"][0]["text"] == "…and 14 more"
    section = many["blocks"][3]["text"]["text"]
    assert section.endswith("…") and len(section) < 3000  # errors are cut to stay within a section
