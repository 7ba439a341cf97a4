from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from core_api.auth import service
from core_api.auth.dependencies import current_tenant, plain_db
from core_api.auth.schemas import LoginRequest, MeResponse, RefreshRequest, TokenResponse, UserOut
from core_api.auth.throttle import limit_client
from core_api.errors import ProblemError
from core_api.http import COMMON_ERRORS, PROBLEM
from core_api.models import User
from core_api.permissions import Permission, granted_in
from core_api.settings import Settings, get_settings
from core_api.team import service as team_service
from core_api.team.schemas import AcceptInvitation, SignupRequest
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=COMMON_ERRORS)

# The unauthenticated endpoints: a per-client-IP token bucket first (core_api/auth/throttle.py).
_THROTTLE = [Depends(limit_client)]
_TOO_MANY = {"description": "Too many requests from this address; see Retry-After", **PROBLEM}


@router.post(
    "/login",
    response_model=TokenResponse,
    dependencies=_THROTTLE,
    responses={
        429: {
            "description": "Too many requests from this address, or the account is locked after repeated "
            "failed sign-ins; see Retry-After",
            **PROBLEM,
        }
    },
)
def login(
    body: LoginRequest, session: Session = Depends(plain_db), settings: Settings = Depends(get_settings)
) -> TokenResponse:
    return service.login(session, settings, body.email, body.password, body.firm_id)


@router.post("/refresh", response_model=TokenResponse, dependencies=_THROTTLE, responses={429: _TOO_MANY})
def refresh(
    body: RefreshRequest, session: Session = Depends(plain_db), settings: Settings = Depends(get_settings)
) -> TokenResponse:
    return service.refresh(session, settings, body.refresh_token)


@router.post(
    "/signup",
    response_model=TokenResponse,
    status_code=201,
    dependencies=_THROTTLE,
    responses={409: COMMON_ERRORS[422], 429: _TOO_MANY},
)
def signup(
    body: SignupRequest, session: Session = Depends(plain_db), settings: Settings = Depends(get_settings)
) -> TokenResponse:
    """Create a firm and its first firm_admin; returns tokens for the new firm."""
    return team_service.signup(session, settings, body)


@router.post(
    "/accept-invitation",
    response_model=TokenResponse,
    dependencies=_THROTTLE,
    responses={404: COMMON_ERRORS[422], 429: _TOO_MANY},
)
def accept_invitation(
    body: AcceptInvitation, session: Session = Depends(plain_db), settings: Settings = Depends(get_settings)
) -> TokenResponse:
    """Join the inviting firm (creating the account if the email has none) and sign in to it."""
    return team_service.accept_invitation(session, settings, body)


@router.get("/me", response_model=MeResponse)
def me(
    tenant: TenantContext = Depends(current_tenant),
    session: Session = Depends(plain_db),
    settings: Settings = Depends(get_settings),
) -> MeResponse:
    user = session.get(User, tenant.user_id)
    firms = service.memberships(session, tenant.user_id) if user else []
    current = next((f for f in firms if f.id == tenant.firm_id), None)
    if user is None or not user.is_active or current is None:
        raise ProblemError(401, "Unauthorized", "The account or membership no longer exists.")
    granted = granted_in(current.role, current.id, settings.operator_firm_ids)
    return MeResponse(
        user=UserOut(id=user.id, email=user.email, full_name=user.full_name),
        firm=current,
        memberships=firms,
        permissions=sorted(p.value for p in granted),
        dagster_ui_url=settings.dagster_ui_url if Permission.operations_console in granted else None,
    )
