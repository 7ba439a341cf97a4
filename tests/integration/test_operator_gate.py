"""The operators' console gate (GET /api/v1/auth/operator, POST /api/v1/auth/operator-session; ADR 0018),
against the real app and database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core_api.security import console_tokens, tokens
from core_api.tenancy import Role
from tests.factories import create_firm_user, set_role
from tests.integration.conftest import login

GATE = "/api/v1/auth/operator"
SESSION = "/api/v1/auth/operator-session"


@pytest.fixture(autouse=True)
def _firm_admin_operates(operator_firms, firm_admin) -> None:
    """The firm_admin fixture's firm operates the platform; every other firm made here does not."""
    operator_firms.append(firm_admin.firm_id)


def _console_cookie(api, headers) -> str:
    response = api.post(SESSION, headers=headers)
    assert response.status_code == 204, response.text
    return response.cookies[console_tokens.COOKIE_NAME]


def test_bearer_gate_204_for_operators_403_for_others_401_signed_out(api, app_connection, firm_admin) -> None:
    staff = create_firm_user(app_connection, role=Role.staff)
    partner = create_firm_user(app_connection, role=Role.partner)
    other_admin = create_firm_user(app_connection, role=Role.firm_admin, name="A firm among many")
    assert api.get(GATE, headers=login(api, firm_admin)).status_code == 204
    assert api.get(GATE, headers=login(api, staff)).status_code == 403
    assert api.get(GATE, headers=login(api, partner)).status_code == 403
    # The admin of a firm that does not operate the platform: the console shows every firm's runs.
    refused = api.get(GATE, headers=login(api, other_admin))
    assert refused.status_code == 403 and "does not operate the platform" in refused.json()["detail"]
    assert api.post(SESSION, headers=login(api, other_admin)).status_code == 403
    assert api.get(GATE).status_code == 401
    assert api.get(GATE, headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_operator_session_sets_a_short_lived_httponly_strict_cookie(api, firm_admin, settings) -> None:
    response = api.post(SESSION, headers=login(api, firm_admin))
    assert response.status_code == 204
    header = response.headers["set-cookie"]
    assert header.startswith(f"{console_tokens.COOKIE_NAME}=")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "samesite=strict" in header.lower() and "path=/" in header.lower()
    assert f"max-age={settings.operator_session_ttl_seconds}" in header.lower()
    assert "secure" not in attributes  # plain http here; over https (X-Forwarded-Proto) it is Secure
    claims = console_tokens.decode(settings, response.cookies[console_tokens.COOKIE_NAME])
    assert (claims.user_id, claims.firm_id) == (firm_admin.user_id, firm_admin.firm_id)


def test_cookie_is_secure_over_https(api, firm_admin) -> None:
    headers = login(api, firm_admin)
    response = api.post("https://testserver" + SESSION, headers=headers)
    assert response.status_code == 204
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


def test_the_cookie_alone_passes_the_gate_and_is_rechecked_each_time(api, app_connection, firm_admin) -> None:
    cookie = _console_cookie(api, login(api, firm_admin))
    api.cookies.clear()
    assert api.get(GATE, headers=_cookie(cookie)).status_code == 204
    # Demoted after the cookie was issued: the very next console request is refused.
    set_role(app_connection, firm_admin, Role.partner.value)
    assert api.get(GATE, headers=_cookie(cookie)).status_code == 403
    set_role(app_connection, firm_admin, Role.firm_admin.value)
    app_connection.execute(
        text("update app.users set is_active = false where id = :u"), {"u": firm_admin.user_id}
    )
    assert api.get(GATE, headers=_cookie(cookie)).status_code == 401


def test_non_operators_get_no_cookie(api, app_connection) -> None:
    staff = create_firm_user(app_connection, role=Role.manager)
    response = api.post(SESSION, headers=login(api, staff))
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert api.post(SESSION).status_code == 401


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{console_tokens.COOKIE_NAME}={value}"}


def test_forged_expired_and_wrong_purpose_cookies_are_refused(api, firm_admin, settings) -> None:
    api.cookies.clear()
    claims = console_tokens.ConsoleClaims(firm_admin.user_id, firm_admin.firm_id)
    forged = console_tokens.issue(
        settings.model_copy(update={"jwt_secret": type(settings.jwt_secret)("y" * 48)}), claims
    )[0]
    expired = console_tokens.issue(settings, claims, now=datetime.now(UTC) - timedelta(hours=2))[0]
    # An API access token is not a console cookie (no audience), and a console token is not a bearer token.
    access, _ = tokens.issue(
        settings, tokens.TokenClaims(firm_admin.user_id, firm_admin.firm_id, Role.firm_admin, "access")
    )
    good = console_tokens.issue(settings, claims)[0]
    for value in (forged, expired, access, "garbage"):
        assert api.get(GATE, headers=_cookie(value)).status_code == 401, value
    assert api.get(GATE, headers=_cookie(good)).status_code == 204
    assert api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 401


def test_sign_out_clears_the_console_cookie(api, firm_admin) -> None:
    _console_cookie(api, login(api, firm_admin))
    response = api.delete(SESSION)
    assert response.status_code == 204
    header = response.headers["set-cookie"].lower()
    assert (
        header.startswith(f"{console_tokens.COOKIE_NAME}=") and "max-age=0" in header and "path=/" in header
    )
    assert console_tokens.COOKIE_NAME not in api.cookies
