"""Billing through HTTP: engagements, invoices (and their status machine), payments and allocations."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from core_api.tenancy import Role
from tests.conftest import set_firm
from tests.factories import create_firm_user
from tests.integration.conftest import login

FAR_FUTURE = "2999-12-31"  # due date of invoices that must not turn overdue
ONE_LINE = [{"description": "Advisory", "quantity": "1", "unit_price": "100.00"}]


def _post(api, headers, path, body, expect=201):
    response = api.post(path, json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


def _client(api, headers, name="Acme Holdings"):
    return _post(api, headers, "/api/v1/clients", {"name": name})["id"]


def _invoice(api, headers, client_id, lines=ONE_LINE, **fields):
    body = {"client_id": client_id, "lines": lines, "due_date": FAR_FUTURE, **fields}
    return _post(api, headers, "/api/v1/invoices", body)


def _send(api, headers, invoice_id, expect=200):
    return _post(api, headers, f"/api/v1/invoices/{invoice_id}/send", None, expect)


def _payment(api, headers, client_id, amount="1000.00", **fields):
    return _post(api, headers, "/api/v1/payments", {"client_id": client_id, "amount": amount, **fields})


def _allocate(api, headers, payment_id, invoice_id, amount, expect=201):
    body = {"invoice_id": invoice_id, "amount": amount}
    return _post(api, headers, f"/api/v1/payments/{payment_id}/allocations", body, expect)


def _get(api, headers, path):
    response = api.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors") or []}


def _set_currency(app_connection, firm_id, currency):
    set_firm(app_connection, firm_id)
    app_connection.execute(
        text("update app.firms set currency = :c where id = :f"), {"c": currency, "f": firm_id}
    )
    set_firm(app_connection, None)


# --- engagements ---------------------------------------------------------------------------------------


def test_engagement_crud_with_lines_computed_on_the_server(api, admin_headers):
    client_id = _client(api, admin_headers)
    created = _post(
        api,
        admin_headers,
        "/api/v1/engagements",
        {
            "client_id": client_id,
            "title": "Year-end audit",
            "pricing_mode": "fixed",
            "fixed_fee": "12000",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "lines": [
                {"description": "Fieldwork", "quantity": "3", "unit_price": "0.335"},
                {"description": "Report", "unit_price": "99.995"},
            ],
        },
    )
    assert created["status"] == "draft" and created["version"] == 1 and created["currency"] == "USD"
    assert created["fixed_fee"] == "12000.00" and created["hourly_rate"] is None
    assert [line["amount"] for line in created["lines"]] == ["1.01", "100.00"]  # half-up per line
    assert created["lines_total"] == "101.01"
    url = f"/api/v1/engagements/{created['id']}"

    fetched = api.get(url, headers=admin_headers)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'

    patched = api.patch(
        url,
        json={"status": "active", "lines": [{"description": "Only", "quantity": "2", "unit_price": "10"}]},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["status"] == "active" and body["version"] == 2 and body["lines_total"] == "20.00"
    assert [line["description"] for line in body["lines"]] == ["Only"]

    # Lines alone still move the version (the ETag must change when what you read changed).
    relined = api.patch(
        url,
        json={"lines": [{"description": "Only", "quantity": "2", "unit_price": "10"}]},
        headers=admin_headers,
    )
    assert relined.json()["version"] == 3
    stale = api.patch(url, json={"title": "x"}, headers={**admin_headers, "If-Match": '"2"'})
    assert stale.status_code == 409 and _errors(stale) == {"version": stale.json()["detail"]}

    assert api.delete(url, headers=admin_headers).status_code == 204
    assert api.get(url, headers=admin_headers).status_code == 404


def test_engagement_fees_follow_the_pricing_mode_and_bad_input_writes_nothing(api, admin_headers):
    client_id = _client(api, admin_headers)
    base = {"client_id": client_id, "title": "Tax"}
    cases = [
        ({**base, "pricing_mode": "hourly"}, "hourly_rate"),
        ({**base, "pricing_mode": "fixed", "fixed_fee": "10", "hourly_rate": "200"}, "hourly_rate"),
        ({**base, "pricing_mode": "retainer", "fixed_fee": "10"}, "retainer_amount"),
        ({**base, "pricing_mode": "fixed", "fixed_fee": "-1"}, "fixed_fee"),
        ({**base, "pricing_mode": "bartering"}, "pricing_mode"),
        (
            {
                **base,
                "pricing_mode": "fixed",
                "fixed_fee": "1",
                "start_date": "2026-02-01",
                "end_date": "2026-01-31",
            },
            "end_date",
        ),
        ({**base, "pricing_mode": "fixed", "fixed_fee": "1", "client_id": str(uuid.uuid4())}, "client_id"),
        ({**base, "pricing_mode": "fixed", "fixed_fee": "1", "status": "completed"}, "status"),
        (
            {
                **base,
                "pricing_mode": "fixed",
                "fixed_fee": "1",
                "lines": [{"description": "x", "quantity": "0", "unit_price": "1"}],
            },
            "lines.0.quantity",
        ),
        ({**base, "pricing_mode": "fixed", "fixed_fee": "1", "firm_id": str(uuid.uuid4())}, "firm_id"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/engagements", json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.text)
        assert field in _errors(response), (body, response.json())
    assert api.get("/api/v1/engagements", headers=admin_headers).json()["total"] == 0

    hourly = _post(
        api, admin_headers, "/api/v1/engagements", {**base, "pricing_mode": "hourly", "hourly_rate": "187.5"}
    )
    assert hourly["hourly_rate"] == "187.5000"
    # Switching mode clears the old fee; the new one is required.
    url = f"/api/v1/engagements/{hourly['id']}"
    missing = api.patch(url, json={"pricing_mode": "retainer"}, headers=admin_headers)
    assert missing.status_code == 422 and "retainer_amount" in _errors(missing)
    switched = api.patch(
        url, json={"pricing_mode": "retainer", "retainer_amount": "500"}, headers=admin_headers
    )
    assert switched.status_code == 200
    assert switched.json()["hourly_rate"] is None and switched.json()["retainer_amount"] == "500.00"


def test_engagement_status_transitions(api, admin_headers):
    client_id = _client(api, admin_headers)
    allowed = {("draft", "active"), ("draft", "cancelled"), ("active", "completed"), ("active", "cancelled")}
    paths = {
        "draft": [],
        "active": ["active"],
        "completed": ["active", "completed"],
        "cancelled": ["cancelled"],
    }
    statuses = ["draft", "active", "completed", "cancelled"]
    for start in statuses:
        for target in statuses:
            if start == target:
                continue
            engagement = _post(
                api,
                admin_headers,
                "/api/v1/engagements",
                {"client_id": client_id, "title": "T", "pricing_mode": "fixed", "fixed_fee": "1"},
            )
            url = f"/api/v1/engagements/{engagement['id']}"
            for step in paths[start]:
                assert api.patch(url, json={"status": step}, headers=admin_headers).status_code == 200
            response = api.patch(url, json={"status": target}, headers=admin_headers)
            expected = 200 if (start, target) in allowed else 409
            assert response.status_code == expected, (start, target, response.text)
            if expected == 409:
                assert response.json()["errors"][0]["field"] == "status"
    # completed and cancelled engagements are read-only
    done = api.get("/api/v1/engagements", params={"status": "completed"}, headers=admin_headers).json()
    url = f"/api/v1/engagements/{done['items'][0]['id']}"
    assert api.patch(url, json={"title": "Renamed"}, headers=admin_headers).status_code == 409


def test_engagement_list_filters_sort_and_pagination(api, admin_headers):
    acme, globex = _client(api, admin_headers, "Acme"), _client(api, admin_headers, "Globex")
    for title, client_id, mode, start in [
        ("Delta", acme, "fixed", "2026-04-01"),
        ("alpha", acme, "hourly", "2026-01-01"),
        ("Charlie", globex, "fixed", "2026-03-01"),
        ("Bravo", globex, "retainer", "2026-02-01"),
    ]:
        fee = {"fixed": "fixed_fee", "hourly": "hourly_rate", "retainer": "retainer_amount"}[mode]
        _post(
            api,
            admin_headers,
            "/api/v1/engagements",
            {"client_id": client_id, "title": title, "pricing_mode": mode, fee: "10", "start_date": start},
        )

    def titles(**params):
        page = api.get("/api/v1/engagements", params=params, headers=admin_headers)
        assert page.status_code == 200, page.text
        return [e["title"] for e in page.json()["items"]]

    page = api.get(
        "/api/v1/engagements", params={"sort": "title", "limit": 2, "offset": 1}, headers=admin_headers
    ).json()
    assert page["total"] == 4 and [e["title"] for e in page["items"]] == ["Bravo", "Charlie"]
    assert titles(sort="-start_date") == ["Delta", "Charlie", "Bravo", "alpha"]
    assert titles(client_id=acme, sort="title") == ["alpha", "Delta"]
    assert titles(pricing_mode="fixed", sort="title") == ["Charlie", "Delta"]
    assert titles(start_date_from="2026-02-01", start_date_to="2026-03-31", sort="start_date") == [
        "Bravo",
        "Charlie",
    ]
    assert titles(q="ELT") == ["Delta"]
    assert titles(status="active") == []
    bad = api.get("/api/v1/engagements", params={"sort": "fee"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.sort"


# --- invoices ------------------------------------------------------------------------------------------


def test_invoice_numbers_totals_and_crud(api, admin_headers):
    client_id = _client(api, admin_headers)
    first = _invoice(
        api,
        admin_headers,
        client_id,
        lines=[
            {"description": "Fieldwork", "quantity": "3", "unit_price": "0.335", "tax_rate": "20"},
            {"description": "Filing", "quantity": "1.5", "unit_price": "33.33", "tax_rate": "8.875"},
            {"description": "Untaxed", "quantity": "1", "unit_price": "0.005"},
        ],
        issue_date="2026-05-01",
        due_date="2026-05-31",
    )
    # 3 * 0.335 = 1.005 → 1.01 (tax 0.202 → 0.20); 1.5 * 33.33 = 49.995 → 50.00 (tax 4.4375 → 4.44);
    # 0.005 → 0.01 (no tax). Rounded per line, then summed.
    assert [(line["amount"], line["tax_amount"]) for line in first["lines"]] == [
        ("1.01", "0.20"),
        ("50.00", "4.44"),
        ("0.01", "0.00"),
    ]
    assert (first["subtotal"], first["tax_total"], first["total"]) == ("51.02", "4.64", "55.66")
    assert (first["amount_paid"], first["balance_due"]) == ("0.00", "55.66")
    assert first["status"] == "draft" and first["currency"] == "USD" and first["external_refs"] == []
    assert first["number"].startswith("INV-") and len(first["number"]) == 10

    # The next free number skips one typed in by hand.
    after = int(first["number"][4:]) + 1
    manual = _invoice(api, admin_headers, client_id, number=f"INV-{after:06d}")
    auto = _invoice(api, admin_headers, client_id)
    assert auto["number"] == f"INV-{after + 1:06d}"
    duplicate = api.post(
        "/api/v1/invoices", json={"client_id": client_id, "number": manual["number"]}, headers=admin_headers
    )
    assert duplicate.status_code == 409 and "number" in _errors(duplicate)
    renumber = api.patch(
        f"/api/v1/invoices/{auto['id']}", json={"number": manual["number"]}, headers=admin_headers
    )
    assert renumber.status_code == 409 and "number" in _errors(renumber)

    # Defaults: issued today (firm timezone), due 30 days later.
    plain = _post(api, admin_headers, "/api/v1/invoices", {"client_id": client_id})
    assert plain["total"] == "0.00" and plain["lines"] == []

    url = f"/api/v1/invoices/{first['id']}"
    fetched = api.get(url, headers=admin_headers)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'
    edited = api.patch(
        url, json={"lines": ONE_LINE, "notes": "Thanks"}, headers={**admin_headers, "If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["total"], edited.json()["version"]) == ("100.00", 2)
    stale = api.patch(url, json={"notes": "late"}, headers={**admin_headers, "If-Match": '"1"'})
    assert stale.status_code == 409 and "version" in _errors(stale)
    stale_body = api.patch(url, json={"notes": "late", "version": 1}, headers=admin_headers)
    assert stale_body.status_code == 409
    assert api.delete(url, headers={**admin_headers, "If-Match": '"1"'}).status_code == 409
    assert api.delete(url, headers={**admin_headers, "If-Match": '"2"'}).status_code == 204
    assert api.get(url, headers=admin_headers).status_code == 404
    # A deleted draft's number is never reused.
    reuse = api.post(
        "/api/v1/invoices", json={"client_id": client_id, "number": first["number"]}, headers=admin_headers
    )
    assert reuse.status_code == 409


def test_invoice_bad_input_is_422_with_fields_and_writes_nothing(api, admin_headers, app_connection):
    client_id = _client(api, admin_headers)
    other_client = _client(api, admin_headers, "Other")
    engagement = _post(
        api,
        admin_headers,
        "/api/v1/engagements",
        {"client_id": other_client, "title": "E", "pricing_mode": "fixed", "fixed_fee": "1"},
    )
    foreign = create_firm_user(app_connection, name="Foreign")
    foreign_client = _client(api, login(api, foreign))
    line = {"description": "x", "unit_price": "1"}
    cases = [
        ({"client_id": foreign_client}, "client_id"),
        ({"client_id": client_id, "engagement_id": engagement["id"]}, "engagement_id"),
        ({"client_id": client_id, "engagement_id": str(uuid.uuid4())}, "engagement_id"),
        ({"client_id": client_id, "issue_date": "2026-02-01", "due_date": "2026-01-01"}, "due_date"),
        ({"client_id": client_id, "lines": [{**line, "unit_price": "1.00001"}]}, "lines.0.unit_price"),
        ({"client_id": client_id, "lines": [{**line, "tax_rate": "100.5"}]}, "lines.0.tax_rate"),
        ({"client_id": client_id, "lines": [{**line, "unit_price": "-1"}]}, "lines.0.unit_price"),
        ({"client_id": client_id, "lines": [{**line, "description": ""}]}, "lines.0.description"),
        ({"client_id": client_id, "lines": [{**line, "description": "nul\x00"}]}, "lines.0.description"),
        ({"client_id": client_id, "lines": [{**line, "unit_price": "NaN"}]}, "lines.0.unit_price"),
        (
            {
                "client_id": client_id,
                "lines": [{**line, "quantity": "99999999999999", "unit_price": "99999999999999"}],
            },
            "lines",
        ),
        ({"client_id": client_id, "currency": "EUR"}, "currency"),
        ({"client_id": client_id, "total": "5"}, "total"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/invoices", json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.text)
        assert field in _errors(response), (body, response.json())
    assert api.get("/api/v1/invoices", headers=admin_headers).json()["total"] == 0


def test_invoices_take_the_firms_currency_and_round_to_its_minor_unit(api, app_connection):
    user = create_firm_user(app_connection, name="Tokyo KK")
    _set_currency(app_connection, user.firm_id, "JPY")
    headers = login(api, user)
    client_id = _client(api, headers)
    invoice = _invoice(
        api,
        headers,
        client_id,
        lines=[
            {
                "description": "a",
                "quantity": "3",
                "unit_price": "100.5",
                "tax_rate": "10",
            },  # 301.5 → 302, tax 30.2 → 30
            {"description": "b", "quantity": "1", "unit_price": "0.4999"},  # → 0
        ],
    )
    assert invoice["currency"] == "JPY"
    assert [line["amount"] for line in invoice["lines"]] == ["302", "0"]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("302", "30", "332")
    _send(api, headers, invoice["id"])
    payment = _payment(api, headers, client_id, amount="500")
    assert payment["currency"] == "JPY" and payment["amount"] == "500"
    fraction = api.post("/api/v1/payments", json={"client_id": client_id, "amount": "10.5"}, headers=headers)
    assert fraction.status_code == 422 and "amount" in _errors(fraction)
    cents = _allocate(api, headers, payment["id"], invoice["id"], "0.50", expect=422)
    assert "amount" in cents["errors"][0]["field"]
    _allocate(api, headers, payment["id"], invoice["id"], "332")
    paid = _get(api, headers, f"/api/v1/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_paid"], paid["balance_due"]) == ("paid", "332", "0")
    # A USD payment cannot pay a JPY invoice.
    usd = _payment(api, headers, client_id, amount="5.00", currency="USD")
    other = _invoice(api, headers, client_id)
    _send(api, headers, other["id"])
    mismatch = _allocate(api, headers, usd["id"], other["id"], "1", expect=422)
    assert mismatch["errors"][0]["field"] == "invoice_id" and "JPY" in mismatch["detail"]


def test_invoice_list_filters_sort_pagination_and_overdue(api, admin_headers):
    acme, globex = _client(api, admin_headers, "Acme"), _client(api, admin_headers, "Globex")
    made = {}
    for key, client_id, issue, due, lines in [
        ("draft", acme, "2026-01-10", FAR_FUTURE, ONE_LINE),
        ("sent", acme, "2026-02-10", FAR_FUTURE, ONE_LINE),
        ("overdue", globex, "2020-03-10", "2020-04-09", ONE_LINE),
        (
            "big",
            globex,
            "2026-04-10",
            FAR_FUTURE,
            [{"description": "x", "quantity": "10", "unit_price": "100"}],
        ),
    ]:
        made[key] = _invoice(api, admin_headers, client_id, lines=lines, issue_date=issue, due_date=due)
    for key in ("sent", "overdue", "big"):
        _send(api, admin_headers, made[key]["id"])
    payment = _payment(api, admin_headers, globex)
    _allocate(api, admin_headers, payment["id"], made["big"]["id"], "1")

    def numbers(**params):
        response = api.get("/api/v1/invoices", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        return [i["number"] for i in response.json()["items"]]

    n = {k: v["number"] for k, v in made.items()}
    assert numbers(sort="issue_date") == [n["overdue"], n["draft"], n["sent"], n["big"]]
    assert numbers() == [n["big"], n["sent"], n["draft"], n["overdue"]]  # default: newest issue first
    assert numbers(status="overdue") == [n["overdue"]]
    assert numbers(status="sent") == [n["sent"]]
    assert numbers(status="partial") == [n["big"]]
    assert numbers(status="draft") == [n["draft"]]
    assert numbers(client_id=acme, sort="number") == sorted([n["draft"], n["sent"]])
    assert numbers(issue_date_from="2026-02-01", issue_date_to="2026-03-31") == [n["sent"]]
    assert numbers(due_date_to="2021-01-01") == [n["overdue"]]
    assert numbers(due_date_from="2021-01-01", sort="-total")[0] == n["big"]
    assert numbers(q=n["sent"].lower()) == [n["sent"]]
    page = api.get(
        "/api/v1/invoices", params={"limit": 1, "offset": 2, "sort": "issue_date"}, headers=admin_headers
    ).json()
    assert page["total"] == 4 and [i["number"] for i in page["items"]] == [n["sent"]]
    overdue = _get(api, admin_headers, f"/api/v1/invoices/{made['overdue']['id']}")
    assert overdue["status"] == "overdue"
    # Extending the due date of a sent invoice takes it out of overdue at once (derived at read time).
    extended = api.patch(
        f"/api/v1/invoices/{made['overdue']['id']}", json={"due_date": FAR_FUTURE}, headers=admin_headers
    )
    assert extended.status_code == 200 and extended.json()["status"] == "sent"
    bad = api.get("/api/v1/invoices", params={"status": "unpaid"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.status"


STATES = ["draft", "sent", "overdue", "partial", "partial_overdue", "paid", "void"]
# action → the states it is allowed from (everything else must be a 409, except allocation to a paid
# invoice, which is over its balance: 422).
ALLOWED = {
    "send": {"draft"},
    "void": {"draft", "sent", "overdue"},
    "edit_lines": {"draft"},
    "edit_notes": {"draft", "sent", "overdue", "partial", "partial_overdue", "paid"},
    "delete": {"draft"},
    "allocate": {"sent", "overdue", "partial", "partial_overdue"},
}
AFTER = {  # the reported status after an allowed action
    ("send", "draft"): "sent",
    ("void", "draft"): "void",
    ("void", "sent"): "void",
    ("void", "overdue"): "void",
    ("allocate", "sent"): "partial",
    ("allocate", "overdue"): "overdue",
    ("allocate", "partial"): "partial",
    ("allocate", "partial_overdue"): "overdue",
}


def test_invoice_status_machine_every_action_from_every_state(api, admin_headers):
    client_id = _client(api, admin_headers)
    payment = _payment(api, admin_headers, client_id, amount="100000.00")

    def in_state(state: str) -> dict:
        past = state in ("overdue", "partial_overdue")
        invoice = _invoice(
            api,
            admin_headers,
            client_id,
            issue_date="2020-01-01",
            due_date="2020-01-31" if past else FAR_FUTURE,
        )
        if state != "draft" and state != "void":
            _send(api, admin_headers, invoice["id"])
        if state in ("partial", "partial_overdue"):
            _allocate(api, admin_headers, payment["id"], invoice["id"], "40.00")
        if state == "paid":
            _allocate(api, admin_headers, payment["id"], invoice["id"], "100.00")
        if state == "void":
            _post(api, admin_headers, f"/api/v1/invoices/{invoice['id']}/void", None, 200)
        current = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")
        assert current["status"] == state.replace("partial_overdue", "overdue"), (state, current)
        return current

    def act(action: str, invoice: dict):
        url = f"/api/v1/invoices/{invoice['id']}"
        if action in ("send", "void"):
            return api.post(f"{url}/{action}", headers=admin_headers)
        if action == "edit_lines":
            return api.patch(url, json={"lines": ONE_LINE * 2}, headers=admin_headers)
        if action == "edit_notes":
            return api.patch(url, json={"notes": "Called the client"}, headers=admin_headers)
        if action == "delete":
            return api.delete(url, headers=admin_headers)
        return api.post(
            f"/api/v1/payments/{payment['id']}/allocations",
            json={"invoice_id": invoice["id"], "amount": "10.00"},
            headers=admin_headers,
        )

    failures = []
    for action, allowed in ALLOWED.items():
        for state in STATES:
            invoice = in_state(state)
            response = act(action, invoice)
            if state in allowed:
                ok = response.status_code in (200, 201, 204)
                if ok and (action, state) in AFTER:
                    ok = (
                        _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")["status"]
                        == AFTER[(action, state)]
                    )
            else:
                expected = 422 if (action, state) == ("allocate", "paid") else 409
                ok = response.status_code == expected and bool(response.json().get("detail"))
                unchanged = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")
                ok = ok and unchanged["version"] == invoice["version"]
            if not ok:
                failures.append((action, state, response.status_code, response.text[:200]))
    assert failures == []


def test_forbidden_transitions_explain_themselves(api, admin_headers):
    client_id = _client(api, admin_headers)
    invoice = _invoice(api, admin_headers, client_id, lines=[])
    no_lines = api.post(f"/api/v1/invoices/{invoice['id']}/send", headers=admin_headers)
    assert no_lines.status_code == 409 and "no lines" in no_lines.json()["detail"]
    api.patch(f"/api/v1/invoices/{invoice['id']}", json={"lines": ONE_LINE}, headers=admin_headers)
    stale = api.post(f"/api/v1/invoices/{invoice['id']}/send", headers={**admin_headers, "If-Match": '"1"'})
    assert stale.status_code == 409 and "version" in _errors(stale)
    _send(api, admin_headers, invoice["id"])
    again = api.post(f"/api/v1/invoices/{invoice['id']}/send", headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["detail"] == f"invoice {invoice['number']} is sent: only a draft invoice can be sent"
    payment = _payment(api, admin_headers, client_id)
    _allocate(api, admin_headers, payment["id"], invoice["id"], "1.00")
    void = api.post(f"/api/v1/invoices/{invoice['id']}/void", headers=admin_headers)
    assert void.status_code == 409 and "delete its allocations" in void.json()["detail"]
    # A zero-total invoice owes nothing: sending it settles it.
    free = _invoice(api, admin_headers, client_id, lines=[{"description": "Courtesy", "unit_price": "0"}])
    assert _send(api, admin_headers, free["id"])["status"] == "paid"


# --- payments and allocations --------------------------------------------------------------------------


def test_allocations_drive_amount_paid_and_status_and_refuse_overpayment(api, admin_headers):
    client_id = _client(api, admin_headers)
    invoice = _invoice(api, admin_headers, client_id)  # 100.00
    _send(api, admin_headers, invoice["id"])
    small = _payment(api, admin_headers, client_id, amount="60.00", method="card", reference="ch_1")
    large = _payment(api, admin_headers, client_id, amount="500.00", method="bank_transfer")

    over_payment = api.post(
        f"/api/v1/payments/{small['id']}/allocations",
        json={"invoice_id": invoice["id"], "amount": "60.01"},
        headers=admin_headers,
    )
    assert over_payment.status_code == 422 and "unallocated" in _errors(over_payment)["amount"]
    first = _allocate(api, admin_headers, small["id"], invoice["id"], "60.00")
    assert first["currency"] == "USD" and first["amount"] == "60.00"
    state = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")
    assert (state["status"], state["amount_paid"], state["balance_due"]) == ("partial", "60.00", "40.00")
    assert _get(api, admin_headers, f"/api/v1/payments/{small['id']}")["unallocated"] == "0.00"

    over_balance = api.post(
        f"/api/v1/payments/{large['id']}/allocations",
        json={"invoice_id": invoice["id"], "amount": "40.01"},
        headers=admin_headers,
    )
    assert over_balance.status_code == 422 and "balance due" in _errors(over_balance)["amount"]
    second = _allocate(api, admin_headers, large["id"], invoice["id"], "40.00")
    state = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")
    assert (state["status"], state["amount_paid"], state["balance_due"]) == ("paid", "100.00", "0.00")
    assert _get(api, admin_headers, f"/api/v1/payments/{large['id']}")["unallocated"] == "460.00"

    listed = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}/allocations")
    assert listed["total"] == 2 and {a["id"] for a in listed["items"]} == {first["id"], second["id"]}
    by_payment = _get(api, admin_headers, f"/api/v1/payments/{large['id']}/allocations")
    assert [a["id"] for a in by_payment["items"]] == [second["id"]]
    one = api.get(f"/api/v1/payments/{large['id']}/allocations/{second['id']}", headers=admin_headers)
    assert one.status_code == 200 and one.headers["etag"] == '"1"'
    assert (
        api.get(
            f"/api/v1/payments/{small['id']}/allocations/{second['id']}", headers=admin_headers
        ).status_code
        == 404
    )

    # Un-allocating goes back to partial, then sent.
    gone = api.delete(f"/api/v1/payments/{large['id']}/allocations/{second['id']}", headers=admin_headers)
    assert gone.status_code == 204
    assert _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")["status"] == "partial"
    assert (
        api.delete(
            f"/api/v1/payments/{small['id']}/allocations/{first['id']}", headers=admin_headers
        ).status_code
        == 204
    )
    state = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")
    assert (state["status"], state["amount_paid"], state["balance_due"]) == ("sent", "0.00", "100.00")
    assert _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}/allocations")["total"] == 0


def test_allocation_cross_references_are_checked(api, admin_headers, app_connection):
    client_id, other_client = _client(api, admin_headers), _client(api, admin_headers, "Other")
    payment = _payment(api, admin_headers, client_id)
    others = _invoice(api, admin_headers, other_client)
    _send(api, admin_headers, others["id"])
    draft = _invoice(api, admin_headers, client_id)
    foreign = create_firm_user(app_connection, name="Foreign")
    foreign_headers = login(api, foreign)
    foreign_invoice = _invoice(api, foreign_headers, _client(api, foreign_headers))
    _send(api, foreign_headers, foreign_invoice["id"])

    url = f"/api/v1/payments/{payment['id']}/allocations"
    for body, status, field in [
        ({"invoice_id": others["id"], "amount": "1"}, 422, "invoice_id"),
        ({"invoice_id": foreign_invoice["id"], "amount": "1"}, 422, "invoice_id"),
        ({"invoice_id": draft["id"], "amount": "1"}, 409, "invoice_id"),
        ({"invoice_id": draft["id"], "amount": "0"}, 422, "amount"),
        ({"invoice_id": draft["id"], "amount": "1.001"}, 422, "amount"),
        ({"invoice_id": draft["id"]}, 422, "amount"),
    ]:
        response = api.post(url, json=body, headers=admin_headers)
        assert response.status_code == status, (body, response.text)
        assert field in _errors(response), (body, response.json())
    assert _get(api, admin_headers, url)["total"] == 0
    assert _get(api, admin_headers, f"/api/v1/payments/{payment['id']}")["amount_allocated"] == "0.00"
    missing = api.post(
        f"/api/v1/payments/{uuid.uuid4()}/allocations",
        json={"invoice_id": draft["id"], "amount": "1"},
        headers=admin_headers,
    )
    assert missing.status_code == 404


def test_payment_crud_filters_and_rules_while_allocated(api, admin_headers):
    acme, globex = _client(api, admin_headers, "Acme"), _client(api, admin_headers, "Globex")
    cheque = _payment(
        api,
        admin_headers,
        acme,
        amount="250.00",
        method="check",
        reference="CHQ-0042",
        received_date="2026-03-01",
    )
    _payment(
        api,
        admin_headers,
        globex,
        amount="75.50",
        method="bank_transfer",
        reference="WIRE-7",
        received_date="2026-04-15",
    )
    assert cheque["version"] == 1 and cheque["unallocated"] == "250.00" and cheque["external_refs"] == []

    def refs(**params):
        response = api.get("/api/v1/payments", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        return [p["reference"] for p in response.json()["items"]]

    assert refs() == ["WIRE-7", "CHQ-0042"]
    assert refs(sort="amount") == ["WIRE-7", "CHQ-0042"]
    assert refs(client_id=acme) == ["CHQ-0042"]
    assert refs(method="bank_transfer") == ["WIRE-7"]
    assert refs(received_date_from="2026-04-01") == ["WIRE-7"]
    assert refs(received_date_to="2026-03-31") == ["CHQ-0042"]
    assert refs(q="chq") == ["CHQ-0042"]
    assert refs(limit=1, offset=1) == ["CHQ-0042"]

    invoice = _invoice(api, admin_headers, acme)
    _send(api, admin_headers, invoice["id"])
    allocation = _allocate(api, admin_headers, cheque["id"], invoice["id"], "100.00")
    assert refs(unallocated="true") == ["WIRE-7", "CHQ-0042"]
    url = f"/api/v1/payments/{cheque['id']}"
    current = _get(api, admin_headers, url)
    assert current["amount_allocated"] == "100.00" and current["unallocated"] == "150.00"

    below = api.patch(url, json={"amount": "99.99"}, headers=admin_headers)
    assert below.status_code == 422 and "amount" in _errors(below)
    moved = api.patch(url, json={"client_id": globex}, headers=admin_headers)
    assert moved.status_code == 409 and "client_id" in _errors(moved)
    currency = api.patch(url, json={"currency": "EUR"}, headers=admin_headers)
    assert currency.status_code == 409 and "currency" in _errors(currency)
    assert api.delete(url, headers=admin_headers).status_code == 409
    stale = api.patch(url, json={"reference": "x"}, headers={**admin_headers, "If-Match": '"1"'})
    assert stale.status_code == 409 and "version" in _errors(stale)
    ok = api.patch(
        url,
        json={"amount": "100.00", "reference": "CHQ-0042b"},
        headers={**admin_headers, "If-Match": f'"{current["version"]}"'},
    )
    assert ok.status_code == 200 and ok.json()["unallocated"] == "0.00"
    assert refs(unallocated="false") == ["CHQ-0042b"]

    assert api.delete(f"{url}/allocations/{allocation['id']}", headers=admin_headers).status_code == 204
    assert api.delete(url, headers=admin_headers).status_code == 204
    assert api.get(url, headers=admin_headers).status_code == 404
    assert _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")["status"] == "sent"


# --- cross-cutting: tenancy, roles, audit, outbox, external refs ----------------------------------------


def test_another_firm_gets_404_for_every_billing_item(api, admin_headers, other_firm):
    client_id = _client(api, admin_headers)
    engagement = _post(
        api,
        admin_headers,
        "/api/v1/engagements",
        {"client_id": client_id, "title": "E", "pricing_mode": "fixed", "fixed_fee": "1"},
    )
    invoice = _invoice(api, admin_headers, client_id)
    _send(api, admin_headers, invoice["id"])
    payment = _payment(api, admin_headers, client_id)
    allocation = _allocate(api, admin_headers, payment["id"], invoice["id"], "1.00")
    intruder = login(api, other_firm)
    e, i, p, a = engagement["id"], invoice["id"], payment["id"], allocation["id"]
    for method, path, body in [
        ("GET", f"/api/v1/engagements/{e}", None),
        ("PATCH", f"/api/v1/engagements/{e}", {"title": "pwned"}),
        ("DELETE", f"/api/v1/engagements/{e}", None),
        ("GET", f"/api/v1/invoices/{i}", None),
        ("PATCH", f"/api/v1/invoices/{i}", {"notes": "pwned"}),
        ("DELETE", f"/api/v1/invoices/{i}", None),
        ("POST", f"/api/v1/invoices/{i}/send", None),
        ("POST", f"/api/v1/invoices/{i}/void", None),
        ("GET", f"/api/v1/invoices/{i}/allocations", None),
        ("GET", f"/api/v1/payments/{p}", None),
        ("PATCH", f"/api/v1/payments/{p}", {"reference": "pwned"}),
        ("DELETE", f"/api/v1/payments/{p}", None),
        ("GET", f"/api/v1/payments/{p}/allocations", None),
        ("POST", f"/api/v1/payments/{p}/allocations", {"invoice_id": i, "amount": "1"}),
        ("GET", f"/api/v1/payments/{p}/allocations/{a}", None),
        ("DELETE", f"/api/v1/payments/{p}/allocations/{a}", None),
    ]:
        response = api.request(method, path, json=body, headers=intruder)
        assert response.status_code == 404, (method, path, response.status_code)
    for path in ("/api/v1/engagements", "/api/v1/invoices", "/api/v1/payments"):
        assert _get(api, intruder, path)["total"] == 0
    # The intruder's own payment cannot be pointed at the first firm's invoice either.
    theirs = _payment(api, intruder, _client(api, intruder))
    response = api.post(
        f"/api/v1/payments/{theirs['id']}/allocations",
        json={"invoice_id": i, "amount": "1"},
        headers=intruder,
    )
    assert response.status_code == 422 and "invoice_id" in _errors(response)
    assert _get(api, admin_headers, f"/api/v1/invoices/{i}")["version"] == 3  # created, sent, allocated


# (role, may write engagements, may write invoices/payments) — as core_api/permissions.py grants them.
ROLE_CASES = [
    (Role.partner, True, True),
    (Role.manager, True, False),
    (Role.staff, False, False),
    (Role.billing, False, True),
    (Role.readonly, False, False),
]


def test_roles_read_everything_and_write_what_the_matrix_grants(api, app_connection):
    failures = []
    for role, engagements_write, invoices_write in ROLE_CASES:
        user = create_firm_user(app_connection, role=role)
        headers = login(api, user)
        client_id = uuid.uuid4()
        set_firm(app_connection, user.firm_id)
        app_connection.execute(
            text("insert into app.clients (id, firm_id, name) values (:id, :f, 'Acme')"),
            {"id": client_id, "f": user.firm_id},
        )
        set_firm(app_connection, None)
        engagement = {"client_id": str(client_id), "title": "E", "pricing_mode": "fixed", "fixed_fee": "1"}
        payment = {"client_id": str(client_id), "amount": "1"}
        for path, body, allowed in [
            ("/api/v1/engagements", engagement, engagements_write),
            ("/api/v1/invoices", {"client_id": str(client_id)}, invoices_write),
            ("/api/v1/payments", payment, invoices_write),
        ]:
            status = api.post(path, json=body, headers=headers).status_code
            if status != (201 if allowed else 403) or api.get(path, headers=headers).status_code != 200:
                failures.append((role.value, path, status))
    assert failures == []


def test_writes_are_audited_and_invoices_and_payments_reach_the_outbox(
    api, admin_headers, app_connection, firm_admin
):
    client_id = _client(api, admin_headers)
    engagement = _post(
        api,
        admin_headers,
        "/api/v1/engagements",
        {"client_id": client_id, "title": "E", "pricing_mode": "fixed", "fixed_fee": "1"},
    )
    invoice = _invoice(api, admin_headers, client_id)
    _send(api, admin_headers, invoice["id"])
    payment = _payment(api, admin_headers, client_id)
    allocation = _allocate(api, admin_headers, payment["id"], invoice["id"], "100.00")

    set_firm(app_connection, firm_admin.firm_id)
    audit = app_connection.execute(
        text(
            "select entity, entity_id, action, actor_user_id from app.audit_log"
            " where firm_id = :f order by id"
        ),
        {"f": firm_admin.firm_id},
    ).all()
    outbox = app_connection.execute(
        text(
            "select entity, entity_id::text, operation, payload from app.outbox"
            " where firm_id = :f order by seq"
        ),
        {"f": firm_admin.firm_id},
    ).all()
    set_firm(app_connection, None)
    audited = {(row.entity, row.entity_id, row.action) for row in audit}
    assert {
        ("engagement", engagement["id"], "create"),
        ("invoice", invoice["id"], "create"),
        ("invoice", invoice["id"], "update"),
        ("payment", payment["id"], "create"),
        ("payment", payment["id"], "update"),
        ("payment_allocation", allocation["id"], "create"),
    } <= audited
    assert any(row.entity == "invoice_line" and row.action == "create" for row in audit)
    assert {row.actor_user_id for row in audit} == {firm_admin.user_id}
    pushed = [(row.entity, row.entity_id, row.operation) for row in outbox if row.entity != "client"]
    assert pushed[:3] == [
        ("invoice", invoice["id"], "created"),
        ("invoice", invoice["id"], "updated"),  # sent
        ("payment", payment["id"], "created"),
    ]
    # The allocation updates both sides in one flush.
    assert sorted(pushed[3:]) == [
        ("invoice", invoice["id"], "updated"),
        ("payment", payment["id"], "updated"),
    ]
    paid = next(row.payload for row in outbox[::-1] if row.entity == "invoice")
    assert paid["status"] == "paid" and paid["amount_paid"] == "100.00"


def test_invoices_and_payments_show_their_external_refs(api, admin_headers, app_connection, firm_admin):
    client_id = _client(api, admin_headers)
    invoice = _invoice(api, admin_headers, client_id)
    payment = _payment(api, admin_headers, client_id)
    connection_id = uuid.uuid4()
    set_firm(app_connection, firm_admin.firm_id)
    app_connection.execute(
        text(
            "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
            "values (:id, :f, 'quickbooks', 'realm-1', 'QBO', '{}'::jsonb)"
        ),
        {"id": connection_id, "f": firm_admin.firm_id},
    )
    for entity, entity_id, external_id in [
        ("invoice", invoice["id"], "qbo-inv-9"),
        ("payment", payment["id"], "qbo-pay-3"),
    ]:
        app_connection.execute(
            text(
                "insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, "
                "external_id) values (gen_random_uuid(), :f, :e, :i, 'quickbooks', :c, :x)"
            ),
            {"f": firm_admin.firm_id, "e": entity, "i": entity_id, "c": connection_id, "x": external_id},
        )
    set_firm(app_connection, None)
    expected = {"provider": "quickbooks", "connection_id": str(connection_id)}
    fetched = _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")
    assert fetched["external_refs"] == [{**expected, "external_id": "qbo-inv-9"}]
    listed = _get(api, admin_headers, "/api/v1/payments")["items"][0]
    assert listed["external_refs"] == [{**expected, "external_id": "qbo-pay-3"}]
