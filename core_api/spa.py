"""Serve the built SPA (frontend/dist) from the API's own origin, as `make run` and production do.

One origin means no CORS, and the OAuth landing page ({app_url}/integrations) is the SPA itself. Hashed
assets are cached for a year; index.html never, so a release is picked up on the next navigation. Any
other path that is not the API's answers with index.html and the client-side router takes over; unknown
API paths still get the API's problem+json 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

_API_PREFIXES = ("api/", "webhooks/", "docs", "redoc", "openapi.json", "metrics", "healthz", "readyz")


class _ImmutableAssets(StaticFiles):
    async def get_response(self, path, scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def install(app: FastAPI, dist: Path) -> bool:
    """Mount the SPA when it has been built; returns whether it was."""
    index = dist / "index.html"
    if not index.is_file():
        return False
    if (dist / "assets").is_dir():
        app.mount("/assets", _ImmutableAssets(directory=dist / "assets"), name="spa-assets")
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        if path.startswith(_API_PREFIXES):
            raise HTTPException(status_code=404)
        candidate = (root / path).resolve()
        # Top-level files of the build (favicon, robots.txt); never anything outside dist.
        if path and candidate.is_file() and candidate.parent == root:
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return True
