"""Documents: folders, documents, immutable versions in S3 (moto server, real HTTP to presigned URLs)."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import text

from core_api.tenancy import Role
from tests.conftest import set_firm
from tests.factories import create_firm_user
from tests.integration.conftest import login

pytestmark = pytest.mark.usefixtures("s3")


def _folder(api, headers, name="Tax returns", **fields):
    response = api.post("/api/v1/folders", json={"name": name, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _document(api, headers, folder_id, name="2026 return.pdf", **fields):
    body = {"folder_id": folder_id, "name": name, "content_type": "application/pdf", **fields}
    response = api.post("/api/v1/documents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _declare(api, headers, doc_id, content: bytes, content_type="application/pdf"):
    body = {
        "size_bytes": len(content),
        "checksum_sha256": hashlib.sha256(content).hexdigest(),
        "content_type": content_type,
    }
    response = api.post(f"/api/v1/documents/{doc_id}/versions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _put(created: dict, content: bytes) -> None:
    upload = created["upload"]
    assert upload["method"] == "PUT"
    response = httpx.put(upload["url"], content=content, headers=upload["headers"])
    assert response.status_code == 200, response.text


def _upload(api, headers, doc_id, content: bytes, content_type="application/pdf") -> dict:
    created = _declare(api, headers, doc_id, content, content_type)
    _put(created, content)
    done = api.post(
        f"/api/v1/documents/{doc_id}/versions/{created['version']['id']}/complete", headers=headers
    )
    assert done.status_code == 200, done.text
    return done.json()


def _complete(api, headers, doc_id, version_id):
    return api.post(f"/api/v1/documents/{doc_id}/versions/{version_id}/complete", headers=headers)


def test_upload_complete_download_round_trip_through_presigned_urls(api, admin_headers, firm_admin):
    folder = _folder(api, admin_headers)
    doc = _document(api, admin_headers, folder["id"], name="Return 2026 \u2013 final.pdf")
    first = b"%PDF-1.7 first draft\n" * 50

    created = _declare(api, admin_headers, doc["id"], first)
    version = created["version"]
    assert version["status"] == "pending" and version["number"] is None
    assert version["uploaded_by"] == str(firm_admin.user_id)
    key_path = urlparse(created["upload"]["url"]).path
    assert key_path.endswith(f"/firms/{firm_admin.firm_id}/documents/{doc['id']}/{version['id']}")
    assert created["upload"]["headers"]["x-amz-checksum-sha256"]
    _put(created, first)

    done = _complete(api, admin_headers, doc["id"], version["id"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "available" and done.json()["number"] == 1
    fetched = api.get(f"/api/v1/documents/{doc['id']}", headers=admin_headers).json()
    assert fetched["current_version_id"] == version["id"]
    assert fetched["current_version"]["checksum_sha256"] == hashlib.sha256(first).hexdigest()
    assert fetched["current_version"]["size_bytes"] == len(first)

    link = api.get(f"/api/v1/documents/{doc['id']}/versions/{version['id']}/download", headers=admin_headers)
    assert link.status_code == 200, link.text
    assert link.json()["file_name"] == "Return 2026 \u2013 final.pdf" and link.json()["number"] == 1
    query = parse_qs(urlparse(link.json()["url"]).query)
    assert query["response-content-disposition"][0].startswith(
        'attachment; filename="Return 2026 _ final.pdf"'
    )
    assert "UTF-8''Return%202026%20%E2%80%93%20final.pdf" in query["response-content-disposition"][0]
    assert int(query["X-Amz-Expires"][0]) <= 300
    got = httpx.get(link.json()["url"])
    assert got.status_code == 200 and got.content == first

    # A second version: numbered 2, becomes current; version 1 stays downloadable and unchanged.
    second = b"second, shorter"
    v2 = _upload(api, admin_headers, doc["id"], second, content_type="text/plain")
    assert v2["number"] == 2
    current = api.get(f"/api/v1/documents/{doc['id']}/download", headers=admin_headers).json()
    assert current["version_id"] == v2["id"] and current["content_type"] == "text/plain"
    assert httpx.get(current["url"]).content == second
    old = api.get(f"/api/v1/documents/{doc['id']}/versions/{version['id']}/download", headers=admin_headers)
    assert httpx.get(old.json()["url"]).content == first

    listed = api.get(
        f"/api/v1/documents/{doc['id']}/versions", params={"sort": "number"}, headers=admin_headers
    ).json()
    assert [v["number"] for v in listed["items"]] == [1, 2] and listed["total"] == 2
    assert (
        api.get(f"/api/v1/documents/{doc['id']}", headers=admin_headers).json()["content_type"]
        == "text/plain"
    )


def test_checksum_mismatch_is_rejected_for_good_and_never_becomes_current(
    api, admin_headers, settings, firm_admin
):
    doc = _document(api, admin_headers, _folder(api, admin_headers)["id"])
    declared = b"the engagement letter, signed"
    created = _declare(api, admin_headers, doc["id"], declared)
    _put(created, b"the engagement letter, forged")  # same size, other bytes
    vid = created["version"]["id"]

    rejected = _complete(api, admin_headers, doc["id"], vid)
    assert rejected.status_code == 422, rejected.text
    assert rejected.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in rejected.json()["errors"]] == ["checksum_sha256"]

    version = api.get(f"/api/v1/documents/{doc['id']}/versions/{vid}", headers=admin_headers).json()
    assert version["status"] == "rejected" and version["number"] is None and version["rejection_reason"]
    assert (
        api.get(f"/api/v1/documents/{doc['id']}", headers=admin_headers).json()["current_version_id"] is None
    )
    assert _complete(api, admin_headers, doc["id"], vid).status_code == 409
    assert (
        api.get(f"/api/v1/documents/{doc['id']}/versions/{vid}/download", headers=admin_headers).status_code
        == 409
    )
    assert api.get(f"/api/v1/documents/{doc['id']}/download", headers=admin_headers).status_code == 409
    # The forged object is gone from the bucket.
    from core_api.documents.storage import DocumentStorage, object_key

    storage = DocumentStorage.from_settings(settings)
    assert storage.head(object_key(firm_admin.firm_id, uuid.UUID(doc["id"]), uuid.UUID(vid))) is None

    # The next good upload is version 1: rejected uploads take no number.
    assert _upload(api, admin_headers, doc["id"], declared)["number"] == 1


def test_size_and_type_mismatches_are_rejected(api, admin_headers):
    doc = _document(api, admin_headers, _folder(api, admin_headers)["id"])
    created = _declare(api, admin_headers, doc["id"], b"0123456789")
    upload = created["upload"]
    # A client that ignores the signed headers (moto does not enforce them; S3 would refuse the PUT).
    httpx.put(upload["url"], content=b"01234", headers={**upload["headers"], "Content-Type": "text/html"})
    rejected = _complete(api, admin_headers, doc["id"], created["version"]["id"])
    assert rejected.status_code == 422
    assert {e["field"] for e in rejected.json()["errors"]} == {"size_bytes", "content_type"}


def test_completing_before_the_upload_keeps_the_version_pending(api, admin_headers):
    doc = _document(api, admin_headers, _folder(api, admin_headers)["id"])
    content = b"late bytes"
    created = _declare(api, admin_headers, doc["id"], content)
    vid = created["version"]["id"]
    early = _complete(api, admin_headers, doc["id"], vid)
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "upload"
    assert api.get(f"/api/v1/documents/{doc['id']}/versions/{vid}", headers=admin_headers).json()[
        "status"
    ] == ("pending")
    assert (
        api.get(f"/api/v1/documents/{doc['id']}/versions/{vid}/download", headers=admin_headers).status_code
        == 409
    )
    _put(created, content)
    done = _complete(api, admin_headers, doc["id"], vid)
    assert done.status_code == 200 and done.json()["number"] == 1
    again = _complete(api, admin_headers, doc["id"], vid)  # a retried complete is harmless
    assert again.status_code == 200 and again.json() == done.json()


def test_versions_are_immutable(api, admin_headers, app_connection, firm_admin):
    doc = _document(api, admin_headers, _folder(api, admin_headers)["id"])
    version = _upload(api, admin_headers, doc["id"], b"final")
    url = f"/api/v1/documents/{doc['id']}/versions/{version['id']}"
    assert api.patch(url, json={"size_bytes": 1}, headers=admin_headers).status_code == 405
    assert api.delete(url, headers=admin_headers).status_code == 405
    assert api.put(url, json={}, headers=admin_headers).status_code == 405
    # Even SQL as the API's role cannot rewrite a version's content or its number.
    set_firm(app_connection, firm_admin.firm_id)
    for assignment in ("checksum_sha256 = repeat('0', 64)", "number = 7", "s3_key = 'elsewhere'"):
        with pytest.raises(Exception, match="immutable"), app_connection.begin_nested():
            app_connection.execute(
                text(f"update app.document_versions set {assignment} where id = :id"), {"id": version["id"]}
            )
    set_firm(app_connection, None)
    assert api.get(url, headers=admin_headers).json() == version


def test_version_declarations_are_validated_and_nothing_is_written(api, admin_headers):
    doc = _document(api, admin_headers, _folder(api, admin_headers)["id"])
    url = f"/api/v1/documents/{doc['id']}/versions"
    bad = api.post(
        url,
        json={"size_bytes": -1, "checksum_sha256": "xyz", "content_type": "not a type", "extra": 1},
        headers=admin_headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "size_bytes",
        "checksum_sha256",
        "content_type",
        "extra",
    }
    too_big = api.post(
        url, json={"size_bytes": 6 * 1024**3, "checksum_sha256": "a" * 64}, headers=admin_headers
    )
    assert too_big.status_code == 422
    assert api.get(url, headers=admin_headers).json()["total"] == 0
    missing = api.post(
        f"/api/v1/documents/{uuid.uuid4()}/versions",
        json={"size_bytes": 1, "checksum_sha256": "a" * 64},
        headers=admin_headers,
    )
    assert missing.status_code == 404


def test_folder_tree_rules(api, admin_headers):
    clients = _folder(api, admin_headers, "Clients")
    acme = _folder(api, admin_headers, "Acme", parent_id=clients["id"])
    y2026 = _folder(api, admin_headers, "2026", parent_id=acme["id"])

    # Unique among siblings, case-insensitively; the same name elsewhere in the tree is fine.
    dup = api.post(
        "/api/v1/folders", json={"name": "acme", "parent_id": clients["id"]}, headers=admin_headers
    )
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "name"
    assert api.post("/api/v1/folders", json={"name": "CLIENTS"}, headers=admin_headers).status_code == 409
    _folder(api, admin_headers, "Acme")  # top level: a different parent
    _folder(api, admin_headers, "2026", parent_id=clients["id"])
    rename_clash = api.patch(
        f"/api/v1/folders/{y2026['id']}", json={"parent_id": clients["id"]}, headers=admin_headers
    )
    assert rename_clash.status_code == 409

    # No cycles: not under itself, not under its own subfolder; the parent must exist in this firm.
    for target in (acme["id"], y2026["id"]):
        cycle = api.patch(f"/api/v1/folders/{acme['id']}", json={"parent_id": target}, headers=admin_headers)
        assert cycle.status_code == 422 and cycle.json()["errors"][0]["field"] == "parent_id"
    ghost = api.post(
        "/api/v1/folders", json={"name": "X", "parent_id": str(uuid.uuid4())}, headers=admin_headers
    )
    assert ghost.status_code == 422 and ghost.json()["errors"][0]["field"] == "parent_id"
    moved = api.patch(f"/api/v1/folders/{y2026['id']}", json={"parent_id": None}, headers=admin_headers)
    assert moved.status_code == 200 and moved.json()["parent_id"] is None and moved.json()["version"] == 2

    # A folder with children cannot be deleted (folders or documents); empty, it can.
    assert api.delete(f"/api/v1/folders/{clients['id']}", headers=admin_headers).status_code == 409
    doc = _document(api, admin_headers, acme["id"])
    assert api.delete(f"/api/v1/folders/{acme['id']}", headers=admin_headers).status_code == 409
    assert api.delete(f"/api/v1/documents/{doc['id']}", headers=admin_headers).status_code == 204
    assert api.delete(f"/api/v1/folders/{acme['id']}", headers=admin_headers).status_code == 204
    assert api.get(f"/api/v1/folders/{acme['id']}", headers=admin_headers).status_code == 404
    # A deleted folder frees its name and can no longer hold new documents.
    _folder(api, admin_headers, "Acme", parent_id=clients["id"])
    orphan = api.post(
        "/api/v1/documents", json={"folder_id": acme["id"], "name": "x.pdf"}, headers=admin_headers
    )
    assert orphan.status_code == 422 and orphan.json()["errors"][0]["field"] == "folder_id"

    children = api.get("/api/v1/folders", params={"parent_id": clients["id"]}, headers=admin_headers).json()
    assert [f["name"] for f in children["items"]] == ["2026", "Acme"]
    roots = api.get("/api/v1/folders", params={"root": "true"}, headers=admin_headers).json()
    assert [f["name"] for f in roots["items"]] == ["2026", "Acme", "Clients"]


def test_folder_and_document_crud_filters_sort_pagination(api, admin_headers):
    client = api.post("/api/v1/clients", json={"name": "Acme"}, headers=admin_headers).json()
    folder = _folder(api, admin_headers, "Shared", client_id=client["id"])
    other = _folder(api, admin_headers, "Other")
    for name in ["delta.pdf", "Alpha.pdf", "charlie.xlsx", "bravo.pdf"]:
        _document(api, admin_headers, folder["id"], name=name, client_id=client["id"])
    _document(api, admin_headers, other["id"], name="echo.pdf")

    page = api.get(
        "/api/v1/documents",
        params={"folder_id": folder["id"], "limit": 2, "offset": 1, "sort": "name"},
        headers=admin_headers,
    ).json()
    assert page["total"] == 4 and [d["name"] for d in page["items"]] == ["bravo.pdf", "charlie.xlsx"]
    by_client = api.get("/api/v1/documents", params={"client_id": client["id"]}, headers=admin_headers).json()
    assert by_client["total"] == 4
    search = api.get("/api/v1/documents", params={"q": "PDF", "sort": "-name"}, headers=admin_headers).json()
    assert [d["name"] for d in search["items"]] == ["echo.pdf", "delta.pdf", "bravo.pdf", "Alpha.pdf"]
    folders = api.get("/api/v1/folders", params={"client_id": client["id"]}, headers=admin_headers).json()
    assert [f["name"] for f in folders["items"]] == ["Shared"]
    assert api.get("/api/v1/folders", params={"q": "oth"}, headers=admin_headers).json()["total"] == 1

    doc = page["items"][0]
    url = f"/api/v1/documents/{doc['id']}"
    fetched = api.get(url, headers=admin_headers)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'
    moved = api.patch(
        url,
        json={"folder_id": other["id"], "name": "bravo-final.pdf"},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    assert moved.status_code == 200 and moved.headers["etag"] == '"2"'
    assert moved.json()["folder_id"] == other["id"] and moved.json()["name"] == "bravo-final.pdf"
    stale = api.patch(url, json={"name": "x.pdf"}, headers={**admin_headers, "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "version"
    assert api.patch(url, json={"name": "x.pdf", "version": 1}, headers=admin_headers).status_code == 409
    assert api.delete(url, headers={**admin_headers, "If-Match": '"1"'}).status_code == 409
    assert api.delete(url, headers={**admin_headers, "If-Match": '"2"'}).status_code == 204
    assert api.get(url, headers=admin_headers).status_code == 404

    furl = f"/api/v1/folders/{other['id']}"
    renamed = api.patch(furl, json={"name": "Archive"}, headers={**admin_headers, "If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Archive"
    assert api.patch(furl, json={"name": "Again", "version": 1}, headers=admin_headers).status_code == 409


def test_bad_input_is_422_with_field_errors_and_nothing_is_written(
    api, admin_headers, other_firm, app_connection
):
    folder = _folder(api, admin_headers)
    foreign_client = uuid.uuid4()
    cases = [
        ("/api/v1/folders", {"name": "a/b"}, "name"),
        ("/api/v1/folders", {"name": ""}, "name"),
        ("/api/v1/folders", {"name": "X", "client_id": str(foreign_client)}, "client_id"),
        ("/api/v1/folders", {"name": "X", "firm_id": str(uuid.uuid4())}, "firm_id"),
        ("/api/v1/documents", {"folder_id": folder["id"]}, "name"),
        ("/api/v1/documents", {"folder_id": str(uuid.uuid4()), "name": "x.pdf"}, "folder_id"),
        (
            "/api/v1/documents",
            {"folder_id": folder["id"], "name": "x.pdf", "client_id": str(foreign_client)},
            "client_id",
        ),
        (
            "/api/v1/documents",
            {"folder_id": folder["id"], "name": "x.pdf", "content_type": "pdf"},
            "content_type",
        ),
    ]
    for path, body, field in cases:
        response = api.post(path, json=body, headers=admin_headers)
        assert response.status_code == 422, (path, body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, response.text
    null_name = api.patch(f"/api/v1/folders/{folder['id']}", json={"name": None}, headers=admin_headers)
    assert null_name.status_code == 422 and null_name.json()["errors"][0]["field"] == "name"
    both = api.get(
        "/api/v1/folders", params={"root": "true", "parent_id": folder["id"]}, headers=admin_headers
    )
    assert both.status_code == 422
    assert api.get("/api/v1/folders", headers=admin_headers).json()["total"] == 1
    assert api.get("/api/v1/documents", headers=admin_headers).json()["total"] == 0


def test_another_firm_gets_404_and_never_a_url(api, admin_headers, other_firm):
    folder = _folder(api, admin_headers)
    doc = _document(api, admin_headers, folder["id"])
    version = _upload(api, admin_headers, doc["id"], b"confidential")
    pending = _declare(api, admin_headers, doc["id"], b"pending")["version"]
    intruder = login(api, other_firm)

    d, v = doc["id"], version["id"]
    for method, path in [
        ("get", f"/api/v1/folders/{folder['id']}"),
        ("patch", f"/api/v1/folders/{folder['id']}"),
        ("delete", f"/api/v1/folders/{folder['id']}"),
        ("get", f"/api/v1/documents/{d}"),
        ("patch", f"/api/v1/documents/{d}"),
        ("delete", f"/api/v1/documents/{d}"),
        ("get", f"/api/v1/documents/{d}/download"),
        ("get", f"/api/v1/documents/{d}/versions"),
        ("post", f"/api/v1/documents/{d}/versions"),
        ("get", f"/api/v1/documents/{d}/versions/{v}"),
        ("get", f"/api/v1/documents/{d}/versions/{v}/download"),
        ("post", f"/api/v1/documents/{d}/versions/{v}/complete"),
        ("post", f"/api/v1/documents/{d}/versions/{pending['id']}/complete"),
    ]:
        kwargs = {}
        if method == "patch":
            kwargs["json"] = {"name": "pwned"}
        elif method == "post" and path.endswith("/versions"):
            kwargs["json"] = {"size_bytes": 1, "checksum_sha256": "a" * 64}
        response = getattr(api, method)(path, headers=intruder, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert "url" not in response.text

    # Its own document, the first firm's version id: still 404, no URL.
    own = _document(api, intruder, _folder(api, intruder)["id"])
    assert (
        api.get(f"/api/v1/documents/{own['id']}/versions/{v}/download", headers=intruder).status_code == 404
    )
    assert (
        api.post(f"/api/v1/documents/{own['id']}/versions/{v}/complete", headers=intruder).status_code == 404
    )
    # Nor can it file documents into the first firm's folder.
    smuggled = api.post("/api/v1/documents", json={"folder_id": folder["id"], "name": "x"}, headers=intruder)
    assert smuggled.status_code == 422
    assert api.get("/api/v1/documents", headers=intruder).json()["total"] == 1
    assert api.get("/api/v1/folders", headers=intruder).json()["total"] == 1
    # And the first firm's data is untouched.
    assert api.get(f"/api/v1/documents/{d}", headers=admin_headers).json()["name"] == doc["name"]


def test_readonly_role_reads_and_downloads_but_cannot_write(api, app_connection, admin_headers):
    reader = create_firm_user(app_connection, role=Role.readonly)
    headers = login(api, reader)
    assert api.get("/api/v1/folders", headers=headers).status_code == 200
    assert api.get("/api/v1/documents", headers=headers).status_code == 200
    denied = api.post("/api/v1/folders", json={"name": "Nope"}, headers=headers)
    assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"
    assert (
        api.post(
            f"/api/v1/documents/{uuid.uuid4()}/versions",
            json={"size_bytes": 1, "checksum_sha256": "a" * 64},
            headers=headers,
        ).status_code
        == 403
    )


def test_every_write_is_audited(api, admin_headers, app_connection, firm_admin):
    folder = _folder(api, admin_headers)
    doc = _document(api, admin_headers, folder["id"])
    version = _upload(api, admin_headers, doc["id"], b"audited")
    set_firm(app_connection, firm_admin.firm_id)
    rows = app_connection.execute(
        text(
            "select entity, action, entity_id from app.audit_log "
            "where entity in ('folder', 'document', 'document_version') order by id"
        )
    ).all()
    set_firm(app_connection, None)
    assert ("folder", "create", folder["id"]) in rows
    assert ("document", "create", doc["id"]) in rows
    assert ("document", "update", doc["id"]) in rows  # became current
    assert ("document_version", "create", version["id"]) in rows
    assert ("document_version", "update", version["id"]) in rows  # pending → available


def test_dev_start_up_creates_a_missing_bucket(s3, monkeypatch):
    from fastapi.testclient import TestClient

    from core_api.app import create_app
    from core_api.documents.storage import DocumentStorage
    from core_api.settings import get_settings

    bucket = f"firmsync-startup-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FIRMSYNC_S3_BUCKET", bucket)
    monkeypatch.setenv("FIRMSYNC_S3_CREATE_BUCKET", "true")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        storage = DocumentStorage.from_settings(settings)
        assert storage.ensure_bucket(settings.s3_region) is True  # missing before: created by this call…
        storage.client.delete_bucket(Bucket=bucket)
        with TestClient(create_app(settings)):
            assert storage.ensure_bucket(settings.s3_region) is False  # …and by the app's start-up
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
