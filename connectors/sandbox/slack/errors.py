"""Slack's error answer: `{"ok": false, "error": …}`, HTTP 200 except for rate limits (429)."""

from typing import Any

from fastapi.responses import JSONResponse


class SlackApiError(Exception):
    def __init__(self, error: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse({"ok": False, "error": self.error, **self.extra}, self.status, self.headers)
