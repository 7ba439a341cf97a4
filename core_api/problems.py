"""Problem types raised by services and repositories. Web-free on purpose: the data layer raises these,
`core_api.errors` renders them as application/problem+json."""

from __future__ import annotations

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response of this API."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raised by services; rendered as problem+json. `errors` carries field-level messages."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors, self.headers = (
            status,
            title,
            detail,
            errors,
            headers,
        )


class NotFound(ProblemError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "Not Found", f"{what} not found")


class Conflict(ProblemError):
    def __init__(self, detail: str, *, field: str | None = None) -> None:
        errors = [{"field": field, "message": detail}] if field else None
        super().__init__(409, "Conflict", detail, errors=errors)
