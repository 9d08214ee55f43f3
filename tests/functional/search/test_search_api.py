"""`GET /api/v1/search`: documented in OpenAPI, JSON in every case, and fuzzed by schemathesis."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings


def test_the_api_answers_like_the_page(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "pasipoti", "taasisi": "uhamiaji"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] >= 1
    assert body["exact"] is True
    first = body["hits"][0]
    assert first["url"] == f"/huduma/{first['id']}"
    assert first["institution"] == "uhamiaji"
    assert "<mark>" in first["highlights"]["title_sw"]
    assert body["facets"]["institution"] == {"uhamiaji": body["total"]}


def test_bad_parameters_get_json_400(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"ukurasa": "0"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "ukurasa" in response.json()["detail"]


def test_only_the_api_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert list(paths) == ["/api/v1/search"]
    parameters = {p["name"] for p in paths["/api/v1/search"]["get"]["parameters"]}
    assert parameters == {"q", "taasisi", "kundi", "tukio", "hadhira", "njia", "panga", "ukurasa"}


def test_the_api_survives_fuzzing(app: FastAPI) -> None:
    """Generated requests, valid and invalid, get a documented answer: never a 500."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)["/api/v1/search"]["GET"]

    @given(case=operation.as_strategy())
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call()
        assert response.status_code in (200, 400), response.text
        case.validate_response(response)

    check()
