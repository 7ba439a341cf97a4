"""Xero's error responses.

- The API gateway answers authentication and throttling problems as RFC 7807 problem JSON, e.g.
  ``{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: token expired at …",
  "Instance":"<guid>","Extensions":{}}`` (403 ``AuthenticationUnsuccessful`` for a tenant the token
  may not use; 401 ``AuthorizationUnsuccessful`` for a missing scope).
- The Accounting API answers bad writes with a 400 ``ValidationException`` whose ``Elements`` repeat
  the submitted objects, each with its ``ValidationErrors``; a bad ``where`` with a 400
  ``QueryParseException``; malformed JSON with a 400 ``PostDataInvalidException``; an unknown id with
  404 and a plain-text sentence.
"""

import uuid
from typing import Any

from connectors.sandbox.xero.jsonbody import dumps

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
PROBLEM_TITLES = {
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class XeroError(Exception):
    status = 500
    content_type = "application/json; charset=utf-8"

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        super().__init__(self.status)
        self.headers = headers or {}

    def body(self) -> bytes:
        raise NotImplementedError


class Problem(XeroError):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        super().__init__(headers)
        self.detail = detail

    def body(self) -> bytes:
        return problem_body(self.status, self.detail)

    def __str__(self) -> str:
        return f"{self.status} {self.detail}"


def problem_body(status: int, detail: str) -> bytes:
    return dumps(
        {
            "Type": None,
            "Title": PROBLEM_TITLES.get(status, "Error"),
            "Status": status,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        }
    )


def unauthorized(detail: str = "AuthenticationUnsuccessful") -> Problem:
    return Problem(401, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def forbidden() -> Problem:
    return Problem(403, "AuthenticationUnsuccessful")


def missing_scope() -> Problem:
    return Problem(401, "AuthorizationUnsuccessful")


class ValidationException(XeroError):
    """400 with every submitted element echoed back; ``elements`` already carry ``ValidationErrors``."""

    status = 400

    def __init__(self, elements: list[dict[str, Any]]) -> None:
        super().__init__()
        self.elements = elements

    def body(self) -> bytes:
        return dumps(
            {
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A validation exception occurred",
                "Elements": self.elements,
            }
        )

    def __str__(self) -> str:
        messages = [e["Message"] for el in self.elements for e in el.get("ValidationErrors", [])]
        return "; ".join(messages)


class QueryParseError(XeroError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def body(self) -> bytes:
        return dumps({"ErrorNumber": 16, "Type": "QueryParseException", "Message": self.message})


class PostDataInvalid(XeroError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def body(self) -> bytes:
        return dumps({"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": self.message})


class NotFound(XeroError):
    status = 404
    content_type = "text/plain; charset=utf-8"

    def body(self) -> bytes:
        return NOT_FOUND_TEXT.encode()


class Invalid(Exception):
    """One element failed validation; the write code turns these into a ValidationException."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)
