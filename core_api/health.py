"""/api/v1/version: the release. /healthz: the process is up. /readyz: the database answers and the schema
is at Alembic head."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core_api.auth.dependencies import db_sessions
from core_api.errors import problem
from core_api.migrate import head_revisions
from core_api.version import VERSION

router = APIRouter(tags=["health"])


@router.get("/api/v1/version")
def version() -> dict[str, str]:
    """The running release (VERSION at build time); the SPA shows it in its footer."""
    return {"version": VERSION}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request, sessions: sessionmaker[Session] = Depends(db_sessions)) -> dict | JSONResponse:
    expected = head_revisions()
    try:
        with sessions() as session:
            current = set(session.execute(text("select version_num from app.alembic_version")).scalars())
    except SQLAlchemyError as exc:
        return problem(503, "Service Unavailable", f"database unreachable: {type(exc).__name__}", request)
    if current != expected:
        return problem(
            503,
            "Service Unavailable",
            f"schema at {sorted(current)}, code expects {sorted(expected)}",
            request,
        )
    return {"status": "ready", "database": "ok", "schema": ",".join(sorted(current))}
