"""The Slack emulator sends signed slash commands to an app's request URL and records the answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.processes import free_port

ADMIN = "/slack/_sandbox"


class CommandApp:
    """A real HTTP endpoint standing in for firmsync: checks the v0 signature (Slack's documented
    procedure, computed here by hand) and answers the command with JSON, or 401."""

    def __init__(self) -> None:
        self.secret = ""
        self.requests: list[tuple[dict[str, str], bytes]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                app.requests.append((headers, body))
                base = b"v0:" + headers.get("x-slack-request-timestamp", "").encode() + b":" + body
                expected = "v0=" + hmac.new(app.secret.encode(), base, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, headers.get("x-slack-signature", "")):
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                text = parse_qs(body.decode())["text"][0]
                answer = json.dumps({"response_type": "ephemeral", "text": f"you said {text}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/commands"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def command_app() -> Iterator[CommandApp]:
    app = CommandApp()
    yield app
    app.close()


def test_signed_command_is_delivered_and_the_answer_recorded(
    sandbox: TestClient, command_app: CommandApp
) -> None:
    workspace = sandbox.post(f"{ADMIN}/workspaces", json={"channels": ["ops"]}).json()
    command_app.secret = workspace["signing_secret"]
    team = workspace["team_id"]
    delivery = sandbox.post(
        f"{ADMIN}/workspaces/{team}/slash_commands",
        json={"url": command_app.url, "text": "status", "user_id": "U123ABC"},
    ).json()
    assert delivery["status"] == 200
    assert delivery["response"] == {"response_type": "ephemeral", "text": "you said status"}
    headers, body = command_app.requests[-1]
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert fields["command"] == "/firmsync" and fields["team_id"] == team and fields["user_id"] == "U123ABC"
    assert fields["channel_name"] == "ops" and fields["api_app_id"] == workspace["app_id"]
    assert sandbox.get(f"{ADMIN}/slash_commands").json()["deliveries"][-1]["id"] == delivery["id"]

    # the response_url takes delayed answers for that command
    response_url = httpx.URL(fields["response_url"])
    later = sandbox.post(response_url.path, json={"text": "done"})
    assert later.status_code == 200
    assert sandbox.post(response_url.path[:-3] + "xyz", json={"text": "forged"}).status_code == 404
    recorded = sandbox.get(f"{ADMIN}/slash_commands").json()["deliveries"][-1]
    assert recorded["delayed_responses"] == [{"text": "done"}]


def test_tampered_and_wrongly_signed_commands_are_refused_by_a_verifying_app(
    sandbox: TestClient, command_app: CommandApp
) -> None:
    workspace = sandbox.post(f"{ADMIN}/workspaces", json={}).json()
    command_app.secret = workspace["signing_secret"]
    url = f"{ADMIN}/workspaces/{workspace['team_id']}/slash_commands"
    tampered = sandbox.post(url, json={"url": command_app.url, "tamper": True}).json()
    wrong_key = sandbox.post(url, json={"url": command_app.url, "signing_secret": "not-the-secret"}).json()
    assert tampered["status"] == 401 and wrong_key["status"] == 401


def test_an_unreachable_app_is_recorded_as_failed(sandbox: TestClient) -> None:
    workspace = sandbox.post(f"{ADMIN}/workspaces", json={}).json()
    delivery = sandbox.post(
        f"{ADMIN}/workspaces/{workspace['team_id']}/slash_commands",
        json={"url": f"http://127.0.0.1:{free_port()}/nobody"},
    ).json()
    assert delivery["status"] is None and delivery["error"].startswith("connection_failed")
