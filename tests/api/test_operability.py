"""Operability of the API: docs that work offline, Prometheus metrics, and feature flags (real app, real database)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.core.metrics import LATENCY_BUCKETS
from api.main import create_app
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import TEST_SECRET, Auth

URL_PATTERN = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


class AssetLinks(HTMLParser):
    """Every src/href of a page, and the spec-url of ReDoc's element."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]


def outside_urls(text: str) -> list[str]:
    """Absolute URLs (http, https or scheme-relative) in ``text``: any of them would leave the app."""
    return URL_PATTERN.findall(text)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_app_itself(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert outside_urls(html) == [], f"{page} names an outside host"
    parser = AssetLinks()
    parser.feed(html)
    assert len(parser.links) >= 2, parser.links  # the script, the favicon (and the stylesheet for Swagger UI)
    for link in parser.links:
        assert not urlsplit(link).netloc, link
        asset = client.get(link)
        assert asset.status_code == 200, link
        assert len(asset.content) > 100, link
    scripts = [link for link in parser.links if link.endswith(".js")]
    assert scripts and all(len(client.get(link).content) > 500_000 for link in scripts), "the whole bundle is served"
    # Swagger UI's validator badge would load an image from validator.swagger.io: it is switched off.
    if page == "/docs":
        assert '"validatorUrl": null' in html


def metric_samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format read by prometheus_client's own parser: sample name -> [(labels, value)]."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    """The value of the one sample ``name`` whose labels include ``labels`` (0 when there is none)."""
    found = [v for sample_labels, v in samples.get(name, []) if labels.items() <= sample_labels.items()]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else 0.0


def test_metrics_count_requests_per_route_template_and_status(client: TestClient, auth: Auth) -> None:
    goal_template = "/api/v1/goals/{goal_id}"
    before = metric_samples(client.get("/metrics").text)
    headers = auth(dataset.NY)
    missing = "00000000-0000-0000-0000-00000000beef"
    for _ in range(3):
        assert client.put(f"/api/v1/goals/{missing}", json={"name": "x"}, headers=headers).status_code == 404
    assert client.get("/api/v1/analytics/quick-stats", headers=headers).status_code == 200
    assert client.get("/api/v1/analytics/quick-stats").status_code == 401
    assert client.get(f"/api/v1/no-such-route/{missing}").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = metric_samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # The request count is the latency histogram's _count, per route template, method and status.
    count = "http_request_duration_seconds_count"
    # Three different goal ids, one route template: one series.
    assert grew(count, handler=goal_template, method="PUT", status="404") == 3
    assert not any(missing in labels.get("handler", "") for labels, _ in after[count])
    quick = "/api/v1/analytics/quick-stats"
    assert grew(count, handler=quick, method="GET", status="200") == 1
    assert grew(count, handler=quick, method="GET", status="401") == 1
    # A path no API route serves is counted under the front end's catch-all template (api/web.py answers 404
    # for /api paths), never under its raw path: no series per scanned URL.
    assert grew(count, handler="/{path}", method="GET", status="404") == 1
    # Each series made here took time, and every series' buckets are cumulative up to +Inf, which is its count.
    made = [(goal_template, "PUT", "404"), (quick, "GET", "200"), (quick, "GET", "401"), ("/{path}", "GET", "404")]
    for handler, method, status in made:
        assert grew("http_request_duration_seconds_sum", handler=handler, method=method, status=status) > 0
    series = {tuple(labels[k] for k in ("handler", "method", "status")) for labels, _ in after[count]}
    assert set(made) <= series
    for handler, method, status in series:
        buckets = [
            (labels["le"], v)
            for labels, v in after["http_request_duration_seconds_bucket"]
            if (labels["handler"], labels["method"], labels["status"]) == (handler, method, status)
        ]
        assert [le for le, _ in buckets] == [*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"]
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), (handler, status, buckets)
        assert counts[-1] == value(after, count, handler=handler, method=method, status=status) > 0
    # /metrics does not count itself.
    assert value(after, count, handler="/metrics") == 0


def test_metrics_report_the_pool_and_the_last_build(client: TestClient, warehouse_db: str) -> None:
    import psycopg

    samples = metric_samples(client.get("/metrics").text)
    assert value(samples, "pulse_api_pool_max_size") == 4  # api_settings' pool
    assert 1 <= value(samples, "pulse_api_pool_size") <= 4
    assert value(samples, "pulse_api_pool_requests_waiting") == 0
    with psycopg.connect(warehouse_db) as conn:
        row = conn.execute(
            "select extract(epoch from max(built_at))::float8, count(*) from analytics.mart_build_log"
        ).fetchone()
        assert row is not None
        last = conn.execute(
            "select extract(epoch from finished_at - built_at)::float8, duration_seconds, daily_rows, category_rows,"
            " task_date_rows, (select max(built_at) < max(finished_at) from analytics.mart_build_log)"
            " from analytics.mart_build_log order by built_at desc limit 1"
        ).fetchone()
        conn.execute("analyze analytics.analytics_daily_metrics")
        daily_rows = conn.execute("select count(*) from analytics.analytics_daily_metrics").fetchone()
    assert value(samples, "pulse_build_last_success_timestamp_seconds") == pytest.approx(row[0])
    assert value(samples, "pulse_builds_recorded") == row[1] >= 1
    # The build's duration: its dbt invocation's start to the on-run-end hook, recorded by dbt.
    assert last is not None and last[5], "the on-run-end hook recorded no end after the start"
    assert last[0] == pytest.approx(last[1]) and 0 < last[1] < 3600
    assert value(samples, "pulse_build_last_duration_seconds") == pytest.approx(last[1])
    assert value(samples, "pulse_build_last_rows", mart="analytics_daily_metrics") == last[2] > 0
    assert value(samples, "pulse_build_last_rows", mart="daily_category_metrics") == last[3]
    assert value(samples, "pulse_build_last_rows", mart="fct_task_dates") == last[4]
    samples = metric_samples(client.get("/metrics").text)
    assert daily_rows is not None and daily_rows[0] > 0
    assert value(samples, "pulse_mart_rows", mart="analytics_daily_metrics") == daily_rows[0]


@pytest.fixture
def production_client(warehouse_db: str) -> Iterator[TestClient]:
    """The app as production runs it with only the export released (PULSE_FEATURES=export)."""
    settings = Settings(env="production", jwt_secret=TEST_SECRET, features="export", api_pool_max_size=2)
    with TestClient(create_app(settings, warehouse_db)) as client:
        yield client


def production_auth(user_id: UUID) -> dict[str, str]:
    from api.core.security import mint_token

    settings = Settings(env="production", jwt_secret=TEST_SECRET)
    return {"Authorization": f"Bearer {mint_token(user_id, settings)}"}


def test_in_production_features_are_off_until_listed(production_client: TestClient) -> None:
    headers = production_auth(dataset.NY)
    listed = production_client.get("/api/v1/features", headers=headers)
    assert listed.status_code == 200
    assert listed.json() == {
        "features": [
            {"name": "goals", "enabled": False},
            {"name": "dashboard", "enabled": False},
            {"name": "export", "enabled": True},
        ]
    }
    assert production_client.get("/api/v1/goals", headers=headers).status_code == 404
    assert production_client.get("/api/v1/goals/progress", headers=headers).status_code == 404
    assert production_client.post("/api/v1/goals", json={}, headers=headers).status_code == 404
    assert production_client.get("/api/v1/analytics/dashboard", headers=headers).status_code == 404
    export = "/api/v1/analytics/export?format=csv&start_date=2025-03-01&end_date=2025-03-02"
    assert production_client.get(export, headers=headers).status_code == 200
    assert production_client.get("/api/v1/analytics/quick-stats", headers=headers).status_code == 200
    assert production_client.get("/api/v1/features").status_code == 401


def test_outside_production_every_feature_is_on(client: TestClient, auth: Auth) -> None:
    listed = client.get("/api/v1/features", headers=auth(dataset.NY)).json()["features"]
    assert [(f["name"], f["enabled"]) for f in listed] == [("goals", True), ("dashboard", True), ("export", True)]
    assert client.get("/api/v1/analytics/dashboard", headers=auth(dataset.NY)).status_code == 200
    assert client.get("/api/v1/goals", headers=auth(dataset.NY)).status_code == 200


def test_an_unknown_feature_name_stops_the_app_with_one_line() -> None:
    settings = Settings(env="production", jwt_secret=TEST_SECRET, features="goals, reports")
    with pytest.raises(ValueError, match=r"^PULSE_FEATURES: unknown feature\(s\) reports; known: goals, dashboard"):
        create_app(settings, "postgresql://unused@127.0.0.1:1/unused")


PUBLIC_MART_NAMES = ("analytics_daily_metrics", "daily_category_metrics", "goal_progress_snapshots", "invalid_slots")


def test_every_public_mart_and_column_has_its_description_as_a_comment(warehouse_db: str) -> None:
    import psycopg

    with psycopg.connect(warehouse_db) as conn:
        rows = conn.execute(
            "select c.relname, a.attname, col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class')"
            " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            " join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
            " where n.nspname = 'analytics' and c.relname = any(%s)",
            (list(PUBLIC_MART_NAMES),),
        ).fetchall()
    assert {row[0] for row in rows} == set(PUBLIC_MART_NAMES)
    assert [f"{table}.{column}" for table, column, comment, _ in rows if not (comment or "").strip()] == []
    assert [table for table, _, _, comment in rows if not (comment or "").strip()] == []


def test_pulse_docs_generates_a_site_that_loads_nothing_from_outside(warehouse_db: str, tmp_path: Path) -> None:
    import json
    import threading

    import httpx

    from pulse.docs import docs_server, generate_docs, outside_resources

    index = generate_docs(warehouse_db, tmp_path / "dbt_docs", progress=lambda line: None)
    html = index.read_text()
    assert outside_resources(html) == []
    assert "cloudfront" not in html  # dbt's tracker loader is gone, not only switched off
    manifest = json.loads((index.parent / "manifest.json").read_text())
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    assert "exposure.pulse.pulse_api" in manifest["exposures"]
    catalog = json.loads((index.parent / "catalog.json").read_text())
    assert "model.pulse.analytics_daily_metrics" in catalog["nodes"]

    server = docs_server(index.parent, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = httpx.get(f"{base}/", timeout=30)
        assert page.status_code == 200 and "dbt" in page.text
        assert httpx.get(f"{base}/manifest.json", timeout=30).status_code == 200
        assert httpx.get(f"{base}/catalog.json", timeout=30).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
