from core_api.openapi import ARTIFACT, render


def test_committed_openapi_document_matches_the_code():
    assert ARTIFACT.read_text() == render(), (
        "core_api/openapi.json is stale: run `python -m core_api.openapi`"
    )


def test_contract_documents_problem_json_errors_and_the_sync_endpoint():
    import json

    spec = json.loads(ARTIFACT.read_text())
    sync = spec["paths"]["/api/v1/connections/{connection_id}/sync"]["post"]
    assert "202" in sync["responses"]
    assert "credentials" not in json.dumps(spec["components"]["schemas"]["ConnectionOut"])
