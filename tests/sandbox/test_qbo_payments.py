"""Payments applied to invoices and credit memos: balances, LinkedTxn and SyncToken of what they touch,
the business-validation faults, and void / delete giving the money back."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import QboRealm


@pytest.fixture
def books(new_realm: Callable[..., QboRealm]) -> QboRealm:
    return new_realm(customers=6, seed=5)


def _customer(realm: QboRealm, n: int = 0) -> str:
    return realm.rows("SELECT * FROM Customer")[n]["Id"]


def _invoice(realm: QboRealm, amount: float, customer: str) -> dict[str, Any]:
    item = realm.objects("SELECT * FROM Item WHERE Name = 'Bookkeeping'")[0]["Id"]
    body = {
        "CustomerRef": {"value": customer},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item}},
            }
        ],
    }
    return _ok(realm.post("invoice", body), "Invoice")


def _credit_memo(realm: QboRealm, amount: float, customer: str) -> dict[str, Any]:
    item = realm.objects("SELECT * FROM Item WHERE Name = 'Advisory hours'")[0]["Id"]
    body = {
        "CustomerRef": {"value": customer},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item}},
            }
        ],
    }
    return _ok(realm.post("creditmemo", body), "CreditMemo")


def _applied(amount: float, txn_id: str, txn_type: str = "Invoice") -> dict[str, Any]:
    return {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}


def _payment(customer: str, total: float, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"CustomerRef": {"value": customer}, "TotalAmt": total, "Line": list(lines)}


def _ok(response, entity: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()[entity]


def _read(realm: QboRealm, resource: str, entity_id: str) -> dict[str, Any]:
    return _ok(
        realm.get(resource, entity_id),
        {"invoice": "Invoice", "payment": "Payment", "creditmemo": "CreditMemo"}[resource],
    )


def _fault(response) -> tuple[str, str]:
    assert response.status_code == 400, response.text
    error = response.json()["Fault"]["Error"][0]
    return error["code"], error["Detail"]


def test_payments_lower_invoice_balances_and_link_back(books: QboRealm) -> None:
    who = _customer(books)
    first, second = _invoice(books, 1000, who), _invoice(books, 500, who)
    payment = _ok(
        books.post("payment", _payment(who, 1200, _applied(1000, first["Id"]), _applied(200, second["Id"]))),
        "Payment",
    )
    assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (1200, 0)
    assert payment["DepositToAccountRef"]["name"] == "Undeposited Funds"
    paid, partly = _read(books, "invoice", first["Id"]), _read(books, "invoice", second["Id"])
    assert (paid["Balance"], paid["SyncToken"]) == (0, "1")
    assert (partly["Balance"], partly["SyncToken"]) == (300, "1")
    assert paid["LinkedTxn"] == partly["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert paid["MetaData"]["LastUpdatedTime"] >= payment["MetaData"]["CreateTime"]
    # The app's copy of the invoice from before the payment is stale now.
    assert _fault(books.post("invoice", {**second, "PrivateNote": "stale"}))[0] == "5010"

    rest = _ok(books.post("payment", _payment(who, 350, _applied(300, second["Id"]))), "Payment")
    assert rest["UnappliedAmt"] == 50  # left over as a credit
    closed = _read(books, "invoice", second["Id"])
    assert closed["Balance"] == 0
    assert [link["TxnId"] for link in closed["LinkedTxn"]] == [payment["Id"], rest["Id"]]
    open_ids = {i["Id"] for i in books.objects("SELECT * FROM Invoice WHERE Balance > '0'")}
    assert not open_ids & {first["Id"], second["Id"]}


def test_voiding_or_deleting_a_payment_gives_the_balance_back(books: QboRealm) -> None:
    who = _customer(books)
    invoice = _invoice(books, 800, who)
    payment = _ok(books.post("payment", _payment(who, 800, _applied(800, invoice["Id"]))), "Payment")
    voided = _ok(
        books.post(
            "payment",
            {"Id": payment["Id"], "SyncToken": "0", "sparse": True},
            operation="update",
            include="void",
        ),
        "Payment",
    )
    assert (voided["TotalAmt"], voided["UnappliedAmt"], voided["Line"], voided["PrivateNote"]) == (
        0,
        0,
        [],
        "Voided",
    )
    restored = _read(books, "invoice", invoice["Id"])
    assert (restored["Balance"], restored["LinkedTxn"], restored["SyncToken"]) == (800, [], "2")

    again = _ok(books.post("payment", _payment(who, 300, _applied(300, invoice["Id"]))), "Payment")
    assert _read(books, "invoice", invoice["Id"])["Balance"] == 500
    deleted = books.post("payment", {"Id": again["Id"], "SyncToken": "0"}, operation="delete")
    assert deleted.json()["Payment"] == {"status": "Deleted", "domain": "QBO", "Id": again["Id"]}
    assert _read(books, "invoice", invoice["Id"])["Balance"] == 800


def test_changing_a_payments_lines_moves_its_application(books: QboRealm) -> None:
    who = _customer(books)
    first, second = _invoice(books, 400, who), _invoice(books, 600, who)
    payment = _ok(books.post("payment", _payment(who, 400, _applied(400, first["Id"]))), "Payment")
    moved = _ok(
        books.post(
            "payment",
            {"Id": payment["Id"], "SyncToken": "0", "sparse": True, "Line": [_applied(400, second["Id"])]},
        ),
        "Payment",
    )
    assert moved["SyncToken"] == "1"
    assert _read(books, "invoice", first["Id"])["Balance"] == 400
    assert _read(books, "invoice", second["Id"])["Balance"] == 200
    # Re-saving the same application is allowed: its own amount counts as available.
    same = books.post("payment", {**moved, "PrivateNote": "re-saved"})
    assert same.status_code == 200 and _read(books, "invoice", second["Id"])["Balance"] == 200


def test_voiding_or_deleting_an_invoice_unapplies_its_payments(books: QboRealm) -> None:
    who = _customer(books)
    invoice, other = _invoice(books, 500, who), _invoice(books, 300, who)
    payment = _ok(
        books.post("payment", _payment(who, 800, _applied(500, invoice["Id"]), _applied(300, other["Id"]))),
        "Payment",
    )
    current = _read(books, "invoice", invoice["Id"])
    voided = _ok(
        books.post("invoice", {"Id": invoice["Id"], "SyncToken": current["SyncToken"]}, operation="void"),
        "Invoice",
    )
    assert (voided["Balance"], voided["LinkedTxn"]) == (0, [])
    after_void = _read(books, "payment", payment["Id"])
    assert (after_void["SyncToken"], after_void["UnappliedAmt"]) == ("1", 500)
    assert [line["LinkedTxn"][0]["TxnId"] for line in after_void["Line"]] == [other["Id"]]

    current = _read(books, "invoice", other["Id"])
    books.post("invoice", {"Id": other["Id"], "SyncToken": current["SyncToken"]}, operation="delete")
    after_delete = _read(books, "payment", payment["Id"])
    assert (after_delete["UnappliedAmt"], after_delete["Line"]) == (800, [])


def test_a_credit_memo_is_applied_through_a_zero_payment(books: QboRealm) -> None:
    who = _customer(books)
    invoice, credit = _invoice(books, 900, who), _credit_memo(books, 150, who)
    assert (credit["TotalAmt"], credit["Balance"], credit["RemainingCredit"]) == (150, 150, 150)
    assert credit["DocNumber"] == str(int(invoice["DocNumber"]) + 1)  # sales forms share the numbering
    applied = _ok(
        books.post(
            "payment",
            _payment(who, 0, _applied(150, invoice["Id"]), _applied(150, credit["Id"], "CreditMemo")),
        ),
        "Payment",
    )
    assert applied["UnappliedAmt"] == 0
    assert _read(books, "invoice", invoice["Id"])["Balance"] == 750
    used = _read(books, "creditmemo", credit["Id"])
    assert (used["Balance"], used["RemainingCredit"], used["SyncToken"]) == (0, 0, "1")
    overdrawn = _payment(who, 0, _applied(10, invoice["Id"]), _applied(10, credit["Id"], "CreditMemo"))
    assert _fault(books.post("payment", overdrawn))[0] == "6000"


def test_an_invoice_cannot_drop_below_what_was_paid(books: QboRealm) -> None:
    who = _customer(books)
    invoice = _invoice(books, 1000, who)
    books.post("payment", _payment(who, 600, _applied(600, invoice["Id"])))
    current = _read(books, "invoice", invoice["Id"])
    smaller = {**current["Line"][0], "Amount": 400}
    code, detail = _fault(books.post("invoice", {**current, "Line": [smaller]}))
    assert code == "6000" and detail.startswith("Business Validation Error: The Invoice total (400.00)")
    bigger = _ok(
        books.post("invoice", {**current, "Line": [{**current["Line"][0], "Amount": 1500}]}), "Invoice"
    )
    assert (bigger["TotalAmt"], bigger["Balance"]) == (1500, 900)


@pytest.mark.parametrize(
    ("make", "code", "detail"),
    [
        (
            lambda who, inv, other: {"CustomerRef": {"value": who}},
            "6000",
            "Business Validation Error: You must set a transaction amount.",
        ),
        (
            lambda who, inv, other: _payment(who, 2000, _applied(2000, inv)),
            "6000",
            "is more than its open balance (1000.00)",
        ),
        (
            lambda who, inv, other: _payment(who, 100, _applied(200, inv)),
            "6000",
            "more than the payment amount",
        ),
        (
            lambda who, inv, other: _payment(who, 100, _applied(100, other)),
            "6000",
            "belongs to another customer",
        ),
        (
            lambda who, inv, other: _payment(who, 100, _applied(100, "987654")),
            "2500",
            "Invalid Reference Id : Line.LinkedTxn.TxnId",
        ),
        (lambda who, inv, other: _payment(who, 100, _applied(100, inv, "Bill")), "6000", "not to Bill"),
        (lambda who, inv, other: _payment(who, -5), "6000", "cannot be negative"),
        (lambda who, inv, other: _payment("98765", 10), "2500", "Invalid Reference Id : CustomerRef"),
        (lambda who, inv, other: {**_payment(who, 10), "Line": [{"Amount": 10}]}, "2020", "Line.LinkedTxn"),
    ],
)
def test_bad_payments_are_faults(books: QboRealm, make, code: str, detail: str) -> None:
    who, someone_else = _customer(books, 0), _customer(books, 1)
    invoice, theirs = _invoice(books, 1000, who), _invoice(books, 100, someone_else)
    got_code, got_detail = _fault(books.post("payment", make(who, invoice["Id"], theirs["Id"])))
    assert got_code == code and detail in got_detail
    assert _read(books, "invoice", invoice["Id"])["Balance"] == 1000
    assert books.query("SELECT COUNT(*) FROM Payment").json()["QueryResponse"] == {"totalCount": 0}


def test_a_deleted_invoice_cannot_be_paid(books: QboRealm) -> None:
    who = _customer(books)
    invoice = _invoice(books, 100, who)
    books.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete")
    assert _fault(books.post("payment", _payment(who, 100, _applied(100, invoice["Id"])))) == (
        "610",
        "Object Not Found : Another user has deleted this transaction.",
    )
