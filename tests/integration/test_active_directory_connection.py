"""`POST /api/v1/connections` with provider `active_directory`: validated against the connector's models,
stored with the service account's password encrypted, refused field by field when wrong."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import set_firm

PASSWORD = "Service-Account-Secret-9"


def _body(**config) -> dict:
    return {
        "provider": "active_directory",
        "config": {
            "host": "dc1.corp.example",
            "ca_bundle": "/etc/firmsync/corp-ca.pem",
            "base_dn": "DC=corp,DC=example",
            "user_search_base": "OU=Staff,DC=corp,DC=example",
            "bind_dn": "CN=svc-firmsync,OU=Service Accounts,DC=corp,DC=example",
            "role_mappings": [
                {"group_dn": "CN=Firmsync Admins,OU=Groups,DC=corp,DC=example", "role": "firm_admin"},
                {"group_dn": "CN=Firmsync Staff,OU=Groups,DC=corp,DC=example", "role": "staff"},
            ],
            **config,
        },
        "credentials": {"password": PASSWORD},
    }


def test_an_active_directory_connection_is_validated_and_stored_sealed(
    api, admin_headers, firm_admin, app_connection
):
    response = api.post("/api/v1/connections", json=_body(), headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["provider"] == "active_directory" and body["account_id"] == "dc=corp,dc=example"
    assert PASSWORD not in response.text

    set_firm(app_connection, firm_admin.firm_id)
    stored = app_connection.execute(
        text("select config, credentials_encrypted from app.connections where id = :id"), {"id": body["id"]}
    ).one()
    assert stored.config["use_ssl"] is True and stored.config["page_size"] == 500
    assert PASSWORD.encode() not in bytes(stored.credentials_encrypted)

    from core_api.security.secrets_box import secrets_box

    assert secrets_box().open(bytes(stored.credentials_encrypted))["password"] == PASSWORD

    providers = api.get("/api/v1/providers", headers=admin_headers).json()
    form = next(p for p in providers if p["name"] == "active_directory")
    assert "role_mappings" in str(form)


def test_bad_directory_settings_are_refused_field_by_field(api, admin_headers):
    bad_role = _body(role_mappings=[{"group_dn": "CN=Owners,DC=corp,DC=example", "role": "owner"}])
    response = api.post("/api/v1/connections", json=bad_role, headers=admin_headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["config.role_mappings.0.role"]

    plain = api.post("/api/v1/connections", json=_body(use_ssl=False), headers=admin_headers)
    assert plain.status_code == 422 and "encrypted" in plain.text

    twice = _body(
        role_mappings=[
            {"group_dn": "CN=A,DC=corp,DC=example", "role": "staff"},
            {"group_dn": "cn=a, dc=corp, dc=example", "role": "partner"},
        ]
    )
    response = api.post("/api/v1/connections", json=twice, headers=admin_headers)
    assert response.status_code == 422 and "mapped twice" in response.text

    no_password = {**_body(), "credentials": {}}
    response = api.post("/api/v1/connections", json=no_password, headers=admin_headers)
    assert [e["field"] for e in response.json()["errors"]] == ["credentials.password"]
