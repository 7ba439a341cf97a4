from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from tests.factories import PASSWORD, FirmUser, create_firm_user


@pytest.fixture
def api(app_connection, settings):
    """The real app; every request's session joins the test's rolled-back transaction."""
    from core_api.app import create_app
    from core_api.auth.dependencies import db_sessions

    app = create_app(settings)
    factory = sessionmaker(
        bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.dependency_overrides[db_sessions] = lambda: factory
    with TestClient(app) as client:
        yield client


def login(api: TestClient, user: FirmUser) -> dict[str, str]:
    response = api.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def firm_admin(app_connection) -> FirmUser:
    return create_firm_user(app_connection, name="Alpha Accounting")


@pytest.fixture
def admin_headers(api, firm_admin) -> dict[str, str]:
    return login(api, firm_admin)


@pytest.fixture
def other_firm(app_connection) -> FirmUser:
    return create_firm_user(app_connection, name="Beta Consulting")
