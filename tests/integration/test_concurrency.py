"""Two writers, one version: exactly one wins. Real concurrent transactions on separate connections."""

from __future__ import annotations

import threading
import uuid

from fastapi.testclient import TestClient


def test_two_concurrent_updates_with_the_same_version_one_succeeds_one_gets_409(database_url, settings):
    from core_api.app import create_app

    app = create_app(settings)  # no overrides: each request gets its own pooled connection and transaction
    with TestClient(app) as api:
        tokens = api.post(
            "/api/v1/auth/signup",
            json={
                "firm_name": "Race LLP",
                "email": f"race-{uuid.uuid4().hex[:8]}@example.com",
                "password": "race-password-1",
                "full_name": "Racer",
            },
        ).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        client = api.post("/api/v1/clients", json={"name": "Contended"}, headers=headers).json()

        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def write(name: str) -> None:
            barrier.wait()
            response = api.patch(
                f"/api/v1/clients/{client['id']}", json={"name": name, "version": 1}, headers=headers
            )
            results[name] = response.status_code

        threads = [threading.Thread(target=write, args=(n,)) for n in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(results.values()) == [200, 409]
        winner = next(name for name, code in results.items() if code == 200)
        final = api.get(f"/api/v1/clients/{client['id']}", headers=headers).json()
        assert final["name"] == winner and final["version"] == 2
