"""The Stripe emulator's list and retrieve endpoints against Stripe's published pagination rules
(docs.stripe.com/api/pagination, docs.stripe.com/api/customers/list, /api/events/list)."""

from __future__ import annotations

from tests.sandbox.stripe_fixtures import StripeAccount

DAY = 86_400


def _keys(rows: list[dict]) -> list[int]:
    return [row["created"] for row in rows]


def test_a_list_is_a_list_object_newest_first(stripe_account: StripeAccount) -> None:
    page = stripe_account.ok("customers", {"limit": 5})
    assert set(page) == {"object", "data", "has_more", "url"}
    assert (page["object"], page["url"], page["has_more"], len(page["data"])) == (
        "list",
        "/v1/customers",
        True,
        5,
    )
    assert all(c["object"] == "customer" and c["id"].startswith("cus_") for c in page["data"])
    assert _keys(page["data"]) == sorted(_keys(page["data"]), reverse=True)
    assert (
        stripe_account.ok("customers")["data"] == stripe_account.ok("customers", {"limit": 10})["data"]
    )  # default 10


def test_starting_after_walks_every_object_once_in_order(stripe_account: StripeAccount) -> None:
    rows = stripe_account.walk("customers", limit=7)
    assert len(rows) == len({r["id"] for r in rows}) == stripe_account.created["counts"]["customers"] == 30
    assert _keys(rows) == sorted(_keys(rows), reverse=True)
    charges = stripe_account.walk("charges", limit=9)
    assert len(charges) == 40 and all(c["status"] == "succeeded" for c in charges)


def test_ending_before_answers_the_newer_neighbours(stripe_account: StripeAccount) -> None:
    everything = stripe_account.walk("customers")
    anchor = everything[10]
    page = stripe_account.ok("customers", {"limit": 3, "ending_before": anchor["id"]})
    assert [c["id"] for c in page["data"]] == [c["id"] for c in everything[7:10]]
    assert page["has_more"] is True
    first = stripe_account.ok("customers", {"limit": 3, "ending_before": everything[2]["id"]})
    assert [c["id"] for c in first["data"]] == [c["id"] for c in everything[0:2]] and first[
        "has_more"
    ] is False


def test_created_filters_bound_the_list(stripe_account: StripeAccount) -> None:
    everything = stripe_account.walk("charges")
    t = everything[20]["created"]
    for operator, keep in (
        ("gt", lambda c: c > t),
        ("gte", lambda c: c >= t),
        ("lt", lambda c: c < t),
        ("lte", lambda c: c <= t),
    ):
        found = stripe_account.walk("charges", **{f"created[{operator}]": t})
        assert [c["id"] for c in found] == [c["id"] for c in everything if keep(c["created"])], operator
    assert {c["id"] for c in stripe_account.walk("charges", created=t)} == {
        c["id"] for c in everything if c["created"] == t
    }
    window = stripe_account.walk("charges", **{"created[gte]": t, "created[lt]": t + DAY})
    assert window and all(t <= c["created"] < t + DAY for c in window)


def test_bad_list_parameters_answer_stripe_errors(stripe_account: StripeAccount) -> None:
    for limit in (0, 101, "ten"):
        response = stripe_account.get("customers", {"limit": limit})
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["type"], error["param"]) == ("invalid_request_error", "limit")
    missing = stripe_account.get("customers", {"starting_after": "cus_doesnotexist"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    assert missing.json()["error"]["message"] == "No such customer: 'cus_doesnotexist'"
    both = stripe_account.get("customers", {"starting_after": "a", "ending_before": "b"})
    assert both.status_code == 400 and "only specify one" in both.json()["error"]["message"]
    unknown = stripe_account.get("customers", {"created_after": 5})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "created_after"
    assert stripe_account.get("customers", {"expand[]": "data.default_source"}).status_code == 400
    assert stripe_account.get("invoices").status_code == 404  # not emulated: Stripe's unrecognised-URL answer


def test_retrieve_and_relation_filters(stripe_account: StripeAccount) -> None:
    refund = stripe_account.walk("refunds")[0]
    charge = stripe_account.ok(f"charges/{refund['charge']}")
    assert (
        charge["amount_refunded"] >= refund["amount"] and charge["payment_intent"] == refund["payment_intent"]
    )
    intent = stripe_account.ok(f"payment_intents/{charge['payment_intent']}")
    assert (intent["status"], intent["latest_charge"], intent["amount_received"]) == (
        "succeeded",
        charge["id"],
        charge["amount"],
    )
    assert [r["id"] for r in stripe_account.walk("refunds", charge=charge["id"])] == [
        r["id"] for r in stripe_account.walk("refunds") if r["charge"] == charge["id"]
    ]
    by_customer = stripe_account.walk("charges", customer=charge["customer"])
    assert charge["id"] in {c["id"] for c in by_customer} and {c["customer"] for c in by_customer} == {
        charge["customer"]
    }
    missing = stripe_account.get("charges/ch_nope")
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "No such charge: 'ch_nope'")
    assert stripe_account.get(f"refunds/{refund['id']}").json() == refund


def test_deleting_a_customer_answers_the_stub_and_records_an_event(stripe_account: StripeAccount) -> None:
    victim = stripe_account.walk("customers")[3]
    response = stripe_account.client.delete(
        f"/stripe/v1/customers/{victim['id']}", headers=stripe_account.headers
    )
    assert response.status_code == 200
    assert response.json() == {"id": victim["id"], "object": "customer", "deleted": True}
    assert victim["id"] not in {c["id"] for c in stripe_account.walk("customers")}
    assert stripe_account.ok(f"customers/{victim['id']}") == {
        "id": victim["id"],
        "object": "customer",
        "deleted": True,
    }
    again = stripe_account.client.delete(
        f"/stripe/v1/customers/{victim['id']}", headers=stripe_account.headers
    )
    assert again.status_code == 404
    [event] = stripe_account.ok("events", {"type": "customer.deleted"})["data"]
    assert (
        event["data"]["object"]["id"] == victim["id"] and event["data"]["object"]["email"] == victim["email"]
    )


def test_events_filter_by_type_and_go_back_thirty_days(new_stripe_account, clock) -> None:
    stripe_account = new_stripe_account(customers=20, payments=30, spread_days=60)
    now = int(clock.now())
    events = stripe_account.walk("events")
    assert events and _keys(events) == sorted(_keys(events), reverse=True)
    assert min(_keys(events)) >= now - 30 * DAY  # older history exists but is not listed
    assert any(
        e["created"] < now - 30 * DAY
        for e in stripe_account.client.app.state.stripe.accounts[stripe_account.account_id]
        .table("events")
        .rows.values()
    )
    # The SDKs send array parameters indexed: types[0]=…&types[1]=…
    both = stripe_account.walk("events", **{"types[0]": "charge.refunded", "types[1]": "customer.created"})
    assert both and {e["type"] for e in both} <= {"charge.refunded", "customer.created"}
    wildcard = stripe_account.walk("events", type="payment_intent.*")
    assert {e["type"] for e in wildcard} == {"payment_intent.created", "payment_intent.succeeded"}
    oldest = events[-1]
    assert stripe_account.get(f"events/{oldest['id']}").status_code == 200
    clock.advance(31 * DAY)
    assert stripe_account.get(f"events/{oldest['id']}").status_code == 404
    assert oldest["id"] not in {e["id"] for e in stripe_account.walk("events")}
