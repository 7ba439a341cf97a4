"""What Graph's front end does before a request reaches a mailbox: injected faults (sandbox only, matched by
the mailbox's user id), authentication (401 InvalidAuthenticationToken), Outlook's per-app-per-mailbox limit
(429 ApplicationThrottled + Retry-After) and request counting per mailbox. Raw ASGI, because a dropped
connection must happen below any framework."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox.common.asgi import ConnectionDropped, route_path, send_bytes
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.microsoft import errors
from connectors.sandbox.microsoft.state import MicrosoftState, User
from connectors.sandbox.microsoft.tokens import TokenRefused

API_PREFIX = "/v1.0/"
CLAIMS_SCOPE_KEY = "microsoft.claims"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _stats_path(path: str) -> str:
    parts = path.split("/")
    for index, part in enumerate(parts):
        if index > 0 and parts[index - 1] in ("users", "events", "subscriptions") and part:
            parts[index] = "{id}"
    return "/".join(parts)


class MicrosoftGateway:
    def __init__(self, app: ASGIApp, state: MicrosoftState) -> None:
        self.app = app
        self.state = state

    def mailbox(self, claims: dict, path: str) -> User | None:
        """The mailbox a Graph request reads or writes: the signed-in user (`/me`) or `/users/{id}`."""
        parts = path.split("/")
        if len(parts) > 3 and parts[2] == "users":
            return self.state.user(claims["tid"], parts[3])
        return self.state.find_user(claims["oid"]) if claims.get("oid") else None

    async def _answer(self, send: Send, error: errors.GraphError) -> str:
        await send_bytes(send, error.status, error.body(), headers=error.headers.items())
        return str(error.status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        outcome, user = "unanswered", None

        async def counting_send(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
            await send(message)

        try:
            try:
                claims = (
                    self.state.tokens.verify_access(token.strip()) if scheme.lower() == "bearer" else None
                )
            except TokenRefused:
                claims = None
            user = self.mailbox(claims, path) if claims else None
            fault = self.state.faults.take(user.id if user else None, scope["path"])
            if fault is not None:
                outcome = await answer_with_fault(
                    fault,
                    scope,
                    receive,
                    send,
                    errors.fault_body,
                    self.state.settings.fault_max_delay_seconds,
                )
                return
            signer = self.state.find_user(claims["oid"]) if claims and claims.get("oid") else None
            if claims is None or (signer is not None and claims["iat"] < signer.tokens_valid_after):
                outcome = await self._answer(send, errors.unauthenticated())
                return
            if user is not None:
                wait = self.state.limiter.acquire(
                    f"{claims['aud']}:{user.id}", user.limits.requests, user.limits.window_seconds
                )
                if wait is not None:
                    outcome = await self._answer(send, errors.throttled(wait))
                    return
            scope[CLAIMS_SCOPE_KEY] = claims
            await self.app(scope, receive, counting_send)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            if user is not None:
                self.state.stats.record(user.id, _stats_path(path), outcome)
