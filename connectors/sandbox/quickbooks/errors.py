"""QBO error responses, in the shapes Intuit sends them.

Two shapes exist. Data-service errors use the documented envelope
(developer.intuit.com .../develop/troubleshooting/handling-common-errors)::

    {"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": "ValidationFault"}, "time": "..."}

Authentication and authorization failures come from Intuit's gateway in a different, lower-case envelope
with an epoch-millisecond ``time`` (as recorded in routablehq/python-quickbooks#250 and
intuit/oauth-jsclient#2). Clients must cope with both, so the sandbox reproduces both.
"""

from typing import Any


class QboError(Exception):
    """An error response; ``body`` renders it given the response time (company-zone text and epoch ms)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers or {}

    def body(self, time_text: str, time_ms: int) -> dict[str, Any]:
        raise NotImplementedError


class QboFault(QboError):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str,
        fault_type: str = "ValidationFault",
        headers: dict[str, str] | None = None,
        element: str = "",
    ) -> None:
        super().__init__(status, headers)
        self.code, self.message, self.detail, self.fault_type = code, message, detail, fault_type
        self.element = element

    def body(self, time_text: str, time_ms: int) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
        return {"Fault": {"Error": [error], "type": self.fault_type}, "time": time_text}

    def __str__(self) -> str:
        return f"{self.status} {self.code} {self.message}: {self.detail}"


class GatewayFault(QboError):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str | None,
        fault_type: str,
        headers: dict | None = None,
    ) -> None:
        super().__init__(status, headers)
        self.code, self.message, self.detail, self.fault_type = code, message, detail, fault_type

    def body(self, time_text: str, time_ms: int) -> dict[str, Any]:
        error = {"message": self.message, "detail": self.detail, "code": self.code, "element": None}
        return {
            "warnings": None,
            "intuitObject": None,
            "fault": {"error": [error], "type": self.fault_type},
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": time_ms,
            "status": None,
            "cdcresponse": [],
        }


def authentication_failed(detail: str) -> GatewayFault:
    return GatewayFault(
        401,
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        "AUTHENTICATION",
        headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
    )


def authorization_failed() -> GatewayFault:
    return GatewayFault(
        403, "3100", "message=AuthorizationFailed; errorCode=003100; statusCode=403", None, "SERVICE"
    )


def throttle_exceeded(retry_after: int, detail: str | None = None) -> QboFault:
    return QboFault(
        429,
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        detail
        or "The request limit was reached: 500 requests per minute per realm "
        "(or the limit set for this realm).",
        fault_type="SERVICE",
        headers={"Retry-After": str(retry_after)},
    )


def too_many_concurrent_requests(limit: int) -> QboFault:
    return throttle_exceeded(
        1, f"Too many concurrent requests: at most {limit} API requests at a time per realm and app."
    )


def system_failure(status: int) -> QboFault:
    if status == 503:
        message, detail = "Service Unavailable", "The service is temporarily unavailable. Try again later."
    elif status == 504:
        message, detail = "Gateway Timeout", "The upstream service did not answer in time."
    elif status == 429:
        return throttle_exceeded(1)
    else:
        message, detail = (
            "An application error has occurred while processing your request",
            "System Failure Error",
        )
    return QboFault(status, "10000", message, detail, fault_type="SystemFault")


def stale_object(entity: str, other_user: str) -> QboFault:
    # The Detail as the "Fix common errors" reference publishes it, with the user who saved first.
    return QboFault(
        400,
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {other_user} were working on this at the same time. "
        f"{other_user} finished before you did, so your work was not saved. Entity={entity}",
    )


def duplicate_name(name: str, entity: str = "Customer") -> QboFault:
    holder = {
        "Account": "Another account is already using this name",
        "Item": "Another product or service is already using this name",
    }.get(entity, "Another customer, vendor or employee is already using this name")
    return QboFault(
        400,
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : {holder} ({name}). Please use a different name.",
    )


def object_not_found(entity: str, entity_id: str) -> QboFault:
    return QboFault(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
        f"accounts, customers, items, vendors or employees. ({entity} Id={entity_id})",
    )


def invalid_property(name: str) -> QboFault:
    return QboFault(
        400,
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{name} specified is unsupported or invalid",
    )


def required_param_missing(name: str) -> QboFault:
    return QboFault(
        400,
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        element=name,
    )


def invalid_reference(element: str) -> QboFault:
    """A reference to an object the company does not have (e.g. ``Line.SalesItemLineDetail.ItemRef``)."""
    return QboFault(400, "2500", "Invalid Reference Id", f"Invalid Reference Id : {element}", element=element)


def inactive_reference(element: str) -> QboFault:
    return QboFault(
        400,
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
        "accounts, customers, items, vendors or employees.",
        element=element,
    )


def deleted_transaction(element: str = "") -> QboFault:
    return QboFault(
        400,
        "610",
        "Object Not Found",
        "Object Not Found : Another user has deleted this transaction.",
        element=element,
    )


def business_validation(detail: str, element: str = "") -> QboFault:
    return QboFault(
        400,
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element=element,
    )


def invalid_value(detail: str) -> QboFault:
    return QboFault(400, "2050", "Invalid String Length or Value", detail)


def query_parser_error(detail: str) -> QboFault:
    return QboFault(400, "4000", "Error parsing query", f"QueryParserError: {detail}")


def query_validation_error(detail: str) -> QboFault:
    return QboFault(400, "4001", "Invalid query", f"QueryValidationError: {detail}")


def unsupported_operation(detail: str) -> QboFault:
    return QboFault(400, "500", "Unsupported Operation", detail)
