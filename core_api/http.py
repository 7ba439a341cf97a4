"""HTTP helpers shared by routers: ETag/If-Match for optimistic concurrency, standard error docs."""

from __future__ import annotations

from typing import Any

from fastapi import Header, Response

from core_api.errors import Problem, ProblemError

PROBLEM: dict[str, Any] = {
    "model": Problem,
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

# Errors every authenticated operation can return, documented once and attached to each router.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON or header", **PROBLEM},
    401: {"description": "Missing or invalid bearer token", **PROBLEM},
    403: {"description": "The caller's role lacks the permission", **PROBLEM},
    422: {"description": "Invalid input, with field-level messages", **PROBLEM},
}
ITEM_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found in the caller's firm", **PROBLEM}
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ITEM_ERRORS,
    409: {"description": "Stale version / If-Match, or a uniqueness conflict", **PROBLEM},
}


def if_match(
    if_match: str | None = Header(None, description='The ETag you read, e.g. "3"; stale → 409.'),
) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ProblemError(
            400,
            "Bad Request",
            "If-Match must be an ETag from this API.",
            errors=[{"field": "If-Match", "message": 'expected a quoted version number, e.g. "3"'}],
        )
    return int(value)


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
