"""The built front end served at / by the real app: files, the index.html fallback of client routes, the API
and docs untouched, the page that says how to build it, and the CORS setting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from pulse.settings import Settings

# No request below reaches the database: the pool connects lazily, in the background.
NO_DATABASE = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"
INDEX = "<!doctype html><title>Pulse</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('pulse')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def client_for(api_settings: Settings, **changes: object) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings.model_copy(update=changes), NO_DATABASE)) as client:
        yield client


@pytest.fixture
def web(api_settings: Settings, dist: Path) -> Iterator[TestClient]:
    yield from client_for(api_settings, web_dist_dir=dist)


def test_the_app_and_its_client_routes_get_index_html(web: TestClient) -> None:
    for path in ("/", "/goals", "/goals?x=1", "/some/deep/route"):
        response = web.get(path)
        assert response.status_code == 200 and response.text == INDEX, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"


def test_built_files_are_served_as_they_are(web: TestClient) -> None:
    asset = web.get("/assets/index-abc123.js")
    assert asset.status_code == 200 and asset.text == "console.log('pulse')"
    assert "immutable" in asset.headers["cache-control"]
    assert web.get("/favicon.svg").text == "<svg/>"
    assert web.get("/assets/missing.js").status_code == 404
    assert web.get("/../pyproject.toml").text == INDEX  # never a file outside dist


def test_api_docs_and_probes_are_untouched(web: TestClient) -> None:
    assert web.get("/healthz").json()["status"] == "ok"
    assert web.get("/openapi.json").json()["info"]["title"] == "Pulse API"
    assert "swagger" in web.get("/docs").text.lower()
    assert "redoc" in web.get("/redoc").text.lower()
    assert web.get("/api/v1/goals").status_code == 401
    unknown = web.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not Found"}
    assert "/{path}" not in web.get("/openapi.json").json()["paths"]


def test_without_a_build_the_root_says_how_to_build_it(api_settings: Settings, tmp_path: Path) -> None:
    for client in client_for(api_settings, web_dist_dir=tmp_path / "missing"):
        root = client.get("/")
        assert root.status_code == 503
        assert "npm run build" in root.text and "make demo" in root.text
        assert client.get("/healthz").status_code == 200


def test_cors_allows_only_the_listed_origins(api_settings: Settings, dist: Path) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"}  # fmt: skip
    for client in client_for(api_settings, web_dist_dir=dist):
        assert "access-control-allow-origin" not in client.options("/api/v1/goals", headers=preflight).headers
    for client in client_for(api_settings, web_dist_dir=dist, cors_origins=["https://app.example.com"]):
        allowed = client.options("/api/v1/goals", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = client.options("/api/v1/goals", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.delenv("PULSE_CORS_ORIGINS")
    assert Settings().cors_origins == []
