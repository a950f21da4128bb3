"""The cache's fast path (api/core/cached_hits.py): a repeated request answered before FastAPI routes it.

Against the real app and the built warehouse. To show that the fast path (and not the route) answers,
the app's routes are taken away for a moment: a request the cache knows exactly still gets the route's
own answer, byte for byte and header for header, while anything else reaches the (now empty) router.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from api.core.cache import ResponseCache
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import Auth, make_client, wait_for_cache_listener

QUICK = "/api/v1/analytics/quick-stats"
DASHBOARD = "/api/v1/analytics/dashboard"
PROGRESS = "/api/v1/goals/progress"
# Headers a cached answer must carry exactly as the route sent them.
SAME_HEADERS = ("content-type", "content-length", "etag", "cache-control", "last-modified", "x-data-as-of")


@pytest.fixture(scope="module")
def cached_app(api_settings: Settings, warehouse_db: str) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app with the cache on, its listener connected."""
    app, client = make_client(api_settings.model_copy(update={"api_cache_enabled": True}), warehouse_db)
    with client:
        wait_for_cache_listener(app)
        yield app, client


class RoutesTakenAway:
    """While inside, the app's router has no routes: only the fast path can answer a 200."""

    def __init__(self, app: FastAPI) -> None:
        self.routes = app.router.routes
        self.saved: list[Any] = []

    def __enter__(self) -> None:
        self.saved = list(self.routes)
        self.routes.clear()

    def __exit__(self, *exc: object) -> None:
        self.routes[:] = self.saved


READS = [
    (QUICK, {"date_range": "7d"}),
    (QUICK, {"start_date": "2025-03-03", "end_date": "2025-03-09", "view_context": "tasks"}),
    (DASHBOARD, {"period": "monthly"}),
    (DASHBOARD, {"period": "weekly", "start_date": "2025-03-05"}),
    (PROGRESS, {"period": "weekly"}),
]


@pytest.mark.parametrize(("url", "params"), READS)
def test_a_repeated_read_is_answered_as_the_route_answered_it(
    cached_app: tuple[FastAPI, TestClient], auth: Auth, url: str, params: dict[str, str]
) -> None:
    app, client = cached_app
    cache: ResponseCache = app.state.response_cache
    first = client.get(url, params=params, headers=auth(dataset.NY))
    assert first.status_code == 200, first.text
    hits = cache.hits
    with RoutesTakenAway(app):
        again = client.get(url, params=params, headers=auth(dataset.NY))
        holding = {**auth(dataset.NY), "If-None-Match": first.headers["etag"]}
        conditional = client.get(url, params=params, headers=holding)
        # Not known exactly: another user, another query string, no token, a bad one.
        unknown = [
            client.get(url, params=params, headers=auth(dataset.KTM)),
            client.get(url, params={**params, "unused": "1"}, headers=auth(dataset.NY)),
            client.get(url, params=params),
            client.get(url, params=params, headers={"Authorization": "Bearer not.a.token"}),
        ]
    assert again.status_code == 200 and again.content == first.content
    for name in SAME_HEADERS:
        assert again.headers.get(name) == first.headers.get(name), name
    assert conditional.status_code == 304 and conditional.content == b""
    for name in ("etag", "cache-control", "last-modified", "x-data-as-of"):
        assert conditional.headers.get(name) == first.headers.get(name), name
    assert [response.status_code for response in unknown] == [404, 404, 404, 404]  # they reached the router
    assert cache.hits == hits + 2


def test_the_fast_path_refuses_nothing_itself_and_counts_under_the_route(
    cached_app: tuple[FastAPI, TestClient], auth: Auth
) -> None:
    app, client = cached_app
    params = {"start_date": "2025-03-03", "end_date": "2025-03-09"}
    assert client.get(QUICK, params=params, headers=auth(dataset.KTM)).status_code == 200
    labels = {"handler": QUICK, "method": "GET", "status": "200"}
    before = REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0
    with RoutesTakenAway(app):
        assert client.get(QUICK, params=params, headers=auth(dataset.KTM)).status_code == 200
    assert REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) == before + 1
    # A bad token on a path the fast path knows reaches the route: its 401 and reason, as ever.
    refused = client.get(QUICK, params=params, headers={"Authorization": "Bearer not.a.token"})
    assert refused.status_code == 401 and refused.json()["detail"].startswith("invalid token")
    # So does bad input: the 422 names the field.
    invalid = client.get(QUICK, params={"date_range": "8d"}, headers=auth(dataset.KTM))
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["query", "date_range"]


def test_each_user_gets_their_own_figures(cached_app: tuple[FastAPI, TestClient], auth: Auth) -> None:
    app, client = cached_app
    params = {"start_date": "2025-03-03", "end_date": "2025-03-09"}
    firsts = {user: client.get(QUICK, params=params, headers=auth(user)).json() for user in (dataset.NY, dataset.KTM)}
    assert firsts[dataset.NY] != firsts[dataset.KTM]
    with RoutesTakenAway(app):
        for user, body in firsts.items():
            assert client.get(QUICK, params=params, headers=auth(user)).json() == body


def test_a_dropped_entry_or_a_suspended_cache_goes_to_the_route(
    cached_app: tuple[FastAPI, TestClient], auth: Auth
) -> None:
    app, client = cached_app
    cache: ResponseCache = app.state.response_cache
    params = {"period": "weekly", "start_date": "2025-03-05"}
    assert client.get(PROGRESS, params=params, headers=auth(dataset.NY)).status_code == 200
    cache.drop_user_goals(dataset.NY)  # what a goal write does
    with RoutesTakenAway(app):
        assert client.get(PROGRESS, params=params, headers=auth(dataset.NY)).status_code == 404
    assert client.get(PROGRESS, params=params, headers=auth(dataset.NY)).status_code == 200  # cached again
    cache.ready = False  # what a lost listener does (without clearing, to show the flag alone is obeyed)
    try:
        with RoutesTakenAway(app):
            assert client.get(PROGRESS, params=params, headers=auth(dataset.NY)).status_code == 404
    finally:
        cache.ready = True
