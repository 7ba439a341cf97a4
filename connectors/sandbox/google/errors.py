"""Google's JSON error bodies (developers.google.com/calendar/api/guides/errors):

    {"error": {"errors": [{"domain": "global", "reason": "notFound", "message": "Not Found"}],
               "code": 404, "message": "Not Found"}}

``locationType`` / ``location`` are added where Google names the offending header or parameter (401 names
the Authorization header, 412 the If-Match header, 400 the bad parameter).
"""

import json
from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "NOT_FOUND",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GoogleError(Exception):
    """An error answer of the Calendar API."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location is not None:
            detail["locationType"] = self.location_type or "parameter"
            detail["location"] = self.location
        error: dict[str, Any] = {"errors": [detail], "code": self.status, "message": self.message}
        if self.status in STATUS_NAMES:
            error["status"] = STATUS_NAMES[self.status]
        return {"error": error}

    def body(self) -> bytes:
        return json.dumps(self.payload()).encode()


def bad_request(message: str, reason: str = "invalid", location: str | None = None) -> GoogleError:
    return GoogleError(400, reason, message, location=location)


def invalid_credentials() -> GoogleError:
    return GoogleError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def insufficient_scopes() -> GoogleError:
    return GoogleError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")


def not_found() -> GoogleError:
    return GoogleError(404, "notFound", "Not Found")


def duplicate() -> GoogleError:
    return GoogleError(409, "duplicate", "The requested identifier already exists.")


def deleted() -> GoogleError:
    return GoogleError(410, "deleted", "Resource has been deleted")


def full_sync_required() -> GoogleError:
    return GoogleError(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")


def precondition_failed() -> GoogleError:
    return GoogleError(
        412, "conditionNotMet", "Precondition Failed", location="If-Match", location_type="header"
    )


def rate_limited(status: int, retry_after: int | None) -> GoogleError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return GoogleError(
        status, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits", headers=headers
    )


def fault_body(status: int) -> bytes:
    """Bodies of injected faults: Google's backend errors and its 429."""
    if status == 429:
        return rate_limited(429, None).body()
    if status == 503:
        return GoogleError(503, "backendError", "The service is currently unavailable.").body()
    if status == 504:
        return GoogleError(504, "backendError", "Deadline exceeded.").body()
    return GoogleError(status, "backendError", "Backend Error").body()
