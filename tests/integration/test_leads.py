from __future__ import annotations

from sqlalchemy import text

from tests.conftest import set_firm


def _lead(api, headers, **fields):
    response = api.post("/api/v1/leads", json={"name": "Grace Hopper", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_lead_crud_filters_and_score_bounds(api, admin_headers, firm_admin):
    a = _lead(
        api,
        admin_headers,
        company_name="Navy Labs",
        score=90,
        source="referral",
        assignee_id=str(firm_admin.user_id),
    )
    _lead(api, admin_headers, name="Alan Turing", score=40, status="contacted")
    _lead(api, admin_headers, name="Ada Lovelace", score=70)
    by_score = api.get("/api/v1/leads", params={"sort": "-score"}, headers=admin_headers).json()
    assert [lead["score"] for lead in by_score["items"]] == [90, 70, 40]
    assert api.get("/api/v1/leads", params={"min_score": 60}, headers=admin_headers).json()["total"] == 2
    assert (
        api.get("/api/v1/leads", params={"status": "contacted"}, headers=admin_headers).json()["total"] == 1
    )
    assert (
        api.get("/api/v1/leads", params={"q": "navy"}, headers=admin_headers).json()["items"][0]["id"]
        == a["id"]
    )
    mine = api.get(
        "/api/v1/leads", params={"assignee_id": str(firm_admin.user_id)}, headers=admin_headers
    ).json()
    assert mine["total"] == 1

    too_high = api.post("/api/v1/leads", json={"name": "X", "score": 101}, headers=admin_headers)
    assert too_high.status_code == 422 and too_high.json()["errors"][0]["field"] == "score"
    cannot_skip = api.patch(f"/api/v1/leads/{a['id']}", json={"status": "converted"}, headers=admin_headers)
    assert cannot_skip.status_code == 422  # converted only through /convert

    updated = api.patch(
        f"/api/v1/leads/{a['id']}", json={"status": "qualified", "version": 1}, headers=admin_headers
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = api.patch(f"/api/v1/leads/{a['id']}", json={"score": 1, "version": 1}, headers=admin_headers)
    assert stale.status_code == 409


def test_assignee_must_be_a_member_of_the_firm(api, admin_headers, other_firm):
    response = api.post(
        "/api/v1/leads", json={"name": "X", "assignee_id": str(other_firm.user_id)}, headers=admin_headers
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "assignee_id"


def test_conversion_creates_client_and_contact_in_one_transaction(
    api, admin_headers, firm_admin, app_connection
):
    lead = _lead(
        api, admin_headers, company_name="Navy Labs", email="grace@navy.example.com", phone="555-0100"
    )
    response = api.post(f"/api/v1/leads/{lead['id']}/convert", json={}, headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (
        body["lead"]["status"] == "converted" and body["lead"]["converted_client_id"] == body["client"]["id"]
    )
    assert body["client"]["name"] == "Navy Labs" and body["client"]["email"] == "grace@navy.example.com"
    assert body["contact"]["first_name"] == "Grace" and body["contact"]["last_name"] == "Hopper"
    assert body["client"]["primary_contact_id"] == body["contact"]["id"]
    again = api.post(f"/api/v1/leads/{lead['id']}/convert", json={}, headers=admin_headers)
    assert again.status_code == 409
    assert (
        api.patch(f"/api/v1/leads/{lead['id']}", json={"score": 5}, headers=admin_headers).status_code == 409
    )


def test_failed_conversion_writes_nothing(api, admin_headers, firm_admin, app_connection):
    lead = _lead(api, admin_headers)
    stale = api.post(f"/api/v1/leads/{lead['id']}/convert", json={"version": 7}, headers=admin_headers)
    assert stale.status_code == 409
    lost = _lead(api, admin_headers, name="Lost Cause", status="lost")
    assert api.post(f"/api/v1/leads/{lost['id']}/convert", json={}, headers=admin_headers).status_code == 409
    set_firm(app_connection, firm_admin.firm_id)
    assert app_connection.execute(text("select count(*) from app.clients")).scalar() == 0
    assert app_connection.execute(text("select count(*) from app.contacts")).scalar() == 0
