from __future__ import annotations

from sqlalchemy import text

from core_api.tenancy import Role
from tests.conftest import set_firm
from tests.factories import create_firm_user
from tests.integration.conftest import login

REFRESH = "AB11-secret-refresh-token-value"


def _body(realm_id: str = "4620816365000000001", **overrides) -> dict:
    body = {
        "provider": "quickbooks",
        "config": {
            "realm_id": realm_id,
            "environment": "sandbox",
            "api_base_url": "http://127.0.0.1:1/quickbooks",
            "discovery_url": "http://127.0.0.1:1/quickbooks/.well-known/openid_sandbox_configuration",
            "client_id": "client-abc",
        },
        "credentials": {"client_secret": "shh-client-secret", "refresh_token": REFRESH},
    }
    body.update(overrides)
    return body


def _count(conn, firm_id, table: str) -> int:
    set_firm(conn, firm_id)
    return conn.execute(text(f"select count(*) from {table}")).scalar()


def test_create_encrypts_credentials_and_never_returns_them(api, admin_headers, firm_admin, app_connection):
    response = api.post("/api/v1/connections", json=_body(), headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["provider"] == "quickbooks" and body["account_id"] == "4620816365000000001"
    assert body["status"] == "active" and body["last_sync"] == {
        "at": None,
        "status": None,
        "records": None,
        "error": None,
    }
    assert (
        "credentials" not in body
        and REFRESH not in response.text
        and "shh-client-secret" not in response.text
    )

    set_firm(app_connection, firm_admin.firm_id)
    stored = app_connection.execute(
        text("select credentials_encrypted from app.connections where id = :id"), {"id": body["id"]}
    ).scalar()
    assert stored is not None and REFRESH.encode() not in bytes(stored)

    from core_api.security.secrets_box import secrets_box

    assert secrets_box().open(bytes(stored))["refresh_token"] == REFRESH

    listed = api.get("/api/v1/connections", headers=admin_headers).json()
    assert listed["total"] == 1 and REFRESH not in str(listed)
    assert api.get(f"/api/v1/connections/{body['id']}", headers=admin_headers).json()["id"] == body["id"]


def test_invalid_connections_are_rejected_field_by_field_and_nothing_is_written(
    api, admin_headers, firm_admin, app_connection
):
    unknown = api.post("/api/v1/connections", json=_body(provider="myspace"), headers=admin_headers)
    assert unknown.status_code == 422
    assert (
        unknown.json()["errors"][0]["field"] == "provider"
        and "quickbooks" in unknown.json()["errors"][0]["message"]
    )

    bad_config = _body()
    del bad_config["config"]["realm_id"]
    bad_config["config"]["client_id"] = ""
    response = api.post("/api/v1/connections", json=bad_config, headers=admin_headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"config.realm_id", "config.client_id"}

    bad_credentials = _body(credentials={"client_secret": "x"})
    response = api.post("/api/v1/connections", json=bad_credentials, headers=admin_headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["credentials.refresh_token"]

    wrong_type = api.post("/api/v1/connections", json={**_body(), "config": "realm=1"}, headers=admin_headers)
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "config"

    assert _count(app_connection, firm_admin.firm_id, "app.connections") == 0


def test_duplicate_account_conflicts(api, admin_headers):
    assert api.post("/api/v1/connections", json=_body(), headers=admin_headers).status_code == 201
    again = api.post("/api/v1/connections", json=_body(), headers=admin_headers)
    assert again.status_code == 409


def test_sync_request_is_a_row_and_202(api, admin_headers, firm_admin, app_connection):
    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    response = api.post(
        f"/api/v1/connections/{connection['id']}/sync", json={"full_refresh": True}, headers=admin_headers
    )
    assert response.status_code == 202
    request = response.json()
    assert request["status"] == "pending" and request["full_refresh"] is True
    assert response.headers["location"] == f"/api/v1/sync-requests/{request['id']}"
    assert (
        api.get(f"/api/v1/sync-requests/{request['id']}", headers=admin_headers).json()["status"] == "pending"
    )
    # No body at all is a plain incremental sync.
    plain = api.post(f"/api/v1/connections/{connection['id']}/sync", headers=admin_headers)
    assert plain.status_code == 202 and plain.json()["full_refresh"] is False
    assert _count(app_connection, firm_admin.firm_id, "app.sync_requests") == 2


def test_another_firm_gets_404_for_every_connection_route(api, admin_headers, other_firm):
    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    request = api.post(f"/api/v1/connections/{connection['id']}/sync", headers=admin_headers).json()
    intruder = login(api, other_firm)
    assert api.get(f"/api/v1/connections/{connection['id']}", headers=intruder).status_code == 404
    assert api.post(f"/api/v1/connections/{connection['id']}/sync", headers=intruder).status_code == 404
    assert api.delete(f"/api/v1/connections/{connection['id']}", headers=intruder).status_code == 404
    assert api.get(f"/api/v1/sync-requests/{request['id']}", headers=intruder).status_code == 404
    assert api.get("/api/v1/connections", headers=intruder).json()["total"] == 0
    assert api.get(f"/api/v1/connections/{connection['id']}", headers=admin_headers).status_code == 200


def test_delete_wipes_credentials(api, admin_headers, firm_admin, app_connection):
    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    assert api.delete(f"/api/v1/connections/{connection['id']}", headers=admin_headers).status_code == 204
    assert api.get(f"/api/v1/connections/{connection['id']}", headers=admin_headers).status_code == 404
    assert api.post(f"/api/v1/connections/{connection['id']}/sync", headers=admin_headers).status_code == 404
    set_firm(app_connection, firm_admin.firm_id)
    row = app_connection.execute(
        text("select credentials_encrypted, deleted_at from app.connections where id = :id"),
        {"id": connection["id"]},
    ).one()
    assert row.credentials_encrypted is None and row.deleted_at is not None
    # The account can be connected again after a delete.
    assert api.post("/api/v1/connections", json=_body(), headers=admin_headers).status_code == 201


def test_staff_cannot_create_connections_or_request_syncs(api, app_connection):
    staff = create_firm_user(app_connection, role=Role.staff)
    headers = login(api, staff)
    assert api.post("/api/v1/connections", json=_body(), headers=headers).status_code == 403
    assert api.get("/api/v1/connections", headers=headers).status_code == 200


def test_providers_publish_form_schemas(api, admin_headers):
    providers = api.get("/api/v1/providers", headers=admin_headers).json()
    quickbooks = next(p for p in providers if p["name"] == "quickbooks")
    assert "realm_id" in quickbooks["config_schema"]["properties"]
    assert "refresh_token" in quickbooks["credentials_schema"]["properties"]
    assert quickbooks["streams"] == ["customers", "invoices", "payments", "credit_memos", "items", "accounts"]
    assert quickbooks["oauth"] is True
    assert "default_item" in quickbooks["mapping_schema"]["properties"]  # the firm's item/tax mapping
    stripe = next(p for p in providers if p["name"] == "stripe")
    assert (stripe["oauth"], stripe["mapping_schema"]) == (False, None)


def test_the_firm_edits_the_push_mapping_and_bad_mappings_are_refused(api, admin_headers):
    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    url = f"/api/v1/connections/{connection['id']}/mapping"
    empty = api.get(url, headers=admin_headers).json()
    assert (empty["mapping"], empty["complete"]) == ({}, False)
    assert "default_item" in empty["mapping_schema"]["required"]
    bad = api.put(url, json={"default_item": {"value": "has space"}}, headers=admin_headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "mapping.default_item.value"
    assert api.get(url, headers=admin_headers).json()["mapping"] == {}  # nothing half-written
    mapping = {
        "default_item": {"value": "1", "name": "Services"},
        "service_items": {"tax": {"value": "3"}},
        "exempt_tax_code": {"value": "NON"},
    }
    saved = api.put(url, json=mapping, headers=admin_headers).json()
    assert saved["complete"] is True and saved["mapping"]["service_items"]["tax"]["value"] == "3"
    assert api.get(url, headers=admin_headers).json()["mapping"] == saved["mapping"]


def _dead_letter(app_connection, firm_id, connection_id) -> str:
    set_firm(app_connection, firm_id)
    return str(
        app_connection.execute(
            text(
                "insert into app.dead_letters "
                "(id, firm_id, connection_id, provider, stream, external_id, payload, error) "
                "values (gen_random_uuid(), :f, :c, 'quickbooks', 'customers', '42', '{\"Id\": \"42\"}', "
                "'ValueError: unsupported currency') returning id"
            ),
            {"f": firm_id, "c": connection_id},
        ).scalar()
    )


def test_cadence_can_be_changed_and_is_validated(api, admin_headers):
    connection = api.post(
        "/api/v1/connections", json={**_body(), "sync_interval_minutes": 15}, headers=admin_headers
    )
    assert connection.json()["sync_interval_minutes"] == 15
    url = f"/api/v1/connections/{connection.json()['id']}"
    assert (
        api.patch(url, json={"sync_interval_minutes": 240}, headers=admin_headers).json()[
            "sync_interval_minutes"
        ]
        == 240
    )
    too_fast = api.patch(url, json={"sync_interval_minutes": 1}, headers=admin_headers)
    assert too_fast.status_code == 422 and too_fast.json()["errors"][0]["field"] == "sync_interval_minutes"


def test_dead_letters_are_listed_and_can_be_marked_for_retry(
    api, admin_headers, firm_admin, app_connection, other_firm
):
    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    letter_id = _dead_letter(app_connection, firm_admin.firm_id, connection["id"])
    listed = api.get("/api/v1/dead-letters", params={"status": "open"}, headers=admin_headers).json()
    assert listed["total"] == 1 and listed["items"][0]["error"].startswith("ValueError")
    retried = api.post(f"/api/v1/dead-letters/{letter_id}/retry", headers=admin_headers)
    assert retried.status_code == 200 and retried.json()["status"] == "retry"
    intruder = login(api, other_firm)
    assert api.post(f"/api/v1/dead-letters/{letter_id}/retry", headers=intruder).status_code == 404
    assert api.get("/api/v1/dead-letters", headers=intruder).json()["total"] == 0


def test_credentials_are_replaced_in_place_and_a_locked_out_connection_is_active_again(
    api, admin_headers, firm_admin, app_connection
):
    from core_api.security.secrets_box import secrets_box

    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    set_firm(app_connection, firm_admin.firm_id)
    app_connection.execute(
        text(
            "update app.connections set status = 'needs_reauth', status_detail = 'invalid_grant' "
            "where id = :id"
        ),
        {"id": connection["id"]},
    )
    url = f"/api/v1/connections/{connection['id']}/credentials"

    bad = api.put(url, json={"credentials": {"client_secret": "only-half"}}, headers=admin_headers)
    assert bad.status_code == 422, bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].startswith("credentials") for e in bad.json()["errors"])
    stored = app_connection.execute(
        text("select credentials_encrypted, status from app.connections where id = :id"),
        {"id": connection["id"]},
    ).one()
    assert secrets_box().open(bytes(stored.credentials_encrypted))["refresh_token"] == REFRESH
    assert stored.status == "needs_reauth"

    new = {"client_secret": "shh-client-secret", "refresh_token": "AB11-the-new-refresh-token"}
    response = api.put(url, json={"credentials": new}, headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["id"] == connection["id"] and body["status"] == "active" and "AB11-the-new" not in response.text
    )
    stored = app_connection.execute(
        text("select credentials_encrypted, status_detail from app.connections where id = :id"),
        {"id": connection["id"]},
    ).one()
    opened = secrets_box().open(bytes(stored.credentials_encrypted))
    assert {k: opened[k] for k in new} == new and stored.status_detail is None


def test_only_connection_writers_of_the_firm_replace_credentials(
    api, admin_headers, app_connection, other_firm
):
    connection = api.post("/api/v1/connections", json=_body(), headers=admin_headers).json()
    url = f"/api/v1/connections/{connection['id']}/credentials"
    body = {"credentials": {"client_secret": "x", "refresh_token": "y"}}
    staff = create_firm_user(app_connection, role=Role.staff)
    assert api.put(url, json=body, headers=login(api, staff)).status_code == 403
    assert api.put(url, json=body, headers=login(api, other_firm)).status_code == 404
