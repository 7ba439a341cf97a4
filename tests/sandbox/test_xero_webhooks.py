"""Xero webhooks over real HTTP: intent-to-receive, signed batched deliveries of the events writes
queue, retries. The receiver checks x-xero-signature with the webhook key, as a real one must."""

import base64
import hashlib
import hmac
import json
import re
import time

from tests.sandbox.xero_fixtures import LiveXero, WebhookReceiver, XeroOrg

EVENT_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")


def _subscribe(live: LiveXero, receiver: WebhookReceiver, **extra) -> dict:
    response = live.http.post("/_sandbox/webhooks", json={"url": receiver.url, **extra})
    assert response.status_code == 201, response.text
    subscription = response.json()
    receiver.key = subscription["webhook_key"]
    return subscription


def _events(receiver: WebhookReceiver, count: int) -> list[dict]:
    deliveries = receiver.wait_for(
        lambda ds: sum(len(json.loads(d.body)["events"]) for d in ds if d.status == 200) >= count
    )
    return [e for d in deliveries if d.status == 200 for e in json.loads(d.body)["events"]]


def _settled(live: LiveXero, subscription_id: str, timeout: float = 10.0) -> dict:
    """The subscription's state once no delivery is in flight (status no longer RETRY)."""
    deadline = time.monotonic() + timeout
    while True:
        state = live.http.get(f"/_sandbox/webhooks/{subscription_id}").json()
        if state["status"] != "RETRY" or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


def test_intent_to_receive_then_signed_batched_events(
    xero_live: LiveXero, xero_org: XeroOrg, webhook_receiver: WebhookReceiver
) -> None:
    subscription = _subscribe(xero_live, webhook_receiver, tenant_ids=[xero_org.tenant_id])
    assert subscription["status"] == "PENDING" and len(base64.b64decode(subscription["webhook_key"])) == 64
    check = xero_live.http.post(f"/_sandbox/webhooks/{subscription['id']}/intent-to-receive").json()
    assert check == {
        "id": subscription["id"],
        "correctly_signed_status": 200,
        "wrongly_signed_status": 401,
        "passed": True,
        "status": "OK",
    }
    itr = [json.loads(d.body) for d in webhook_receiver.deliveries]
    assert [b["events"] for b in itr] == [[], []] and all(b["firstEventSequence"] == 0 for b in itr)

    contact = xero_org.put("Contacts", {"Name": "Webhook Works LLC"}).json()["Contacts"][0]
    invoice = xero_org.put(
        "Invoices",
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "Status": "AUTHORISED",
            "LineItems": [{"Description": "Setup", "UnitAmount": 100, "AccountCode": "210"}],
        },
    ).json()["Invoices"][0]
    xero_org.put(
        "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 50}
    )
    events = _events(webhook_receiver, 3)
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", contact["ContactID"]),
        ("INVOICE", "CREATE", invoice["InvoiceID"]),
        ("INVOICE", "UPDATE", invoice["InvoiceID"]),  # paid: Xero has no payment events
    ]
    for event in events:
        assert event["tenantId"] == xero_org.tenant_id and event["tenantType"] == "ORGANISATION"
        assert EVENT_DATE.match(event["eventDateUtc"])
        collection = "Contacts" if event["eventCategory"] == "CONTACT" else "Invoices"
        assert event["resourceUrl"] == f"{xero_live.xero}/api.xro/2.0/{collection}/{event['resourceId']}"
    for delivery in webhook_receiver.deliveries[2:]:
        expected = base64.b64encode(
            hmac.new(webhook_receiver.key.encode(), delivery.body, hashlib.sha256).digest()
        )
        assert delivery.headers["x-xero-signature"] == expected.decode()
        body = json.loads(delivery.body)
        assert body["lastEventSequence"] - body["firstEventSequence"] + 1 == len(body["events"])
        assert len(body["entropy"]) == 20
    sequences = [json.loads(d.body)["firstEventSequence"] for d in webhook_receiver.deliveries[2:]]
    assert sequences == sorted(sequences) and sequences[0] == 1


def test_a_receiver_that_ignores_signatures_fails_the_check(
    xero_live: LiveXero, xero_org: XeroOrg, webhook_receiver: WebhookReceiver
) -> None:
    subscription = _subscribe(xero_live, webhook_receiver, tenant_ids=[xero_org.tenant_id])
    webhook_receiver.answer = lambda body, headers: 200
    check = xero_live.http.post(f"/_sandbox/webhooks/{subscription['id']}/intent-to-receive").json()
    assert check["passed"] is False and check["wrongly_signed_status"] == 200 and check["status"] == "PENDING"
    xero_org.put("Contacts", {"Name": "Not Delivered Yet"})
    state = xero_live.http.get(f"/_sandbox/webhooks/{subscription['id']}").json()
    assert state["pending_events"] == 1 and state["delivered_events"] == 0
    assert len(webhook_receiver.deliveries) == 2  # only the check


def test_admin_writes_are_announced_too(
    xero_live: LiveXero, xero_org: XeroOrg, webhook_receiver: WebhookReceiver
) -> None:
    _subscribe(xero_live, webhook_receiver, tenant_ids=[xero_org.tenant_id], intent_to_receive_passed=True)
    created = xero_org.admin("POST", "/contacts/bulk", json={"count": 300, "seed": 3}).json()
    events = _events(webhook_receiver, 300)
    assert {e["eventType"] for e in events} == {"CREATE"} and events[-1]["resourceId"] == created["last_id"]
    assert max(len(json.loads(d.body)["events"]) for d in webhook_receiver.deliveries) <= 250  # batched
    touched = xero_org.admin("POST", "/touch", json={"invoices": 2, "seed": 4}).json()
    later = _events(webhook_receiver, 302)[300:]
    assert sorted(e["resourceId"] for e in later) == sorted(touched["invoices"])
    assert {(e["eventCategory"], e["eventType"]) for e in later} == {("INVOICE", "UPDATE")}


def test_failed_deliveries_are_retried_in_order(
    xero_live: LiveXero, xero_org: XeroOrg, webhook_receiver: WebhookReceiver
) -> None:
    subscription = _subscribe(
        xero_live, webhook_receiver, tenant_ids=[xero_org.tenant_id], intent_to_receive_passed=True
    )
    failures = iter(range(3))
    webhook_receiver.answer = lambda body, headers: 500 if next(failures, None) is not None else 200
    xero_org.put("Contacts", {"Name": "Retry Me"})
    events = _events(webhook_receiver, 1)
    assert [e["eventType"] for e in events] == ["CREATE"]
    outcomes = [d.status for d in webhook_receiver.deliveries]
    assert outcomes == [500, 500, 500, 200]  # at once, at once again, then after the retry interval
    # The receiver has answered 200; the sandbox books it once that answer is back, a moment later.
    state = _settled(xero_live, subscription["id"])
    assert state["status"] == "OK" and state["delivered_events"] == 1 and state["pending_events"] == 0
    # Other tenants' events are not this subscription's business.
    xero_live.new_org().put("Contacts", {"Name": "Elsewhere"})
    assert xero_live.http.get(f"/_sandbox/webhooks/{subscription['id']}").json()["pending_events"] == 0
