"""Errors as Microsoft answers them.

Graph: `{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}`
(learn.microsoft.com/graph/errors). The identity platform: `{"error", "error_description", "error_codes",
"timestamp", "trace_id", "correlation_id"}` with AADSTS codes (learn.microsoft.com/entra/identity-platform/
reference-error-codes).
"""

import json
import time
import uuid


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> bytes:
        inner = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "request-id": str(uuid.uuid4()),
            "client-request-id": str(uuid.uuid4()),
        }
        return json.dumps(
            {"error": {"code": self.code, "message": self.message, "innerError": inner}}
        ).encode()


class IdentityError(Exception):
    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description

    def body(self) -> dict:
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.description}",
            "error_codes": [self.aadsts],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


def unauthenticated() -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")


def not_found(what: str = "The specified object was not found in the store.") -> GraphError:
    return GraphError(404, "ErrorItemNotFound", what)


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def throttled(retry_after: int) -> GraphError:
    return GraphError(
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        {"Retry-After": str(retry_after)},
    )


def precondition_failed() -> GraphError:
    return GraphError(
        412,
        "ErrorIrresolvableConflict",
        "The change key passed in the request does not match the current change key for the item.",
    )


def sync_state_not_found() -> GraphError:
    # Delta query "synchronization reset": 410 Gone, the app must start a new round (full sync).
    return GraphError(
        410, "syncStateNotFound", "The sync state is not found or has expired; resync required."
    )


def fault_body(status: int) -> bytes:
    codes = {
        500: "InternalServerError",
        503: "ServiceNotAvailable",
        504: "GatewayTimeout",
        429: "TooManyRequests",
    }
    return GraphError(status, codes.get(status, "UnknownError"), "Injected fault.").body()
