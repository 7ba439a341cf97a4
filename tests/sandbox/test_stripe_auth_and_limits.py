"""The Stripe emulator's edge: secret-key authentication (docs.stripe.com/api/authentication), Stripe's
error bodies (docs.stripe.com/api/errors), the per-account rate limiter (docs.stripe.com/rate-limits) and
injected faults."""

from __future__ import annotations

import base64

from tests.sandbox.stripe_fixtures import STRIPE, StripeAccount


def test_requests_without_a_valid_key_get_401_with_stripes_error_body(stripe_account: StripeAccount) -> None:
    client = stripe_account.client
    missing = client.get(f"{STRIPE}/v1/customers")
    assert missing.status_code == 401
    error = missing.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith(
        "You did not provide an API key"
    )
    wrong_key = "sk_test_51" + "x" * 60 + "WXYZ"
    wrong = client.get(f"{STRIPE}/v1/customers", headers={"Authorization": f"Bearer {wrong_key}"})
    assert wrong.status_code == 401
    message = wrong.json()["error"]["message"]
    assert message.startswith("Invalid API Key provided: sk_test_") and message.endswith("WXYZ")
    assert wrong_key not in message  # Stripe masks the key it echoes
    assert wrong.headers["request-id"].startswith("req_")


def test_basic_auth_with_the_key_as_user_name_is_accepted(stripe_account: StripeAccount) -> None:
    basic = base64.b64encode(f"{stripe_account.secret_key}:".encode()).decode()
    response = stripe_account.client.get(f"{STRIPE}/v1/charges", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200 and response.json()["object"] == "list"


def test_each_key_reaches_only_its_own_account(stripe_account: StripeAccount, new_stripe_account) -> None:
    other = new_stripe_account(customers=3)
    mine = {c["id"] for c in stripe_account.walk("customers")}
    theirs = {c["id"] for c in other.walk("customers")}
    assert len(theirs) == 3 and not mine & theirs
    assert other.get(f"customers/{next(iter(mine))}").status_code == 404


def test_a_rolled_key_expires(stripe_account: StripeAccount) -> None:
    old = stripe_account.secret_key
    stripe_account.secret_key = stripe_account.act("/roll_key")["secret_key"]
    assert stripe_account.get("customers").status_code == 200
    expired = stripe_account.get("customers", headers={"Authorization": f"Bearer {old}"})
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "api_key_expired"


def test_rate_limit_answers_429_per_account_and_kind(
    stripe_account: StripeAccount, new_stripe_account
) -> None:
    assert stripe_account.admin("GET", "/limits").json() == {"read_per_second": 25, "write_per_second": 25}
    stripe_account.admin("PUT", "/limits", json={"read_per_second": 3})
    answers = [stripe_account.get("customers", {"limit": 1}) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    assert refused.headers["stripe-rate-limited-reason"] == "global-rate"
    # Reads are refused now, but writes have their own budget, and other accounts theirs.
    customer_id = (
        stripe_account.client.app.state.stripe.accounts[stripe_account.account_id]
        .table("customers")
        .newest_first()[0]["id"]
    )
    deleted = stripe_account.client.delete(
        f"{STRIPE}/v1/customers/{customer_id}", headers=stripe_account.headers
    )
    assert deleted.status_code == 200
    assert new_stripe_account(customers=1).get("customers").status_code == 200
    stripe_account.clock.advance(1.01)  # the window slides on the sandbox clock
    assert stripe_account.get("customers").status_code == 200
    stats = stripe_account.admin("GET", "/stats").json()
    assert stats["throttled"] == 2 and stats["by_status"]["429"] == 2


def test_injected_faults_answer_stripe_api_errors_then_clear(stripe_account: StripeAccount) -> None:
    stripe_account.client.post(
        f"{STRIPE}/_sandbox/faults", json={"kind": "503", "realm": stripe_account.account_id, "times": 2}
    ).raise_for_status()
    first, second, third = (stripe_account.get("charges") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["error"]["type"] == "api_error"
    stripe_account.client.post(
        f"{STRIPE}/_sandbox/faults", json={"kind": "500", "path_contains": "/v1/refunds"}
    ).raise_for_status()
    assert (
        stripe_account.get("charges").status_code == 200 and stripe_account.get("refunds").status_code == 500
    )
