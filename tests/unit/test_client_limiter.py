"""The per-client-IP token bucket of the auth endpoints (core_api/auth/throttle.py)."""

from __future__ import annotations

from core_api.auth.throttle import ClientLimiter


def test_each_client_has_its_own_bucket() -> None:
    limiter = ClientLimiter(per_minute=6, burst=2)
    assert limiter.check("10.0.0.1") is None
    assert limiter.check("10.0.0.1") is None
    assert limiter.check("10.0.0.1") == 10  # one token every 10 s at 6 a minute
    assert limiter.check("10.0.0.2") is None


def test_the_least_recently_seen_client_is_forgotten_past_the_cap() -> None:
    limiter = ClientLimiter(per_minute=1, burst=1, max_clients=2)
    assert limiter.check("a") is None
    assert limiter.check("b") is None
    assert limiter.check("a") == 60  # "a" is now the most recently seen
    assert limiter.check("c") is None  # evicts "b"
    assert limiter.check("a") == 60  # "a" kept its empty bucket
    assert limiter.check("b") is None  # "b" was forgotten: a fresh bucket
