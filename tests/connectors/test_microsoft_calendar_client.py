"""The Microsoft 365 calendar client through msal and requests against the sandbox's TLS port, trusted only
through the connection's CA bundle."""

from __future__ import annotations

import certifi
import pytest

from connectors.base import (
    AuthError,
    ConflictError,
    CursorExpiredError,
    PermanentError,
    RetryPolicy,
    TokenSet,
)
from connectors.microsoft_calendar import (
    MicrosoftCalendarClient,
    MicrosoftCalendarConfig,
    MicrosoftCalendarCredentials,
)

FAST = RetryPolicy(max_attempts=10, base_delay=0.05, max_delay=0.5, max_retry_after=10.0)
WINDOW = {"past_days": 400, "future_days": 400}


@pytest.fixture
def mailbox(sandbox):
    tenant = sandbox.new_microsoft_tenant(users=[{"events": 12, "seed": 5, "display_name": "Ada Staff"}])
    return tenant, tenant["users"][0]


def make_client(sandbox, tenant, user, tokens: list[TokenSet] | None = None, refresh_token=None, **overrides):
    config = MicrosoftCalendarConfig.model_validate(
        sandbox.microsoft_config(tenant, user, **WINDOW, **overrides)
    )
    credentials = MicrosoftCalendarCredentials.model_validate(
        {"client_secret": tenant["client_secret"], "refresh_token": refresh_token or user["refresh_token"]}
    )
    sink = tokens if tokens is not None else []
    return MicrosoftCalendarClient(config, credentials, on_tokens=sink.append, retry_policy=FAST, timeout=10)


def read_all(client, cursor=None, page_size=5):
    pages = list(client.pages(cursor, page_size=page_size))
    return [r for p in pages for r in p.records], pages


def test_msal_redeems_the_refresh_token_and_the_rotated_one_is_persisted(sandbox, mailbox):
    tenant, user = mailbox
    tokens: list[TokenSet] = []
    with make_client(sandbox, tenant, user, tokens) as client:
        assert client.me()["userPrincipalName"] == user["upn"]
    assert len(tokens) == 1
    rotated = tokens[0].refresh_token
    assert rotated and rotated != user["refresh_token"]
    # The consent's refresh token was spent by the refresh: only the persisted one works now.
    with make_client(sandbox, tenant, user) as stale, pytest.raises(AuthError):
        stale.me()
    again: list[TokenSet] = []
    with make_client(sandbox, tenant, user, again, refresh_token=rotated) as client:
        assert client.me()["id"] == user["id"]
    assert again[0].refresh_token not in (rotated, user["refresh_token"])


def test_the_connections_ca_bundle_wins_over_requests_ca_bundle(sandbox, mailbox, monkeypatch):
    tenant, user = mailbox
    # certifi's bundle does not know the sandbox's CA: were the environment to win, TLS would fail.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with make_client(sandbox, tenant, user) as client:
        assert client.me()["id"] == user["id"]
    # Verification stays on: without the bundle the sandbox's certificate is refused.
    other = sandbox.new_microsoft_tenant(users=[{}])
    with (
        make_client(sandbox, other, other["users"][0], ca_bundle=None) as client,
        pytest.raises(PermanentError),
    ):
        client.me()


def test_delta_pages_then_reads_only_changes_with_removals(sandbox, mailbox):
    tenant, user = mailbox
    with make_client(sandbox, tenant, user) as client:
        records, pages = read_all(client)
        assert len(records) == 12 and len({r["id"] for r in records}) == 12
        assert len(pages) == 3 and [p.has_more for p in pages] == [True, True, False]
        cursor = pages[-1].cursor
        assert (
            cursor.startswith(f"{sandbox.microsoft}/v1.0/me/calendarView/delta?") and "deltatoken" in cursor
        )
        assert all(p.cursor is None for p in pages[:-1])  # mid-round pages keep the cursor before the round

        first, second = records[0]["id"], records[1]["id"]
        sandbox.microsoft_admin("PATCH", f"/users/{user['id']}/events/{first}", json={"subject": "Moved"})
        sandbox.microsoft_admin("DELETE", f"/users/{user['id']}/events/{second}")
        made = sandbox.microsoft_admin(
            "POST",
            f"/users/{user['id']}/events",
            json={
                "subject": "New",
                "start": {"dateTime": "2026-12-10T10:00:00", "timeZone": "Europe/London"},
                "end": {"dateTime": "2026-12-10T11:00:00", "timeZone": "Europe/London"},
            },
        )
        changes, pages = read_all(client, cursor)
        by_id = {r["id"]: r for r in changes}
        assert set(by_id) == {first, second, made["id"]}
        assert by_id[first]["subject"] == "Moved"
        assert by_id[second]["@removed"] == {"reason": "deleted"}
        assert by_id[made["id"]]["start"] == {"dateTime": "2026-12-10T10:00:00.0000000", "timeZone": "UTC"}
        nothing, _ = read_all(client, pages[-1].cursor)
        assert nothing == []


def test_an_expired_delta_token_raises_cursor_expired(sandbox, mailbox):
    tenant, user = mailbox
    with make_client(sandbox, tenant, user) as client:
        _, pages = read_all(client, page_size=50)
        sandbox.microsoft_admin("POST", f"/users/{user['id']}/reset-sync-state")
        with pytest.raises(CursorExpiredError):
            read_all(client, pages[-1].cursor)


def test_a_cursor_for_another_host_is_refused(sandbox, mailbox):
    tenant, user = mailbox
    with make_client(sandbox, tenant, user) as client, pytest.raises(PermanentError):
        read_all(client, "https://attacker.example/v1.0/me/calendarView/delta?$deltatoken=x")


def test_throttled_mailbox_answers_429_and_the_client_converges(sandbox, mailbox):
    tenant, user = mailbox
    sandbox.microsoft_admin("PUT", f"/users/{user['id']}/limits", json={"requests": 3, "window_seconds": 1})
    with make_client(sandbox, tenant, user) as client:
        records, _ = read_all(client, page_size=2)
    assert len({r["id"] for r in records}) == 12
    stats = sandbox.microsoft_admin("GET", f"/users/{user['id']}/stats")
    assert stats["by_status"].get("429", 0) >= 1, stats


def test_update_event_sends_if_match_and_a_stale_change_key_conflicts(sandbox, mailbox):
    tenant, user = mailbox
    with make_client(sandbox, tenant, user) as client:
        records, _ = read_all(client, page_size=50)
        event = records[0]
        updated = client.update_event(event["id"], event["changeKey"], {"subject": "Renamed here"})
        assert updated["subject"] == "Renamed here" and updated["changeKey"] != event["changeKey"]
        with pytest.raises(ConflictError) as conflict:
            client.update_event(event["id"], event["changeKey"], {"subject": "Stale write"})
        assert conflict.value.current["changeKey"] == updated["changeKey"]
        assert client.get_event(event["id"])["subject"] == "Renamed here"


def test_revoked_consent_fails_as_auth_error(sandbox, mailbox):
    tenant, user = mailbox
    sandbox.microsoft_admin("POST", f"/users/{user['id']}/revoke")
    with make_client(sandbox, tenant, user) as client, pytest.raises(AuthError):
        client.me()


def test_application_permission_reads_the_named_mailbox_with_client_credentials(sandbox, mailbox):
    tenant, user = mailbox
    config = MicrosoftCalendarConfig.model_validate(
        sandbox.microsoft_config(tenant, user, auth_mode="application", **WINDOW)
    )
    credentials = MicrosoftCalendarCredentials.model_validate({"client_secret": tenant["client_secret"]})
    tokens: list[TokenSet] = []
    with MicrosoftCalendarClient(config, credentials, on_tokens=tokens.append, retry_policy=FAST) as client:
        assert client.me()["id"] == user["id"]
        records, _ = read_all(client, page_size=50)
    assert len(records) == 12 and tokens and tokens[0].refresh_token == ""


def test_injected_5xx_and_dropped_connections_are_retried(sandbox, mailbox):
    tenant, user = mailbox
    with make_client(sandbox, tenant, user) as client:
        client.me()  # tokens first: the faults below hit Graph calls only
        for kind in ("503", "drop"):
            sandbox.microsoft_admin(
                "POST",
                "/faults",
                json={"kind": kind, "realm": user["id"], "path_contains": "/v1.0/", "times": 2},
            )
        records, _ = read_all(client, page_size=50)
    assert len(records) == 12
    assert sandbox.microsoft_admin("GET", "/faults")["faults"] == []  # every fault was met and outlived


def test_a_ca_bundle_that_is_not_a_file_fails_permanently(sandbox, mailbox):
    tenant, user = mailbox
    with (
        make_client(sandbox, tenant, user, ca_bundle="/nonexistent/ca.pem") as client,
        pytest.raises(PermanentError),
    ):
        client.me()
