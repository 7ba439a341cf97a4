from __future__ import annotations


def _event(api, headers, staff, **fields):
    body = {
        "title": "Quarterly review",
        "staff_user_id": str(staff.user_id),
        "starts_at": "2026-12-01T09:00:00-05:00",
        "ends_at": "2026-12-01T10:00:00-05:00",
        "timezone": "America/New_York",
        **fields,
    }
    return api.post("/api/v1/calendar/events", json=body, headers=headers)


def test_event_crud_and_time_range_filter(api, admin_headers, firm_admin):
    client = api.post("/api/v1/clients", json={"name": "Acme"}, headers=admin_headers).json()
    first = _event(api, admin_headers, firm_admin, client_id=client["id"], location="Room 4")
    assert first.status_code == 201, first.text
    assert first.json()["starts_at"].startswith("2026-12-01T14:00:00")  # stored as an instant (UTC)
    _event(
        api,
        admin_headers,
        firm_admin,
        title="Later",
        starts_at="2027-01-05T09:00:00Z",
        ends_at="2027-01-05T09:30:00Z",
    )
    december = api.get(
        "/api/v1/calendar/events",
        params={"starts_after": "2026-12-01T00:00:00Z", "starts_before": "2027-01-01T00:00:00Z"},
        headers=admin_headers,
    ).json()
    assert [e["title"] for e in december["items"]] == ["Quarterly review"]
    assert (
        api.get("/api/v1/calendar/events", params={"client_id": client["id"]}, headers=admin_headers).json()[
            "total"
        ]
        == 1
    )

    event_id = first.json()["id"]
    moved = api.patch(
        f"/api/v1/calendar/events/{event_id}",
        json={"ends_at": "2026-12-01T11:00:00-05:00"},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    assert moved.status_code == 200 and moved.headers["etag"] == '"2"'
    assert api.delete(f"/api/v1/calendar/events/{event_id}", headers=admin_headers).status_code == 204


def test_event_validation(api, admin_headers, firm_admin, other_firm):
    backwards = _event(api, admin_headers, firm_admin, ends_at="2026-12-01T08:00:00-05:00")
    assert backwards.status_code == 422
    naive = _event(api, admin_headers, firm_admin, starts_at="2026-12-01T09:00:00")
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "starts_at"
    bad_zone = _event(api, admin_headers, firm_admin, timezone="Mars/Olympus")
    assert bad_zone.status_code == 422 and bad_zone.json()["errors"][0]["field"] == "timezone"
    outsider = _event(api, admin_headers, other_firm)
    assert outsider.status_code == 422 and outsider.json()["errors"][0]["field"] == "staff_user_id"
    created = _event(api, admin_headers, firm_admin).json()
    shrink = api.patch(
        f"/api/v1/calendar/events/{created['id']}",
        json={"ends_at": "2026-12-01T08:00:00-05:00"},
        headers=admin_headers,
    )
    assert shrink.status_code == 422
