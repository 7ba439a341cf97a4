"""Salesforce's error answers (REST API Developer Guide, "Status Codes and Error Responses").

The REST API answers a list of errors, `[{"message": "...", "errorCode": "..."}]` (plus `fields` for field
errors); the OAuth endpoints answer `{"error": "...", "error_description": "..."}`.
"""

import json
from typing import Any


class SalesforceError(Exception):
    def __init__(self, status: int, code: str, message: str, *, fields: list[str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers: dict[str, str] = {}

    def payload(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]

    def body(self) -> bytes:
        return json.dumps(self.payload()).encode()


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def request_limit_exceeded() -> SalesforceError:
    return SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def not_found(message: str = "The requested resource does not exist") -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", message)


def malformed_query(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


def invalid_field(message: str) -> SalesforceError:
    return SalesforceError(400, "INVALID_FIELD", message)


def invalid_type(sobject: str) -> SalesforceError:
    return SalesforceError(
        404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{sobject}'"
    )


def fault_body(status: int) -> bytes:
    codes = {429: "REQUEST_LIMIT_EXCEEDED", 503: "SERVER_UNAVAILABLE", 504: "SERVER_UNAVAILABLE"}
    code = codes.get(status, "UNKNOWN_EXCEPTION")
    return json.dumps([{"message": "An unexpected error occurred.", "errorCode": code}]).encode()
