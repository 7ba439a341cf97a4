"""python-quickbooks against the sandbox as a real server: the accounting objects the connector syncs
(Invoice, Payment, CreditMemo, Item, Account) and CDC, through the SDK's own classes and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects.account import Account
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine

from tests.support.processes import SandboxServer

pytestmark = pytest.mark.timeout(60)


class BearerSession(requests.Session):
    """What python-quickbooks needs of its session: ``request`` and an ``access_token``."""

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self.access_token = access_token


@dataclass
class Books:
    qb: QuickBooks
    admin: str  # this company's admin URL

    def act(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.admin}{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def books(sandbox_server: SandboxServer) -> Iterator[Books]:
    grant = httpx.post(
        f"{sandbox_server.quickbooks}/_sandbox/realms",
        json={"customers": 12, "invoices": 20, "seed": 3},
        timeout=30,
    ).json()
    qb = QuickBooks(company_id=grant["realm_id"], minorversion=75)
    qb.session = BearerSession(grant["access_token"])
    qb.api_url_v3 = f"{sandbox_server.quickbooks}/v3"
    yield Books(qb, f"{sandbox_server.quickbooks}/_sandbox/realms/{grant['realm_id']}")
    httpx.delete(f"{sandbox_server.quickbooks}/_sandbox/realms/{grant['realm_id']}", timeout=10)


def _ref(value: str) -> Ref:
    ref = Ref()
    ref.value = value
    return ref


def _service_line(item: Item, qty: float, price: float) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = round(qty * price, 2)
    line.Description = f"{qty} x {item.Name}"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = price
    return line


def test_catalog_through_the_sdk(books: Books) -> None:
    qb = books.qb
    items = Item.all(qb=qb)  # the SDK asks "SELECT *, Sku FROM Item"
    names = {item.Name for item in items}
    assert {"Tax preparation", "Advisory hours", "Bookkeeping"} <= names
    advisory = Item.filter(Name="Advisory hours", qb=qb)[0]
    assert (advisory.Type, advisory.IncomeAccountRef.name) == ("Service", "Advisory Income")

    income = Account.filter(AccountType="Income", qb=qb)
    assert {account.Classification for account in income} == {"Revenue"}
    account = Account()
    account.Name, account.AccountType, account.AcctNum = "Audit Income", "Income", "4500"
    account = account.save(qb=qb)
    assert (account.SyncToken, account.AccountSubType, account.FullyQualifiedName) == (
        "0",
        "ServiceFeeIncome",
        "Audit Income",
    )

    item = Item()
    item.Name, item.Type, item.UnitPrice = "Audit support", "Service", 210
    item.IncomeAccountRef = account.to_ref()
    item = item.save(qb=qb)
    fetched = Item.get(item.Id, qb=qb)
    fetched.Description = "Audit preparation and PBC lists"
    assert fetched.save(qb=qb).SyncToken == "1"  # a full update of what the SDK read back
    assert Item.count("Type = 'Service'", qb=qb) == len([i for i in Item.all(qb=qb) if i.Type == "Service"])


def test_invoice_lifecycle_through_the_sdk(books: Books) -> None:
    qb = books.qb
    customer = Customer.all(qb=qb, max_results=1)[0]
    tax_prep = Item.filter(Name="Tax preparation", qb=qb)[0]
    advisory = Item.filter(Name="Advisory hours", qb=qb)[0]

    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [_service_line(tax_prep, 1, 650), _service_line(advisory, 2.5, 175)]
    invoice.PrivateNote = "Engagement 2026-T-14"
    invoice = invoice.save(qb=qb)
    assert (invoice.TotalAmt, invoice.Balance, invoice.SyncToken) == (1087.5, 1087.5, "0")
    assert invoice.DocNumber and invoice.DueDate > invoice.TxnDate
    assert [line.DetailType for line in invoice.Line] == ["SalesItemLineDetail"] * 2 + ["SubTotalLineDetail"]

    found = Invoice.filter(DocNumber=invoice.DocNumber, qb=qb)
    assert [i.Id for i in found] == [invoice.Id]
    mine = Invoice.query(f"SELECT * FROM Invoice WHERE CustomerRef = '{customer.Id}' ORDERBY Id", qb=qb)
    assert invoice.Id in [i.Id for i in mine]

    # The SDK's save() is a full update of everything it read, subtotal line included.
    fetched = Invoice.get(invoice.Id, qb=qb)
    fetched.EmailStatus = "NeedToSend"
    updated = fetched.save(qb=qb)
    assert (updated.SyncToken, updated.EmailStatus, updated.TotalAmt) == ("1", "NeedToSend", 1087.5)
    assert [line.Id for line in updated.Line if line.DetailType == "SalesItemLineDetail"] == ["1", "2"]

    fetched.PrivateNote = "edited from a stale copy"
    with pytest.raises(QuickbooksException) as stale:
        fetched.save(qb=qb)
    assert stale.value.error_code == 5010

    voided = updated.void(qb=qb)["Invoice"]
    assert (voided["TotalAmt"], voided["Balance"], voided["PrivateNote"]) == (0, 0, "Voided")

    other = Invoice()
    other.CustomerRef = customer.to_ref()
    other.Line = [_service_line(advisory, 1, 175)]
    other = other.save(qb=qb)
    assert other.delete(qb=qb)["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": other.Id}
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(other.Id, qb=qb)


def test_payments_and_credit_memos_through_the_sdk(books: Books) -> None:
    qb = books.qb
    customer = Customer.all(qb=qb, max_results=1)[0]
    bookkeeping = Item.filter(Name="Bookkeeping", qb=qb)[0]
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [_service_line(bookkeeping, 3, 350)]
    invoice = invoice.save(qb=qb)

    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = 600
    line = PaymentLine()
    line.Amount = 600
    line.LinkedTxn = [invoice.to_linked_txn()]  # carries TxnLineId 1, as the SDK builds it
    payment.Line = [line]
    payment = payment.save(qb=qb)
    assert (payment.UnappliedAmt, payment.Line[0].LinkedTxn[0].TxnId) == (0, invoice.Id)
    reread = Invoice.get(invoice.Id, qb=qb)
    assert (reread.Balance, reread.SyncToken) == (450, "1")
    assert [(link.TxnId, link.TxnType) for link in reread.LinkedTxn] == [(payment.Id, "Payment")]

    credit = CreditMemo()
    credit.CustomerRef = customer.to_ref()
    credit.Line = [_service_line(bookkeeping, 1, 100)]
    credit = credit.save(qb=qb)
    assert (credit.TotalAmt, credit.RemainingCredit, credit.Balance) == (100, 100, 100)
    assert CreditMemo.filter(CustomerRef=customer.Id, qb=qb)[-1].Id == credit.Id

    applied = Payment()
    applied.CustomerRef = customer.to_ref()
    applied.TotalAmt = 0
    to_invoice, from_credit = PaymentLine(), PaymentLine()
    to_invoice.Amount, from_credit.Amount = 100, 100
    to_invoice.LinkedTxn = [invoice.to_linked_txn()]
    credit_link = LinkedTxn()
    credit_link.TxnId, credit_link.TxnType = credit.Id, "CreditMemo"
    from_credit.LinkedTxn = [credit_link]
    applied.Line = [to_invoice, from_credit]
    applied.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 350
    assert CreditMemo.get(credit.Id, qb=qb).RemainingCredit == 0

    payment.void(qb=qb)  # operation=update&include=void, as the SDK sends it
    assert Invoice.get(invoice.Id, qb=qb).Balance == 950

    too_much = Payment()
    too_much.CustomerRef = customer.to_ref()
    too_much.TotalAmt = 5000
    over = PaymentLine()
    over.Amount = 5000
    over.LinkedTxn = [invoice.to_linked_txn()]
    too_much.Line = [over]
    with pytest.raises(QuickbooksException) as refused:
        too_much.save(qb=qb)
    assert refused.value.error_code == 6000


def test_bad_references_raise_the_sdk_exceptions(books: Books) -> None:
    qb = books.qb
    invoice = Invoice()
    invoice.CustomerRef = _ref("999999")
    with pytest.raises(ValidationException) as missing_line:  # 2020: no Line
        invoice.save(qb=qb)
    assert missing_line.value.error_code == 2020
    invoice.Line = [_service_line(Item.all(qb=qb)[0], 1, 10)]
    with pytest.raises(ValidationException) as unknown_customer:
        invoice.save(qb=qb)
    assert (unknown_customer.value.error_code, unknown_customer.value.detail) == (
        2500,
        "Invalid Reference Id : CustomerRef",
    )


def test_cdc_through_the_sdk(books: Books) -> None:
    qb = books.qb
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    customer = Customer.all(qb=qb, max_results=1)[0]
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [_service_line(Item.filter(Name="Hours", qb=qb)[0], 4, 120)]
    invoice = invoice.save(qb=qb)
    doomed = next(i for i in Invoice.all(qb=qb) if i.Id != invoice.Id)
    books.act("POST", f"/entities/Invoice/{doomed.Id}/delete", json={})
    touched = books.act("POST", "/entities/Item/touch", json={"count": 1})["touched"]

    changes = change_data_capture([Invoice, Payment, Item, Account], since, qb=qb)
    invoices = {i.Id: i for i in changes.Invoice}
    assert invoice.Id in invoices
    assert invoices[doomed.Id].status == "Deleted"
    assert [i.Id for i in changes.Item] == touched
    assert not hasattr(changes, "Account")  # nothing changed: an empty QueryResponse
