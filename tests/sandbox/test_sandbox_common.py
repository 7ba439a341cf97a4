"""The shared machinery: signed tokens, the sliding-window limiter, fault rules."""

import pytest

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector, FaultSpec
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner


def test_signed_tokens_round_trip_and_reject_tampering() -> None:
    signer = TokenSigner("secret", "purpose-a", prefix="t-")
    token = signer.sign({"realm": "1", "n": 2})
    assert signer.verify(token) == {"realm": "1", "n": 2}
    body, mac = token.removeprefix("t-").split(".")
    tampered_body = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (f"t-{tampered_body}.{mac}", f"t-{body}.{mac[:-1]}", "t-", "x-" + token[2:], token + "x"):
        with pytest.raises(InvalidToken):
            signer.verify(bad)
    with pytest.raises(InvalidToken):
        TokenSigner("secret", "purpose-b", prefix="t-").verify(token)  # keys differ per purpose
    with pytest.raises(InvalidToken):
        TokenSigner("other", "purpose-a", prefix="t-").verify(token)


def test_sliding_window_counts_accepted_requests_only() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(clock, window_seconds=60)
    assert [limiter.acquire("a", 3) for _ in range(3)] == [None, None, None]
    clock.advance(59)
    assert limiter.acquire("a", 3) == 1
    assert limiter.acquire("b", 3) is None  # keys are independent
    clock.advance(1)
    assert limiter.acquire("a", 3) is None  # the first three left the window
    assert limiter.acquire("a", 1) == 60  # a lowered limit still answers when a slot frees


def test_fault_rules_are_consumed_in_order() -> None:
    injector = FaultInjector()
    injector.add(FaultSpec(kind="500", path_contains="/query", times=1))
    injector.add(FaultSpec(kind="503", realm="r1", times=2))
    assert injector.take("r2", "/customer/1") is None
    assert injector.take("r1", "/query").kind == "500"
    assert injector.take("r1", "/query").kind == "503"
    assert injector.take("r1", "/cdc").kind == "503"
    assert injector.take("r1", "/cdc") is None
    assert injector.pending() == []


def test_health_clock_and_api_docs(sandbox) -> None:
    assert sandbox.get("/healthz").json() == {
        "status": "ok",
        "vendors": {
            "quickbooks": "/quickbooks",
            "xero": "/xero",
            "google": "/google",
            "stripe": "/stripe",
            "slack": "/slack",
            "microsoft": "/microsoft",
            "salesforce": "/salesforce",
        },
    }
    before = sandbox.post("/_sandbox/clock/advance", json={"seconds": 1}).json()["now"]
    after = sandbox.post("/_sandbox/clock/advance", json={"seconds": 3600}).json()["now"]
    assert after - before >= 3600
    paths = sandbox.get("/quickbooks/openapi.json").json()["paths"]
    assert "/v3/company/{realm_id}/query" in paths and "/_sandbox/faults" in paths
    xero_paths = sandbox.get("/xero/openapi.json").json()["paths"]
    assert "/api.xro/2.0/{collection}" in xero_paths and "/identity/connect/token" in xero_paths
