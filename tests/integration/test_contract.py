"""The committed OpenAPI contract, exercised against the live app.

- schemathesis generates requests for every operation of core_api/openapi.json and checks that the app
  never answers 5xx and that every response matches the documented status codes, content types and schemas;
- a walker visits every path of the spec with another firm's token and the first firm's ids: item
  endpoints answer 404 and lists never show the first firm's rows.
"""

from __future__ import annotations

import re
import uuid

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core_api.openapi import ARTIFACT

schema = schemathesis.openapi.from_path(ARTIFACT)
_LIVE: dict = {}


async def _live_app(scope, receive, send):
    # schemathesis binds its transport when the schema is loaded; the app exists only once the test
    # database does, so hand it a stable entry point that forwards to the app the fixture built.
    await _LIVE["app"](scope, receive, send)


schema.app = _live_app
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live(database_url, settings):
    """The app on the real engines (committed data), with a freshly signed-up firm."""
    from core_api.app import create_app

    app = create_app(settings)
    _LIVE["app"] = app
    with TestClient(app) as client:
        suffix = uuid.uuid4().hex[:8]
        tokens = client.post(
            "/api/v1/auth/signup",
            json={
                "firm_name": "Contract LLP",
                "email": f"contract-{suffix}@example.com",
                "password": "contract-password",
                "full_name": "Contract Tester",
            },
        ).json()
        yield app, {"Authorization": f"Bearer {tokens['access_token']}"}


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_and_responses_match_the_contract(case, live):
    _app, headers = live
    case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)


# --- another firm's token, the first firm's ids -------------------------------------------------------


# Every path parameter of the spec must be listed here; a new endpoint with a new parameter fails the
# walker until its seed is added (so no endpoint escapes the cross-firm check).
def seed_first_firm(api, headers, admin, app_connection) -> dict[str, str]:
    def post(path: str, body: dict) -> dict:
        response = api.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201, 202), (path, response.text)
        return response.json()

    ids: dict[str, str] = {"user_id": str(admin.user_id)}
    ids["client_id"] = post("/api/v1/clients", {"name": "Victim Co"})["id"]
    ids["contact_id"] = post(f"/api/v1/clients/{ids['client_id']}/contacts", {"first_name": "Vic"})["id"]
    ids["lead_id"] = post("/api/v1/leads", {"name": "Lead Victim"})["id"]
    ids["event_id"] = post(
        "/api/v1/calendar/events",
        {
            "title": "Private",
            "staff_user_id": ids["user_id"],
            "starts_at": "2026-12-01T09:00:00Z",
            "ends_at": "2026-12-01T10:00:00Z",
        },
    )["id"]
    connection = post(
        "/api/v1/connections",
        {
            "provider": "quickbooks",
            "config": {"realm_id": "123", "client_id": "c"},
            "credentials": {"client_secret": "s", "refresh_token": "r"},
        },
    )
    ids["connection_id"] = connection["id"]
    ids["request_id"] = post(f"/api/v1/connections/{ids['connection_id']}/sync", {})["id"]
    from tests.integration.test_connections import _dead_letter

    ids["letter_id"] = _dead_letter(app_connection, admin.firm_id, ids["connection_id"])
    from tests.factories import oauth_session_row

    ids["session_id"] = oauth_session_row(app_connection, admin.firm_id, admin.user_id)
    ids["invitation_id"] = post("/api/v1/team/invitations", {"email": "victim-invitee@example.com"})["id"]
    ids["folder_id"] = post("/api/v1/folders", {"name": "Victim folder"})["id"]
    ids["document_id"] = post("/api/v1/documents", {"folder_id": ids["folder_id"], "name": "victim.pdf"})[
        "id"
    ]
    ids["engagement_id"] = post(
        "/api/v1/engagements",
        {"client_id": ids["client_id"], "title": "Victim audit", "pricing_mode": "fixed", "fixed_fee": "100"},
    )["id"]
    ids["invoice_id"] = post(
        "/api/v1/invoices",
        {"client_id": ids["client_id"], "lines": [{"description": "Work", "unit_price": "100"}]},
    )["id"]
    post(f"/api/v1/invoices/{ids['invoice_id']}/send", {})
    ids["payment_id"] = post("/api/v1/payments", {"client_id": ids["client_id"], "amount": "40"})["id"]
    ids["allocation_id"] = post(
        f"/api/v1/payments/{ids['payment_id']}/allocations", {"invoice_id": ids["invoice_id"], "amount": "40"}
    )["id"]
    # Declaring a version only signs an upload URL: no S3 call is needed for the walk.
    ids["version_id"] = post(
        f"/api/v1/documents/{ids['document_id']}/versions", {"size_bytes": 1, "checksum_sha256": "a" * 64}
    )["version"]["id"]
    return ids


# Operations whose body has required fields get a valid one, so the tenancy check (404) is what answers.
BODIES: dict[tuple[str, str], dict] = {
    ("PATCH", "/api/v1/team/members/{user_id}"): {"role": "staff"},
    # A well-formed body, so the answer is about whose connection it is (404), not about the body (422).
    ("PUT", "/api/v1/connections/{connection_id}/credentials"): {"credentials": {"api_key": "sk_intruder"}},
}


def _paths() -> list[tuple[str, str]]:
    import json

    spec = json.loads(ARTIFACT.read_text())
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]


def test_another_firm_gets_404_for_every_item_and_never_sees_the_first_firms_rows(
    api, admin_headers, firm_admin, other_firm, app_connection
):
    from tests.integration.conftest import login

    ids = seed_first_firm(api, admin_headers, firm_admin, app_connection)
    intruder = login(api, other_firm)
    unknown, leaks = set(), []
    for method, path in _paths():
        if path.startswith(("/webhooks", "/api/v1/auth", "/healthz", "/readyz", "/api/v1/oauth/")):
            continue
        if path.startswith("/api/v1/connections/oauth/{provider}"):  # starts the intruder's own flow
            continue
        params = re.findall(r"\{([^}]+)\}", path)
        unknown |= {p for p in params if p not in ids}
        if unknown & set(params):
            continue
        url = re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], path)
        body = BODIES.get((method, path), {}) if method in ("POST", "PATCH", "PUT") else None
        response = api.request(method, url, headers=intruder, json=body)
        if params:
            ok = response.status_code == 404 or (method == "POST" and response.status_code == 422)
        else:
            ok = response.status_code < 500 and not any(v in response.text for v in ids.values())
        if not ok:
            leaks.append((method, path, response.status_code))
    assert unknown == set(), f"seed_first_firm needs ids for {sorted(unknown)}"
    assert leaks == []
    # …and nothing of the first firm was changed by the attempts.
    assert api.get(f"/api/v1/clients/{ids['client_id']}", headers=admin_headers).json()["version"] == 1
    assert api.get(f"/api/v1/leads/{ids['lead_id']}", headers=admin_headers).json()["status"] == "new"
    invoice = api.get(f"/api/v1/invoices/{ids['invoice_id']}", headers=admin_headers).json()
    assert invoice["status"] == "partial" and invoice["amount_paid"] == "40.00"
