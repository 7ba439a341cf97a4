"""Walks every route of the app x every role against the one matrix in core_api/permissions.py."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute

from core_api.permissions import MATRIX, Permission, render_markdown
from core_api.routers import ROUTERS
from core_api.tenancy import Role
from tests.factories import create_firm_user
from tests.integration.conftest import login
from tests.support.processes import ROOT

# Routes any signed-in member may call, and routes for which no sign-in exists yet or is needed.
SIGNED_IN_ONLY = {("GET", "/api/v1/auth/me"), ("GET", "/api/v1/providers")}
PUBLIC_PREFIXES = (
    "/healthz",
    "/readyz",
    "/api/v1/version",  # the release; issue 8 shows it in the SPA before sign-in too
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/signup",
    "/api/v1/auth/accept-invitation",
    "/webhooks",
    "/api/v1/oauth/",  # the vendor's browser redirect: authenticated by the state it carries
    "/api/v1/integrations/slack/commands",  # Slack's signature authenticates it
    # DELETE only clears the caller's console cookie (the POST that sets it requires operations:console).
    "/api/v1/auth/operator-session",
)


def _permission(route: APIRoute) -> Permission | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        permission = getattr(dependency.call, "permission", None)
        if permission is not None:
            return permission
        stack.extend(dependency.dependencies)
    return None


def _routes() -> list[tuple[str, str, Permission | None]]:
    routes = []
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods):
                    routes.append((method, route.path, _permission(route)))
    return routes


def test_every_route_is_either_public_or_guarded_by_a_permission():
    unguarded = [
        (m, p)
        for m, p, permission in _routes()
        if permission is None and (m, p) not in SIGNED_IN_ONLY and not p.startswith(PUBLIC_PREFIXES)
    ]
    assert unguarded == []


def test_permissions_doc_is_generated_from_the_matrix():
    assert (ROOT / "docs" / "permissions.md").read_text() == render_markdown()


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_403_exactly_where_the_matrix_says(api, app_connection, role, operator_firms):
    user = create_firm_user(app_connection, role=role)
    operator_firms.append(user.firm_id)  # the console's other condition, tested in test_operator_gate.py
    headers = login(api, user)
    mismatches = []
    for method, path, permission in _routes():
        if permission is None:
            continue
        response = api.request(method, _fill(path), headers=headers, json={})
        forbidden = response.status_code == 403
        if forbidden != (permission not in MATRIX[role]):
            mismatches.append((method, path, permission.value, response.status_code))
    assert mismatches == []
