from __future__ import annotations

import uuid

from core_api.tenancy import Role
from tests.factories import create_firm_user
from tests.integration.conftest import login


def _create(api, headers, **fields):
    body = {"name": "Acme Holdings", **fields}
    response = api.post("/api/v1/clients", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_update_delete(api, admin_headers):
    created = _create(api, admin_headers, email="ops@acme.example.com", city="Boston")
    assert created["version"] == 1 and created["status"] == "active"

    fetched = api.get(f"/api/v1/clients/{created['id']}", headers=admin_headers)
    assert fetched.status_code == 200 and fetched.json()["email"] == "ops@acme.example.com"
    assert fetched.headers["etag"] == '"1"'

    patched = api.patch(f"/api/v1/clients/{created['id']}", json={"city": "Denver"}, headers=admin_headers)
    assert patched.status_code == 200
    assert patched.json()["city"] == "Denver" and patched.json()["version"] == 2

    assert api.delete(f"/api/v1/clients/{created['id']}", headers=admin_headers).status_code == 204
    assert api.get(f"/api/v1/clients/{created['id']}", headers=admin_headers).status_code == 404


def test_list_paginates_filters_sorts_and_reports_the_total(api, admin_headers):
    for name in ["Delta", "alpha", "Charlie", "Bravo", "Echo"]:
        _create(api, admin_headers, name=name, status="inactive" if name == "Echo" else "active")
    page = api.get(
        "/api/v1/clients", params={"limit": 2, "offset": 1, "sort": "name"}, headers=admin_headers
    ).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [c["name"] for c in page["items"]] == ["Bravo", "Charlie"]

    inactive = api.get("/api/v1/clients", params={"status": "inactive"}, headers=admin_headers).json()
    assert [c["name"] for c in inactive["items"]] == ["Echo"]
    search = api.get("/api/v1/clients", params={"q": "ALP"}, headers=admin_headers).json()
    assert [c["name"] for c in search["items"]] == ["alpha"]
    desc = api.get("/api/v1/clients", params={"sort": "-name", "limit": 1}, headers=admin_headers).json()
    assert desc["items"][0]["name"] == "Echo"


def test_stale_version_gets_409_and_changes_nothing(api, admin_headers):
    created = _create(api, admin_headers)
    url = f"/api/v1/clients/{created['id']}"
    assert (
        api.patch(url, json={"name": "First"}, headers={**admin_headers, "If-Match": '"1"'}).status_code
        == 200
    )
    stale = api.patch(url, json={"name": "Second"}, headers={**admin_headers, "If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"
    stale_body = api.patch(url, json={"name": "Third", "version": 1}, headers=admin_headers)
    assert stale_body.status_code == 409
    assert api.get(url, headers=admin_headers).json()["name"] == "First"


def test_bad_input_is_problem_json_with_field_messages_and_nothing_is_written(api, admin_headers):
    malformed = api.post(
        "/api/v1/clients", content=b'{"name": ', headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"

    wrong_types = api.post(
        "/api/v1/clients", json={"name": 42, "email": "not-an-email"}, headers=admin_headers
    )
    assert wrong_types.status_code == 422
    fields = {e["field"] for e in wrong_types.json()["errors"]}
    assert {"name", "email"} <= fields

    missing = api.post("/api/v1/clients", json={"email": "a@b.example.com"}, headers=admin_headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "name"

    unknown_field = api.post(
        "/api/v1/clients", json={"name": "X", "firm_id": str(uuid.uuid4())}, headers=admin_headers
    )
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["field"] == "firm_id"

    bad_page = api.get("/api/v1/clients", params={"limit": 0}, headers=admin_headers)
    assert bad_page.status_code == 422 and bad_page.json()["errors"][0]["field"] == "query.limit"

    assert api.get("/api/v1/clients", headers=admin_headers).json()["total"] == 0


def test_readonly_role_reads_but_cannot_write(api, app_connection, admin_headers):
    created = _create(api, admin_headers)
    reader = create_firm_user(app_connection, role=Role.readonly)
    headers = login(api, reader)
    # Different firm: the reader sees its own (empty) firm, never the admin's client.
    assert api.get("/api/v1/clients", headers=headers).json()["total"] == 0
    assert api.get(f"/api/v1/clients/{created['id']}", headers=headers).status_code == 404
    denied = api.post("/api/v1/clients", json={"name": "Nope"}, headers=headers)
    assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"


def _contact(api, headers, client_id, **fields):
    response = api.post(f"/api/v1/clients/{client_id}/contacts", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_firm_wide_contacts_search_filter_sort_page_with_the_client_name(api, admin_headers):
    acme = _create(api, admin_headers, name="Acme")
    birch = _create(api, admin_headers, name="Birch")
    _contact(api, admin_headers, acme["id"], first_name="Ann", last_name="Zed", email="ann@acme.example.com")
    _contact(api, admin_headers, acme["id"], first_name="Bob", last_name="Young")
    _contact(api, admin_headers, birch["id"], first_name="Cat", last_name="Xu", email="cat@birch.example.com")

    page = api.get("/api/v1/contacts", params={"limit": 2, "offset": 0}, headers=admin_headers).json()
    assert page["total"] == 3 and page["limit"] == 2
    assert [(c["last_name"], c["client_name"]) for c in page["items"]] == [("Xu", "Birch"), ("Young", "Acme")]
    desc = api.get("/api/v1/contacts", params={"sort": "-name"}, headers=admin_headers).json()
    assert [c["first_name"] for c in desc["items"]] == ["Ann", "Bob", "Cat"]

    by_email = api.get("/api/v1/contacts", params={"q": "BIRCH.example"}, headers=admin_headers).json()
    assert [c["first_name"] for c in by_email["items"]] == ["Cat"]
    by_name = api.get("/api/v1/contacts", params={"q": "you"}, headers=admin_headers).json()
    assert [c["first_name"] for c in by_name["items"]] == ["Bob"]
    of_acme = api.get("/api/v1/contacts", params={"client_id": acme["id"]}, headers=admin_headers).json()
    assert {c["first_name"] for c in of_acme["items"]} == {"Ann", "Bob"}
    assert all(c["client_id"] == acme["id"] for c in of_acme["items"])

    # A deleted client's contacts leave the list with it.
    assert api.delete(f"/api/v1/clients/{birch['id']}", headers=admin_headers).status_code == 204
    assert api.get("/api/v1/contacts", headers=admin_headers).json()["total"] == 2

    bad_sort = api.get("/api/v1/contacts", params={"sort": "email"}, headers=admin_headers)
    assert bad_sort.status_code == 422


def test_firm_wide_contacts_never_show_another_firms(api, app_connection, admin_headers, other_firm):
    acme = _create(api, admin_headers, name="Acme")
    _contact(api, admin_headers, acme["id"], first_name="Ann", email="ann@acme.example.com")
    other = login(api, other_firm)
    theirs = _create(api, other, name="Theirs")
    _contact(api, other, theirs["id"], first_name="Ann", email="ann@theirs.example.com")

    mine = api.get("/api/v1/contacts", params={"q": "ann"}, headers=admin_headers).json()
    assert [c["email"] for c in mine["items"]] == ["ann@acme.example.com"] and mine["total"] == 1
    # Filtering by the other firm's client id finds nothing rather than leaking its contacts.
    leak = api.get("/api/v1/contacts", params={"client_id": theirs["id"]}, headers=admin_headers).json()
    assert leak["total"] == 0 and leak["items"] == []

    reader = login(api, create_firm_user(app_connection, role=Role.readonly))
    assert api.get("/api/v1/contacts", headers=reader).status_code == 200
