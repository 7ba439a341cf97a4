"""Writing through the Accounting API over real HTTP: contacts and invoices created and updated with
UpdatedDateUTC moving, voiding, payments, Xero's validation errors, summarizeErrors, idempotency."""

import re
from decimal import Decimal

from tests.sandbox.xero_fixtures import XeroOrg

MS_DATE = re.compile(r"^/Date\((\d+)\+0000\)/$")


def _stamp(row: dict) -> int:
    return int(MS_DATE.match(row["UpdatedDateUTC"]).group(1))


def _contact(org: XeroOrg, **fields) -> dict:
    response = org.put("Contacts", {"Contacts": [{"Name": "Harbor Light Dental", **fields}]})
    assert response.status_code == 200, response.text
    return response.json()["Contacts"][0]


def _invoice(org: XeroOrg, contact_id: str, **fields) -> dict:
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-02",
        "DueDate": "2026-12-02",
        "LineItems": [
            {
                "Description": "Monthly bookkeeping",
                "Quantity": 2,
                "UnitAmount": 450,
                "AccountCode": "210",
                "TaxType": "NONE",
            },
            {"ItemCode": "ADVISORY", "Quantity": 3},
        ],
        "Status": "AUTHORISED",
        **fields,
    }
    response = org.put("Invoices", {"Invoices": [body]})
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]


def _validation_messages(response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["ErrorNumber"] == 10 and body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    return [e["Message"] for element in body["Elements"] for e in element["ValidationErrors"]]


def test_contact_create_update_and_archive(xero_org: XeroOrg) -> None:
    created = _contact(
        xero_org,
        EmailAddress="ap@harborlight.example",
        Phones=[{"PhoneType": "MOBILE", "PhoneNumber": "555-0100"}],
    )
    assert created["ContactStatus"] == "ACTIVE" and created["IsCustomer"] is False
    assert [a["AddressType"] for a in created["Addresses"]] == ["STREET", "POBOX"]
    assert [p["PhoneType"] for p in created["Phones"]] == ["DEFAULT", "DDI", "FAX", "MOBILE"]
    assert created["Phones"][3]["PhoneNumber"] == "555-0100"
    contact_id = created["ContactID"]
    updated = xero_org.post(f"Contacts/{contact_id}", {"Contacts": [{"FirstName": "Ana"}]}).json()[
        "Contacts"
    ][0]
    assert updated["FirstName"] == "Ana" and updated["EmailAddress"] == "ap@harborlight.example"  # merged
    assert _stamp(updated) > _stamp(created)
    assert xero_org.rows(f"Contacts/{contact_id}")[0] == updated
    # Names are unique among active contacts; archiving frees the name.
    clash = xero_org.put("Contacts", {"Contacts": [{"Name": "harbor light dental"}]})
    assert _validation_messages(clash) == [
        "The contact name harbor light dental is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]
    element = clash.json()["Elements"][0]
    assert element["Name"] == "harbor light dental" and element["HasValidationErrors"] is True
    archived = xero_org.post(
        "Contacts", {"Contacts": [{"ContactID": contact_id, "ContactStatus": "ARCHIVED"}]}
    )
    assert archived.json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert xero_org.put("Contacts", {"Contacts": [{"Name": "Harbor Light Dental"}]}).status_code == 200
    assert _validation_messages(
        xero_org.put("Contacts", {"Name": "Bad Mail", "EmailAddress": "not-an-email"})
    ) == ["Email address must be valid."]


def test_a_bad_element_fails_the_whole_request_unless_summarize_errors_is_false(xero_org: XeroOrg) -> None:
    before = len(xero_org.rows("Contacts", includeArchived="true"))
    batch = {"Contacts": [{"Name": "Valid Co"}, {"Name": ""}]}
    messages = _validation_messages(xero_org.put("Contacts", batch))
    assert messages == ["The contact name must be specified."]
    assert len(xero_org.rows("Contacts", includeArchived="true")) == before
    partial = xero_org.put("Contacts", batch, params={"summarizeErrors": "false"})
    assert partial.status_code == 200
    ok, failed = partial.json()["Contacts"]
    assert ok["StatusAttributeString"] == "OK" and ok["Name"] == "Valid Co"
    assert failed["StatusAttributeString"] == "ERROR"
    assert failed["ValidationErrors"] == [{"Message": "The contact name must be specified."}]
    assert len(xero_org.rows("Contacts", includeArchived="true")) == before + 1


def test_invoice_totals_numbering_update_and_void(xero_org: XeroOrg) -> None:
    contact = _contact(xero_org, Name="Pinecrest Yoga")
    invoice = _invoice(xero_org, contact["ContactID"], Reference="Nov")
    assert invoice["Status"] == "AUTHORISED" and re.fullmatch(r"INV-\d{4}", invoice["InvoiceNumber"])
    lines = invoice["LineItems"]
    assert [line["LineAmount"] for line in lines] == [900.0, 675.0]
    assert lines[1]["Description"] == "Advisory (per hour)" and lines[1]["AccountCode"] == "210"
    assert invoice["SubTotal"] == 1575.0 and invoice["TotalTax"] == 0.0 and invoice["Total"] == 1575.0
    assert invoice["AmountDue"] == 1575.0 and invoice["Contact"]["Name"] == "Pinecrest Yoga"
    assert (
        invoice["DateString"] == "2026-11-02T00:00:00" and invoice["DueDateString"] == "2026-12-02T00:00:00"
    )
    assert xero_org.rows(f"Contacts/{contact['ContactID']}")[0]["IsCustomer"] is True
    # Taxed lines: OUTPUT is 8.25% on top of the line amount.
    taxed = xero_org.post(
        f"Invoices/{invoice['InvoiceID']}",
        {
            "Invoices": [
                {
                    "LineItems": [
                        {
                            "LineItemID": lines[0]["LineItemID"],
                            "Description": "Bookkeeping",
                            "Quantity": 1,
                            "UnitAmount": 1000,
                            "AccountCode": "200",
                        }
                    ]
                }
            ]
        },
    ).json()["Invoices"][0]
    assert taxed["LineItems"][0]["LineItemID"] == lines[0]["LineItemID"] and len(taxed["LineItems"]) == 1
    assert (taxed["SubTotal"], taxed["TotalTax"], taxed["Total"]) == (1000.0, 82.5, 1082.5)
    assert _stamp(taxed) > _stamp(invoice) and taxed["InvoiceNumber"] == invoice["InvoiceNumber"]
    voided = xero_org.post(f"Invoices/{invoice['InvoiceID']}", {"Status": "VOIDED"}).json()["Invoices"][0]
    assert voided["Status"] == "VOIDED" and voided["AmountDue"] == 0.0 and _stamp(voided) > _stamp(taxed)
    again = xero_org.post(f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Reference": "late"}]})
    assert _validation_messages(again) == ["Invoice not of valid status for modification"]
    duplicate = xero_org.put(
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact["ContactID"]},
                    "InvoiceNumber": invoice["InvoiceNumber"],
                    "LineItems": [],
                }
            ]
        },
    )
    assert _validation_messages(duplicate) == ["Invoice # must be unique."]


def test_invoice_validation_messages(xero_org: XeroOrg) -> None:
    contact = _contact(xero_org, Name="Mesa Roofing")
    cases = {
        "Account code '999' is not a valid code for this document.": {
            "LineItems": [{"Description": "x", "UnitAmount": 1, "AccountCode": "999"}]
        },
        "The Description field is mandatory for each line item.": {"LineItems": [{"UnitAmount": 5}]},
        "Item code 'NOPE' is not valid": {"LineItems": [{"ItemCode": "NOPE"}]},
        "A Contact must be specified for this type of transaction": {"Contact": None},
    }
    for message, fields in cases.items():
        body = {"Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}, "LineItems": [], **fields}
        response = xero_org.put("Invoices", {"Invoices": [body]})
        assert _validation_messages(response) == [message]
        assert response.json()["Elements"][0]["HasErrors"] is True
    # A new contact named on an invoice is created with it (Xero does that too).
    created = _invoice(xero_org, contact["ContactID"], Contact={"Name": "Brand New Client LLC"})
    assert created["Contact"]["Name"] == "Brand New Client LLC"
    assert xero_org.rows("Contacts", where='Name=="Brand New Client LLC"')


def test_payments_pay_and_unpay_an_invoice(xero_org: XeroOrg) -> None:
    contact = _contact(xero_org, Name="Sunset Bakery")
    invoice = _invoice(xero_org, contact["ContactID"])
    invoice_id = invoice["InvoiceID"]
    payment = {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": "090"},
        "Date": "/Date(1796169600000+0000)/",
        "Amount": 575.00,
        "Reference": "ACH 1",
    }
    first = xero_org.put("Payments", {"Payments": [payment]})
    assert first.status_code == 200, first.text
    paid_part = first.json()["Payments"][0]
    assert paid_part["PaymentType"] == "ACCRECPAYMENT" and paid_part["Status"] == "AUTHORISED"
    assert paid_part["Invoice"]["InvoiceID"] == invoice_id and paid_part["Account"]["Code"] == "090"
    assert paid_part["Date"] == "/Date(1796169600000+0000)/"
    partly = xero_org.rows(f"Invoices/{invoice_id}")[0]
    assert (partly["AmountPaid"], partly["AmountDue"], partly["Status"]) == (575.0, 1000.0, "AUTHORISED")
    assert _stamp(partly) > _stamp(invoice)
    too_much = xero_org.put("Payments", {"Payments": [{**payment, "Amount": 1000.01}]})
    assert _validation_messages(too_much) == [
        "Payment amount exceeds the amount outstanding on this document"
    ]
    edit = xero_org.post(f"Invoices/{invoice_id}", {"Invoices": [{"LineItems": []}]})
    assert _validation_messages(edit) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]
    # Reference may still change on a document with payments.
    assert xero_org.post(f"Invoices/{invoice_id}", {"Reference": "PO 7"}).status_code == 200
    rest = xero_org.post("Payments", {**payment, "Amount": 1000, "Reference": "ACH 2"})  # one object, POST
    assert rest.status_code == 200, rest.text
    paid = xero_org.rows(f"Invoices/{invoice_id}")[0]
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0.0 and "FullyPaidOnDate" in paid
    assert Decimal(str(sum(p["Amount"] for p in paid["Payments"]))) == Decimal("1575.00")
    deleted = xero_org.post(f"Payments/{paid_part['PaymentID']}", {"Status": "DELETED"})
    assert deleted.json()["Payments"][0]["Status"] == "DELETED"
    reopened = xero_org.rows(f"Invoices/{invoice_id}")[0]
    assert (reopened["Status"], reopened["AmountDue"], len(reopened["Payments"])) == ("AUTHORISED", 575.0, 1)
    draft = _invoice(xero_org, contact["ContactID"], Status="DRAFT")
    on_draft = xero_org.put(
        "Payments", {"Payments": [{**payment, "Invoice": {"InvoiceID": draft["InvoiceID"]}}]}
    )
    assert _validation_messages(on_draft) == ["Payments can only be made against Authorised documents."]
    listed = xero_org.rows("Payments", where=f'Invoice.InvoiceID==guid("{invoice_id}")')
    assert {p["Reference"] for p in listed} == {"ACH 1", "ACH 2"}


def test_idempotency_key_replays_the_first_answer(xero_org: XeroOrg) -> None:
    headers = {"Idempotency-Key": "create-oak-hollow-1"}
    first = xero_org.put("Contacts", {"Contacts": [{"Name": "Oak Hollow Florist"}]}, headers=headers)
    second = xero_org.put("Contacts", {"Contacts": [{"Name": "Oak Hollow Florist"}]}, headers=headers)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert len(xero_org.rows("Contacts", where='Name=="Oak Hollow Florist"')) == 1
    other = xero_org.put("Contacts", {"Contacts": [{"Name": "Someone Else"}]}, headers=headers)
    assert other.status_code == 400 and other.json()["Type"] == "PostDataInvalidException"


def test_malformed_bodies_and_unemulated_writes(xero_org: XeroOrg) -> None:
    broken = xero_org.http.put(
        "/api.xro/2.0/Contacts",
        content=b"{not json",
        headers={**xero_org.headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["ErrorNumber"] == 14
    assert xero_org.put("Accounts", {"Code": "123", "Name": "New"}).status_code == 501
    assert xero_org.get("Widgets").status_code == 404
