"""What Stripe's edge does before a request reaches the API: injected faults (sandbox only), secret-key
authentication (docs.stripe.com/api/authentication: HTTP Basic with the key as user name, or
`Authorization: Bearer <key>`), the per-account rate limiter and request counting. Raw ASGI, because a
dropped connection must happen below any framework."""

import base64
import binascii
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox.common.asgi import ConnectionDropped, route_path, send_bytes
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.stripe import errors
from connectors.sandbox.stripe.account import Account
from connectors.sandbox.stripe.state import StripeState

API_PREFIX = "/v1/"
ACCOUNT_SCOPE_KEY = "stripe.account"
_ID_SEGMENT = re.compile(r"/(cus|ch|pi|re|evt)_[A-Za-z0-9]+")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def api_key(scope: Scope) -> str | None:
    scheme, _, credentials = (_header(scope, b"authorization") or "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            user, _, _ = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user or None
    return None


class StripeGateway:
    def __init__(self, app: ASGIApp, state: StripeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        key = api_key(scope)
        account = self.state.account_for_key(key) if key else None
        outcome = "unanswered"
        request_id = errors.request_id()

        async def send_with_request_id(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
                extra = [(b"request-id", request_id.encode()), (b"stripe-version", account_version())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        def account_version() -> bytes:
            return (account.api_version if account else self.state.settings.stripe_api_version).encode()

        try:
            fault = self.state.faults.take(account.account_id if account else None, scope["path"])
            if fault is not None:
                outcome = await answer_with_fault(
                    fault, scope, receive, send, errors.api_error, self.state.settings.fault_max_delay_seconds
                )
                return
            refusal = self._refusal(key, account, scope["method"])
            if refusal is not None:
                headers = [*refusal.headers.items(), ("Request-Id", request_id)]
                await send_bytes(send, refusal.status, refusal.body(), headers=headers)
                outcome = str(refusal.status)
                return
            scope[ACCOUNT_SCOPE_KEY] = account
            await self.app(scope, receive, send_with_request_id)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            tenant = account.account_id if account else None
            if tenant:
                self.state.stats.record(tenant, _ID_SEGMENT.sub(r"/\1_{id}", path), outcome)

    def _refusal(self, key: str | None, account: Account | None, method: str) -> errors.StripeError | None:
        if key is None:
            return errors.missing_key()
        if account is None:
            return errors.expired_key(key) if self.state.expired_key_owner(key) else errors.invalid_key(key)
        kind = "read" if method in ("GET", "HEAD") else "write"
        limit = account.limits.read_per_second if kind == "read" else account.limits.write_per_second
        if self.state.limiter.acquire(f"{account.account_id}:{kind}", limit) is not None:
            self.state.throttled[account.account_id] = self.state.throttled.get(account.account_id, 0) + 1
            return errors.rate_limited()
        return None
