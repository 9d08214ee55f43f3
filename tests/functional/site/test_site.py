"""Home, help, statements, health, headers, static files and the error pages of no domain."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.config import Settings
from tests.page_client import PageClient, check_page_contract


def test_home_offers_life_events_categories_and_most_used(pages: PageClient) -> None:
    page = pages.get("/?lang=en")
    assert page.h1 == "Government services in one place"
    assert len(page.tree.findall(".//a[@href]")) > 30
    life_events = [
        a.get("href") for a in page.tree.iter("a") if (a.get("href") or "").startswith("/matukio/")
    ]
    categories = [
        a.get("href") for a in page.tree.iter("a") if (a.get("href") or "").startswith("/makundi/")
    ]
    services = [
        a.get("href") for a in page.tree.iter("a") if (a.get("href") or "").startswith("/huduma/")
    ]
    assert len(life_events) >= 10
    assert len(categories) >= 10
    assert len(services) == 8


@pytest.mark.parametrize("path", ["/msaada", "/ufikivu", "/faragha"])
@pytest.mark.parametrize("lang", ["sw", "en"])
def test_statement_pages(pages: PageClient, path: str, lang: str) -> None:
    pages.get(f"{path}?lang={lang}")


def test_health_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_security_headers_and_a_fresh_nonce_per_response(client: TestClient) -> None:
    first, second = client.get("/"), client.get("/")
    policy = first.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in first.headers  # only in production
    nonces = [
        re.search(r"nonce-([^']+)", r.headers["content-security-policy"]) for r in (first, second)
    ]
    assert nonces[0]
    assert nonces[1]
    assert nonces[0].group(1) != nonces[1].group(1)


def test_static_files_are_fingerprinted_and_cached_for_a_year(client: TestClient) -> None:
    html = client.get("/").text
    match = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
    assert match, "the stylesheet link should carry a content hash"
    response = client.get(match.group(1), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert client.get("/static/css/site.css").status_code == 404  # only hashed names are served


def test_pages_are_compressed(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


@pytest.fixture
def failing_app(settings: Settings, engine: object) -> FastAPI:
    app = create_app(settings)

    @app.get("/kosa")
    def failure() -> None:
        raise RuntimeError("a deliberate failure for the test")

    return app


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("sw", "Samahani, kuna tatizo kwenye huduma"),
        ("en", "Sorry, there is a problem with the service"),
    ],
)
def test_unexpected_errors_give_a_500_page_without_a_traceback(
    failing_app: FastAPI, lang: str, heading: str, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get(f"/kosa?lang={lang}")
    assert response.status_code == 500
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert "content-security-policy" in response.headers
    tree = check_page_contract(response)
    assert "".join(tree.find(".//h1").itertext()).strip() == heading  # type: ignore[union-attr]
    assert "a deliberate failure" in caplog.text  # the operator still sees it in the log
