"""What Google's front end does before a Calendar API request reaches the calendar: injected faults (sandbox
only, matched by the token's user), authentication (401 authError), the per-user and per-project quotas
(403 usageLimits rateLimitExceeded, or 429), and request counting per user. Raw ASGI, because a dropped
connection must happen below any framework."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox.common.asgi import ConnectionDropped, route_path, send_bytes
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.google import errors
from connectors.sandbox.google.state import PROJECT_KEY, GoogleState
from connectors.sandbox.google.tokens import AccessDenied

API_PREFIX = "/calendar/v3/"
ADMIN_PREFIX = "/_sandbox"
GRANT_SCOPE_KEY = "google.grant"
ACCOUNT_SCOPE_KEY = "google.account"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _stats_path(path: str) -> str:
    """Paths without ids, so counters group by method: /calendar/v3/calendars/{id}/events/{id}."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if index > 0 and parts[index - 1] in ("calendars", "events", "calendarList") and part:
            parts[index] = "{id}"
    return "/".join(parts)


class GoogleGateway:
    def __init__(self, app: ASGIApp, state: GoogleState) -> None:
        self.app = app
        self.state = state

    async def _answer(self, send: Send, error: errors.GoogleError) -> str:
        await send_bytes(send, error.status, error.body(), headers=error.headers.items())
        return str(error.status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        email = self.state.tokens.email_of(token) if token else None
        outcome = "unanswered"

        async def counting_send(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
            await send(message)

        try:
            fault = self.state.faults.take(email, scope["path"])
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
            if not path.startswith(API_PREFIX):
                await self.app(scope, receive, counting_send)
                return
            try:
                grant = self.state.tokens.verify_access(token) if token else None
            except AccessDenied:
                grant = None
            account = self.state.accounts.get(grant.email) if grant else None
            if grant is None or account is None:
                outcome = await self._answer(send, errors.invalid_credentials())
                return
            throttled = self._throttle(account.email, account.limits)
            if throttled is not None:
                outcome = await self._answer(send, throttled)
                return
            scope[GRANT_SCOPE_KEY] = grant
            scope[ACCOUNT_SCOPE_KEY] = account
            await self.app(scope, receive, counting_send)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            if email in self.state.accounts:
                self.state.stats.record(email, _stats_path(path), outcome)

    def _throttle(self, email: str, limits) -> errors.GoogleError | None:
        limiter = self.state.limiter
        project_limit = self.state.settings.google_project_rate_limit_per_minute
        if limiter.retry_after(PROJECT_KEY, project_limit) is not None:
            return errors.rate_limited(limits.rate_limit_status, limits.retry_after_seconds)
        if limiter.acquire(email, limits.requests_per_minute, limits.window_seconds) is not None:
            return errors.rate_limited(limits.rate_limit_status, limits.retry_after_seconds)
        limiter.record(PROJECT_KEY)
        return None
