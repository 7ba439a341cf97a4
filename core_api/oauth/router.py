"""Connect a vendor account through OAuth (issue 5): start, the vendor's callback, and the account choice."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker

from core_api.auth.dependencies import db_sessions, require, tenant_db
from core_api.connections.schemas import ConnectionOut
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, PROBLEM, WRITE_ERRORS
from core_api.oauth import service
from core_api.oauth.schemas import AccountChoice, OAuthSessionOut, OAuthStart, OAuthStartOut
from core_api.permissions import Permission
from core_api.settings import Settings, get_settings
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1", tags=["connections"], responses=COMMON_ERRORS)


@router.post(
    "/connections/oauth/{provider}/start",
    response_model=OAuthStartOut,
    status_code=status.HTTP_201_CREATED,
    responses={**ITEM_ERRORS, 409: {"description": "No OAuth app configured for the provider", **PROBLEM}},
)
def start_oauth(
    provider: str,
    body: OAuthStart,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
    settings: Settings = Depends(get_settings),
) -> OAuthStartOut:
    """Begin connecting a vendor account: send the browser to `authorization_url`."""
    return service.start(session, tenant, settings, provider, body)


@router.get(
    "/oauth/{provider}/callback",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Back to the app: connected, choose an account, or the vendor's error"},
        400: {"description": "Unknown, used or expired state", **PROBLEM},
        403: {"description": "The user who started may no longer connect", **PROBLEM},
        404: {"description": "Unknown provider", **PROBLEM},
        409: {"description": "No OAuth app configured for the provider", **PROBLEM},
        422: {"description": "The provider has no OAuth connect flow", **PROBLEM},
    },
)
def oauth_callback(
    provider: str,
    request: Request,
    sessions: sessionmaker[Session] = Depends(db_sessions),
    settings: Settings = Depends(get_settings),
) -> RedirectResponse:
    """The vendor redirects the browser here after consent. Authenticated by the `state` it carries."""
    params = {k: v for k, v in request.query_params.items() if len(v) <= 4096}
    target = service.callback(sessions, settings, provider, params)
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/connections/oauth/sessions/{session_id}", response_model=OAuthSessionOut, responses=ITEM_ERRORS)
def get_oauth_session(
    session_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
) -> OAuthSessionOut:
    """Where a connect flow stands, and the accounts to choose from when the grant covers several."""
    return service.get_session(session, tenant, session_id)


@router.post(
    "/connections/oauth/sessions/{session_id}/account",
    response_model=ConnectionOut,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
def choose_oauth_account(
    session_id: uuid.UUID,
    body: AccountChoice,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
    settings: Settings = Depends(get_settings),
) -> ConnectionOut:
    """Finish a connect flow whose grant covers several accounts (Xero organisations) by picking one."""
    return service.choose_account(session, tenant, settings, session_id, body)
