from __future__ import annotations

from core_api.tenancy import Role
from tests.factories import PASSWORD, create_firm_user
from tests.integration.conftest import login

SIGNUP = {
    "firm_name": "Fresh Advisors",
    "email": "founder@fresh.example.com",
    "password": "a-long-enough-password",
    "full_name": "Fran Founder",
    "timezone": "Europe/London",
    "currency": "GBP",
}


def _bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_signup_creates_a_firm_and_its_admin(api):
    response = api.post("/api/v1/auth/signup", json=SIGNUP)
    assert response.status_code == 201, response.text
    headers = _bearer(response.json())
    assert response.json()["firm"]["role"] == "firm_admin"
    firm = api.get("/api/v1/firm", headers=headers).json()
    assert (
        firm["name"] == "Fresh Advisors" and firm["currency"] == "GBP" and firm["timezone"] == "Europe/London"
    )
    members = api.get("/api/v1/team/members", headers=headers).json()
    assert [m["email"] for m in members["items"]] == ["founder@fresh.example.com"]
    again = api.post("/api/v1/auth/signup", json=SIGNUP)
    assert again.status_code == 409
    weak = api.post(
        "/api/v1/auth/signup", json={**SIGNUP, "email": "x@fresh.example.com", "password": "short"}
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"


def test_invitation_lifecycle_for_a_new_and_an_existing_account(
    api, admin_headers, app_connection, other_firm
):
    created = api.post(
        "/api/v1/team/invitations",
        json={"email": "new.hire@example.com", "role": "staff"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    token = created.json()["token"]
    listed = api.get("/api/v1/team/invitations", params={"pending": True}, headers=admin_headers).json()
    assert listed["total"] == 1 and "token" not in listed["items"][0]

    accepted = api.post(
        "/api/v1/auth/accept-invitation",
        json={"token": token, "password": "new-hire-password", "full_name": "New Hire"},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["firm"]["role"] == "staff"
    assert (
        api.post(
            "/api/v1/auth/accept-invitation", json={"token": token, "password": "new-hire-password"}
        ).status_code
        == 409
    )

    # An existing account (member of another firm) joins with its own password; a wrong one is refused.
    invite = api.post(
        "/api/v1/team/invitations", json={"email": other_firm.email, "role": "billing"}, headers=admin_headers
    ).json()
    wrong = api.post(
        "/api/v1/auth/accept-invitation", json={"token": invite["token"], "password": "not-the-password"}
    )
    assert wrong.status_code == 401
    joined = api.post("/api/v1/auth/accept-invitation", json={"token": invite["token"], "password": PASSWORD})
    assert joined.status_code == 200 and joined.json()["firm"]["role"] == "billing"

    revoked = api.post(
        "/api/v1/team/invitations", json={"email": "late@example.com"}, headers=admin_headers
    ).json()
    assert api.delete(f"/api/v1/team/invitations/{revoked['id']}", headers=admin_headers).status_code == 204
    gone = api.post(
        "/api/v1/auth/accept-invitation",
        json={"token": revoked["token"], "password": "whatever-password", "full_name": "L"},
    )
    assert gone.status_code == 410
    unknown = api.post(
        "/api/v1/auth/accept-invitation", json={"token": "x" * 43, "password": "whatever-password"}
    )
    assert unknown.status_code == 404


def test_role_changes_deactivation_and_the_last_admin(api, admin_headers, firm_admin, app_connection):
    # A second member of the same firm, via invitation.
    invite = api.post(
        "/api/v1/team/invitations",
        json={"email": "pat@example.com", "role": "partner"},
        headers=admin_headers,
    ).json()
    pat = api.post(
        "/api/v1/auth/accept-invitation",
        json={"token": invite["token"], "password": "pat-password-123", "full_name": "Pat"},
    ).json()
    pat_id = api.get("/api/v1/auth/me", headers=_bearer(pat)).json()["user"]["id"]

    # The only admin cannot demote or deactivate themself out of the firm.
    me = str(firm_admin.user_id)
    assert (
        api.patch(f"/api/v1/team/members/{me}", json={"role": "staff"}, headers=admin_headers).status_code
        == 409
    )
    assert api.post(f"/api/v1/team/members/{me}/deactivate", headers=admin_headers).status_code == 409

    promoted = api.patch(f"/api/v1/team/members/{pat_id}", json={"role": "firm_admin"}, headers=admin_headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "firm_admin"
    assert (
        api.patch(f"/api/v1/team/members/{me}", json={"role": "manager"}, headers=admin_headers).status_code
        == 200
    )

    # Pat (now admin) deactivates the former admin: they can no longer sign in to this firm.
    assert api.post(f"/api/v1/team/members/{me}/deactivate", headers=_bearer(pat)).json()["active"] is False
    refused = api.post("/api/v1/auth/login", json={"email": firm_admin.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert api.post(f"/api/v1/team/members/{me}/reactivate", headers=_bearer(pat)).json()["active"] is True
    assert login(api, firm_admin)


def test_firm_settings_need_settings_manage_and_respect_versions(api, admin_headers, app_connection):
    firm = api.get("/api/v1/firm", headers=admin_headers).json()
    updated = api.patch(
        "/api/v1/firm", json={"currency": "EUR", "version": firm["version"]}, headers=admin_headers
    )
    assert updated.status_code == 200 and updated.json()["currency"] == "EUR"
    stale = api.patch(
        "/api/v1/firm", json={"currency": "JPY", "version": firm["version"]}, headers=admin_headers
    )
    assert stale.status_code == 409
    assert api.patch("/api/v1/firm", json={"currency": "XXX"}, headers=admin_headers).status_code == 422
    partner = create_firm_user(app_connection, role=Role.partner)
    assert api.patch("/api/v1/firm", json={"name": "Mine"}, headers=login(api, partner)).status_code == 403


def test_audit_log_records_who_changed_what_and_is_admin_only(api, admin_headers, firm_admin, app_connection):
    client = api.post("/api/v1/clients", json={"name": "Audited Co"}, headers=admin_headers).json()
    api.patch(f"/api/v1/clients/{client['id']}", json={"city": "Oslo"}, headers=admin_headers)
    api.delete(f"/api/v1/clients/{client['id']}", headers=admin_headers)
    log = api.get(
        "/api/v1/audit-log", params={"entity": "client", "entity_id": client["id"]}, headers=admin_headers
    ).json()
    actions = [(e["action"], e["actor_user_id"]) for e in reversed(log["items"])]
    assert actions == [(a, str(firm_admin.user_id)) for a in ("create", "update", "delete")]
    update = log["items"][1]
    assert update["before"]["city"] is None and update["after"]["city"] == "Oslo"
    manager = create_firm_user(app_connection, role=Role.manager)
    assert api.get("/api/v1/audit-log", headers=login(api, manager)).status_code == 403


def test_client_changes_write_outbox_rows_in_the_same_transaction(
    api, admin_headers, firm_admin, app_connection
):
    from sqlalchemy import text

    from tests.conftest import set_firm

    client = api.post("/api/v1/clients", json={"name": "Pushed Co"}, headers=admin_headers).json()
    api.patch(f"/api/v1/clients/{client['id']}", json={"name": "Pushed Co Ltd"}, headers=admin_headers)
    rejected = api.patch(
        f"/api/v1/clients/{client['id']}", json={"name": "Nope", "version": 1}, headers=admin_headers
    )
    assert rejected.status_code == 409
    set_firm(app_connection, firm_admin.firm_id)
    rows = app_connection.execute(
        text("select operation, payload->>'name' from app.outbox where entity_id = :id order by seq"),
        {"id": client["id"]},
    ).all()
    assert [tuple(r) for r in rows] == [("created", "Pushed Co"), ("updated", "Pushed Co Ltd")]
