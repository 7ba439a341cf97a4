"""Stripe's error answers (docs.stripe.com/api/errors): a JSON body `{"error": {"type", "code",
"message", "param", "doc_url"}}` with only the fields that apply, and the HTTP status that goes with it
(400 bad request, 401 no valid key, 404 missing resource, 429 rate limited, 5xx Stripe's side)."""

import json
import secrets
from typing import Any

DOCS = "https://stripe.com/docs/error-codes"
RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
)


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS}/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id()}"
        error["type"] = self.error_type
        return {"error": error}

    def body(self) -> bytes:
        return json.dumps(self.payload(), indent=2).encode()


def request_id() -> str:
    return "req_" + secrets.token_hex(7)


def masked(key: str) -> str:
    """How Stripe echoes a wrong key: prefix, stars, last four."""
    prefix = key[:8] if key.startswith(("sk_test_", "rk_test_", "sk_live_", "rk_live_")) else ""
    return prefix + "*" * max(0, len(key) - len(prefix) - 4) + key[-4:]


def missing_key() -> StripeError:
    return StripeError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization header, "
        "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api"
        "#authentication for details, or we can help at https://support.stripe.com/.",
    )


def invalid_key(key: str) -> StripeError:
    return StripeError(401, f"Invalid API Key provided: {masked(key)}")


def expired_key(key: str) -> StripeError:
    return StripeError(401, f"Expired API Key provided: {masked(key)}", code="api_key_expired")


def rate_limited() -> StripeError:
    # Stripe names the limiter that refused in Stripe-Rate-Limited-Reason; the SDKs do not retry these.
    return StripeError(
        429, RATE_LIMIT_MESSAGE, code="rate_limit", headers={"Stripe-Rate-Limited-Reason": "global-rate"}
    )


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def invalid(message: str, param: str | None = None) -> StripeError:
    return StripeError(400, message, param=param)


def unrecognized_url(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def api_error(status: int) -> bytes:
    """Body of an injected 5xx: Stripe's `api_error` type."""
    return StripeError(
        status, "An unknown error occurred. Please try again later.", error_type="api_error"
    ).body()
