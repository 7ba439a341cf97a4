"""Login protection (ADR 0020): per-account lockout in PostgreSQL, the per-IP token bucket, the operator's
unlock command."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from core_api.auth import lockout
from tests.conftest import set_firm
from tests.factories import PASSWORD

MAX_FAILURES = 3


def _app(app_connection, settings, **overrides):
    from core_api.app import create_app
    from core_api.auth.dependencies import db_sessions
    from core_api.settings import get_settings

    tuned = settings.model_copy(update=overrides)
    app = create_app(tuned)
    factory = sessionmaker(
        bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.dependency_overrides[db_sessions] = lambda: factory
    app.dependency_overrides[get_settings] = lambda: tuned
    return app, tuned


@pytest.fixture
def guarded(app_connection, settings):
    app, tuned = _app(
        app_connection,
        settings,
        login_max_failures=MAX_FAILURES,
        login_failure_window_seconds=600,
        login_lockout_seconds=300,
    )
    with TestClient(app) as client:
        yield client, tuned


def _login(client, email, password):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_repeated_failures_lock_the_account_even_for_the_right_password(guarded, firm_admin, app_connection):
    client, tuned = guarded
    for _ in range(MAX_FAILURES - 1):
        assert _login(client, firm_admin.email, "wrong").status_code == 401
    locking = _login(client, firm_admin.email, "wrong")
    assert locking.status_code == 429
    assert locking.headers["content-type"] == "application/problem+json"
    assert 290 <= int(locking.headers["Retry-After"]) <= 300

    # Locked: the right password is refused too (a lock cannot be used to test passwords), and the
    # email's case and spacing do not get around it.
    refused = _login(client, f"  {firm_admin.email.upper()} ", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["title"] == "Too Many Requests"

    # Stored under an HMAC, never the email.
    rows = app_connection.execute(text("select account_key, failures from app.login_lockouts")).all()
    assert [r.failures for r in rows] == [MAX_FAILURES]
    assert rows[0].account_key == lockout.account_key(tuned, firm_admin.email)
    assert firm_admin.email not in rows[0].account_key

    # The lock is audited in the account's firm.
    set_firm(app_connection, firm_admin.firm_id)
    audit = app_connection.execute(
        text("select action, entity, entity_id from app.audit_log where action = 'login_locked'")
    ).all()
    set_firm(app_connection, None)
    assert [(a.action, a.entity, a.entity_id) for a in audit] == [
        ("login_locked", "user", str(firm_admin.user_id))
    ]


def test_an_expired_lock_lets_the_right_password_in_and_success_resets_the_count(
    guarded, firm_admin, app_connection
):
    client, _ = guarded
    for _ in range(MAX_FAILURES):
        _login(client, firm_admin.email, "wrong")
    assert _login(client, firm_admin.email, PASSWORD).status_code == 429
    app_connection.execute(text("update app.login_lockouts set locked_until = now() - interval '1 second'"))
    assert _login(client, firm_admin.email, PASSWORD).status_code == 200
    assert app_connection.execute(text("select count(*) from app.login_lockouts")).scalar() == 0

    # After a success the count starts again: MAX_FAILURES - 1 more failures do not lock.
    for _ in range(MAX_FAILURES - 1):
        assert _login(client, firm_admin.email, "wrong").status_code == 401
    assert _login(client, firm_admin.email, PASSWORD).status_code == 200


def test_failures_outside_the_window_start_a_new_count(guarded, firm_admin, app_connection):
    client, _ = guarded
    for _ in range(MAX_FAILURES - 1):
        _login(client, firm_admin.email, "wrong")
    app_connection.execute(
        text("update app.login_lockouts set window_started_at = now() - interval '601 seconds'")
    )
    assert _login(client, firm_admin.email, "wrong").status_code == 401
    assert app_connection.execute(text("select failures from app.login_lockouts")).scalar() == 1


def test_unknown_emails_lock_like_known_ones(guarded):
    client, _ = guarded
    ghost = f"ghost-{uuid.uuid4().hex[:6]}@example.test"
    statuses = [_login(client, ghost, "nope").status_code for _ in range(MAX_FAILURES + 1)]
    assert statuses == [401] * (MAX_FAILURES - 1) + [429, 429]


def test_the_operator_unlock_command_clears_a_lock_and_audits_it(
    owner_engine, database_url, settings, capsys
):
    from core_api import manage
    from tests.factories import create_firm_user

    # Committed rows: the command runs in its own transactions on the owner connection.
    with owner_engine.begin() as conn:
        user = create_firm_user(conn, name="Locked LLP")
    key = lockout.account_key(settings, user.email)
    with owner_engine.begin() as conn:
        conn.execute(
            text(
                "insert into app.login_lockouts (account_key, failures, locked_until) "
                "values (:k, 10, now() + interval '1 hour')"
            ),
            {"k": key},
        )
    try:
        manage.main(["unlock-login", f" {user.email.upper()}"])
        assert "unlocked" in capsys.readouterr().out
        with owner_engine.connect() as conn:
            gone = conn.execute(text("select 1 from app.login_lockouts where account_key = :k"), {"k": key})
            assert gone.first() is None
            set_firm(conn, user.firm_id)
            audit = conn.execute(
                text(
                    "select action, entity_id from app.audit_log where firm_id = :f and action like 'login%'"
                ),
                {"f": user.firm_id},
            ).all()
        assert [(a.action, a.entity_id) for a in audit] == [("login_unlocked", str(user.user_id))]
        manage.main(["unlock-login", user.email])
        assert "no failed sign-ins" in capsys.readouterr().out
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("delete from app.login_lockouts where account_key = :k"), {"k": key})
            set_firm(conn, user.firm_id)
            conn.execute(text("delete from app.firms where id = :f"), {"f": user.firm_id})
            conn.execute(text("delete from app.users where id = :u"), {"u": user.user_id})


def test_the_per_ip_bucket_throttles_login_refresh_and_signup(app_connection, settings, firm_admin):
    app, _ = _app(app_connection, settings, login_rate_limit_per_minute=1, login_rate_limit_burst=3)
    with TestClient(app) as client:
        assert _login(client, firm_admin.email, PASSWORD).status_code == 200
        assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 401
        assert client.post("/api/v1/auth/signup", json={}).status_code == 422
        throttled = _login(client, firm_admin.email, PASSWORD)
        assert throttled.status_code == 429
        assert throttled.headers["content-type"] == "application/problem+json"
        assert throttled.headers["Retry-After"] == "60"
        assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 429
        # A throttled request never reached the lockout: nothing was counted against the account.
        assert app_connection.execute(text("select count(*) from app.login_lockouts")).scalar() == 0
        # Authenticated endpoints are not throttled by it.
        assert client.get("/api/v1/auth/me").status_code == 401
