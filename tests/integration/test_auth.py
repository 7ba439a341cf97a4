from __future__ import annotations

from core_api.tenancy import Role
from tests.factories import PASSWORD, create_firm_user
from tests.integration.conftest import login


def test_login_returns_tokens_and_me_describes_the_caller(api, firm_admin):
    response = api.post("/api/v1/auth/login", json={"email": firm_admin.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["firm"] == {"id": str(firm_admin.firm_id), "name": "Alpha Accounting", "role": "firm_admin"}

    me = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["email"] == firm_admin.email
    assert me.json()["firm"]["id"] == str(firm_admin.firm_id)


def test_wrong_password_and_unknown_user_get_the_same_401(api, firm_admin):
    wrong = api.post("/api/v1/auth/login", json={"email": firm_admin.email, "password": "nope"})
    unknown = api.post("/api/v1/auth/login", json={"email": "ghost@example.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_refresh_issues_new_tokens_and_rejects_access_tokens(api, firm_admin):
    tokens = api.post("/api/v1/auth/login", json={"email": firm_admin.email, "password": PASSWORD}).json()
    refreshed = api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert (
        api.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        ).status_code
        == 200
    )
    # An access token is not a refresh token.
    misuse = api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert misuse.status_code == 401


def test_protected_routes_need_a_valid_bearer_token(api, firm_admin):
    assert api.get("/api/v1/clients").status_code == 401
    assert api.get("/api/v1/clients", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    refresh_token = api.post(
        "/api/v1/auth/login", json={"email": firm_admin.email, "password": PASSWORD}
    ).json()["refresh_token"]
    assert api.get("/api/v1/clients", headers={"Authorization": f"Bearer {refresh_token}"}).status_code == 401
    assert login(api, firm_admin)["Authorization"].startswith("Bearer ")


def test_tokens_signed_with_another_secret_are_rejected(api, firm_admin, settings):
    from core_api.security import tokens
    from core_api.tenancy import Role

    forged_settings = settings.model_copy(update={"jwt_secret": type(settings.jwt_secret)("y" * 48)})
    forged, _ = tokens.issue(
        forged_settings, tokens.TokenClaims(firm_admin.user_id, firm_admin.firm_id, Role.firm_admin, "access")
    )
    assert api.get("/api/v1/clients", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_me_lists_the_roles_permissions_and_the_console_only_for_operators(
    api, app_connection, firm_admin, operator_firms
) -> None:
    operator_firms.append(firm_admin.firm_id)
    member = create_firm_user(app_connection, name="Beta Books", role=Role.staff)
    tenant_admin = create_firm_user(app_connection, name="Gamma Tax", role=Role.firm_admin)
    elsewhere = api.get("/api/v1/auth/me", headers=login(api, tenant_admin)).json()
    assert "team:manage" in elsewhere["permissions"] and "operations:console" not in elsewhere["permissions"]
    assert elsewhere["dagster_ui_url"] is None
    admin = api.get("/api/v1/auth/me", headers=login(api, firm_admin)).json()
    staff = api.get("/api/v1/auth/me", headers=login(api, member)).json()
    assert "operations:console" in admin["permissions"] and "clients:write" in admin["permissions"]
    assert "clients:write" in staff["permissions"] and "invoices:write" not in staff["permissions"]
    assert "operations:console" not in staff["permissions"] and staff["dagster_ui_url"] is None
