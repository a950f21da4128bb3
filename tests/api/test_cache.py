"""The response cache against the real database, real dbt builds and the real app (api/core/cache.py).

A database of this module's own (it changes source rows and builds again): the fixed dataset,
built as of now. Apps with the cache on are compared with an app with it off (the truth).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.core.cache import ResponseCache
from api.core.invalidation import APPLICATION_NAME
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import Auth, make_client

QUICK = "/api/v1/analytics/quick-stats"
DASHBOARD = "/api/v1/analytics/dashboard"
EXPORT = "/api/v1/analytics/export"
PROGRESS = "/api/v1/goals/progress"


def wait_until(condition: Callable[[], bool], seconds: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.02)


def cache_of(app: FastAPI) -> ResponseCache:
    cache: ResponseCache = app.state.response_cache
    return cache


@pytest.fixture(scope="module")
def cache_db(pulse_db: str) -> str:
    """This module's database: the dataset and the marts built as of now."""
    from pulse.dbt import build_warehouse

    dataset.load(pulse_db)
    build_warehouse(pulse_db, as_of=datetime.now(UTC), progress=None)
    return pulse_db


@pytest.fixture
def apps(api_settings: Settings, cache_db: str) -> Iterator[list[tuple[FastAPI, TestClient]]]:
    """Two instances of the app with the cache on (listening) and a third with it off, on one database."""
    on = api_settings.model_copy(update={"api_cache_enabled": True})
    off = api_settings.model_copy(update={"api_cache_enabled": False})
    made = [make_client(on, cache_db), make_client(on, cache_db), make_client(off, cache_db)]
    for _, client in made:
        client.__enter__()
    try:
        for app, _ in made[:2]:
            wait_until(lambda app=app: cache_of(app).active, what="the cache listener")  # type: ignore[misc]
        assert not cache_of(made[2][0]).active
        yield made
    finally:
        for _, client in made:
            client.__exit__(None, None, None)


def get(client: TestClient, auth: Auth, user: uuid.UUID, url: str, **params: Any) -> Any:
    response = client.get(url, params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    if url == EXPORT:
        return response.headers["etag"]
    return response.json()


def test_a_range_and_the_dates_it_means_share_an_entry_answered_without_the_database(
    apps: list[tuple[FastAPI, TestClient]], auth: Auth
) -> None:
    (app, client), _, (_, truth) = apps
    cache = cache_of(app)
    today = dataset.ny_local_today()
    week = {"start_date": str(today - timedelta(days=6)), "end_date": str(today)}
    first = client.get(QUICK, params={"date_range": "7d"}, headers=auth(dataset.NY))
    hits = cache.hits
    explicit = client.get(QUICK, params=week, headers=auth(dataset.NY))
    assert cache.hits == hits + 1
    assert explicit.json() == first.json() == truth.get(QUICK, params=week, headers=auth(dataset.NY)).json()
    assert first.json()["range"] == week
    # A warm read and its If-None-Match need no database: the app has no pool for a moment.
    pool = app.state.pool
    app.state.pool = None
    try:
        again = client.get(QUICK, params={"date_range": "7d"}, headers=auth(dataset.NY))
        assert again.status_code == 200 and again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["x-data-as-of"] == first.headers["x-data-as-of"]
        unchanged = client.get(
            QUICK, params={"date_range": "7d"}, headers={**auth(dataset.NY), "If-None-Match": first.headers["etag"]}
        )
        assert unchanged.status_code == 304
    finally:
        app.state.pool = pool


def test_a_build_drops_exactly_the_entries_of_its_days_in_every_instance(
    apps: list[tuple[FastAPI, TestClient]], auth: Auth, cache_db: str
) -> None:
    from pulse.dbt import build_warehouse

    today = dataset.ny_local_today()
    yesterday = today - timedelta(days=1)
    reads: dict[str, tuple[str, dict[str, str]]] = {
        "recent": (QUICK, {"date_range": "7d"}),
        "old": (QUICK, {"start_date": "2025-03-03", "end_date": "2025-03-09"}),
        "old dashboard": (DASHBOARD, {"period": "weekly", "start_date": "2025-03-05"}),
        "old progress": (PROGRESS, {"period": "weekly", "start_date": "2025-03-03"}),
        "old export": (EXPORT, {"start_date": "2025-03-01", "end_date": "2025-03-31"}),
        "recent export": (EXPORT, {"start_date": str(yesterday), "end_date": str(today)}),
    }
    instances = [apps[0], apps[1]]
    before = {name: get(apps[2][1], auth, dataset.NY, url, **params) for name, (url, params) in reads.items()}
    for app, client in instances:
        for url, params in reads.values():
            get(client, auth, dataset.NY, url, **params)
        hits = cache_of(app).hits
        assert {name: get(client, auth, dataset.NY, url, **p) for name, (url, p) in reads.items()} == before
        assert cache_of(app).hits == hits + len(reads)

    # 45 more minutes yesterday (New York time), then a build of yesterday and today.
    start = datetime.combine(yesterday, datetime.min.time(), dataset.NY_ZONE) + timedelta(hours=10)
    slot = {"start": start.isoformat(), "end": (start + timedelta(minutes=45)).isoformat()}
    with psycopg.connect(cache_db, autocommit=True) as conn:
        conn.execute(
            "insert into app.tasks (task_id, user_id, title, status, scheduled_slots) values (%s, %s, %s, %s, %s)",
            (uuid.uuid4(), dataset.NY, "cache test", "scheduled", json.dumps([slot])),
        )
    generations = [cache_of(app).generation for app, _ in instances]
    build_warehouse(cache_db, start=yesterday, end=today + timedelta(days=1), as_of=datetime.now(UTC), progress=None)
    for (app, _), generation in zip(instances, generations, strict=True):
        wait_until(lambda app=app, g=generation: cache_of(app).generation > g, what="the build's NOTIFY")  # type: ignore[misc]

    after = {name: get(apps[2][1], auth, dataset.NY, url, **params) for name, (url, params) in reads.items()}
    assert after["recent"]["total_scheduled_minutes"] == before["recent"]["total_scheduled_minutes"] + 45
    assert after["recent export"] != before["recent export"]
    changed = {"recent", "recent export"}
    assert {name for name in reads if after[name] != before[name]} == changed
    for app, client in instances:
        cache = cache_of(app)
        hits, misses = cache.hits, cache.misses
        for name, (url, params) in reads.items():
            assert get(client, auth, dataset.NY, url, **params) == after[name], name
        # Only the entries of the built days were dropped: the others are still served from memory.
        assert (cache.hits - hits, cache.misses - misses) == (len(reads) - len(changed), len(changed))


def test_a_goal_change_is_visible_on_the_next_read_in_every_instance(
    apps: list[tuple[FastAPI, TestClient]], auth: Auth
) -> None:
    (app, client), (_, other_client), (_, truth) = apps
    today = dataset.ny_local_today()
    reads = [(PROGRESS, {"period": "monthly"}), (DASHBOARD, {"period": "monthly"})]
    for c in (client, other_client):
        for url, params in reads:
            get(c, auth, dataset.NY, url, **params)
    quick = get(client, auth, dataset.NY, QUICK, date_range="30d")

    created = client.post(
        "/api/v1/goals",
        json={"name": "zz cached", "target_type": "minutes", "target_value": 90, "time_period": "monthly"},
        headers=auth(dataset.NY),
    )
    assert created.status_code == 201
    goal_id = created.json()["goal_id"]
    try:
        # This instance dropped the user's goal entries before answering the POST.
        progress = get(client, auth, dataset.NY, PROGRESS, period="monthly")
        card = next(card for card in progress if card["goal_id"] == goal_id)
        assert card["period"]["start"] == str(today.replace(day=1)) and card["target_value"] == 90
        assert progress == get(truth, auth, dataset.NY, PROGRESS, period="monthly")
        dashboard = get(client, auth, dataset.NY, DASHBOARD, period="monthly")
        assert goal_id in {card["goal_id"] for card in dashboard["goals"]}
        # Entries without goals stay.
        hits = cache_of(app).hits
        assert get(client, auth, dataset.NY, QUICK, date_range="30d") == quick
        assert cache_of(app).hits == hits + 1
        # The other instance heard the NOTIFY of the commit.
        wait_until(
            lambda: goal_id in {c["goal_id"] for c in get(other_client, auth, dataset.NY, PROGRESS, period="monthly")},
            seconds=10,
            what="the other instance to see the new goal",
        )

        changed = client.put(f"/api/v1/goals/{goal_id}", json={"target_value": 120}, headers=auth(dataset.NY))
        assert changed.status_code == 200
        card = next(c for c in get(client, auth, dataset.NY, PROGRESS, period="monthly") if c["goal_id"] == goal_id)
        assert card["target_value"] == 120
    finally:
        assert client.delete(f"/api/v1/goals/{goal_id}", headers=auth(dataset.NY)).status_code == 204
    assert goal_id not in {c["goal_id"] for c in get(client, auth, dataset.NY, PROGRESS, period="monthly")}
    assert goal_id not in {c["goal_id"] for c in get(client, auth, dataset.NY, DASHBOARD, period="monthly")["goals"]}
    assert get(client, auth, dataset.NY, PROGRESS, period="monthly") == get(
        truth, auth, dataset.NY, PROGRESS, period="monthly"
    )


def test_with_the_listener_killed_reads_stay_right(
    apps: list[tuple[FastAPI, TestClient]], auth: Auth, cache_db: str
) -> None:
    (app, client), _, (_, truth) = apps
    cache = cache_of(app)
    goal = dataset.goal_id(dataset.NY, "weekly tasks")

    def target_value() -> int:
        cards = get(client, auth, dataset.NY, PROGRESS, period="weekly", start_date="2025-03-03")
        value: int = next(card["target_value"] for card in cards if card["goal_id"] == str(goal))
        return value

    def set_target(conn: psycopg.Connection[Any], value: int) -> None:
        # Straight into the source, announced to nobody: what a missed notification leaves behind.
        conn.execute("update app.goals set target_value = %s where goal_id = %s", (value, goal))

    with psycopg.connect(cache_db, autocommit=True) as conn:
        original = target_value()
        set_target(conn, original + 1)
        # The control: a cached response does not see an unannounced change.
        assert target_value() == original
        try:
            cache.listener_retry_seconds = 3.0
            killed = conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where application_name = %s and datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchall()
            assert len(killed) == 2 and all(row[0] for row in killed)  # both instances' listeners
            wait_until(lambda: not cache.active, seconds=5, what="the cache to notice its listener is gone")
            # Bypassed: reads come from the database, nothing is stored.
            assert target_value() == original + 1
            set_target(conn, original + 2)
            hits = cache.hits
            assert target_value() == original + 2 and cache.hits == hits and len(cache.responses) == 0
            wait_until(lambda: cache.active, seconds=15, what="the listener to reconnect")
            assert target_value() == original + 2  # the cache came back empty
            assert target_value() == original + 2 and cache.hits == hits + 1
        finally:
            cache.listener_retry_seconds = 1.0
            set_target(conn, original)
    wait_until(lambda: cache.active, seconds=15, what="the listener")
    assert get(truth, auth, dataset.NY, PROGRESS, period="weekly", start_date="2025-03-03")


def test_a_range_ending_today_moves_at_the_users_local_midnight(
    apps: list[tuple[FastAPI, TestClient]], auth: Auth, cache_db: str
) -> None:
    (app, client), _, (_, truth) = apps
    cache = cache_of(app)
    user = dataset.EMPTY
    # Pago Pago (UTC-11) and Kiritimati (UTC+14) are 25 hours apart: never on the same date.
    with psycopg.connect(cache_db, autocommit=True) as conn:
        conn.execute("update app.users set timezone = 'Pacific/Pago_Pago' where user_id = %s", (user,))
    try:
        body = get(client, auth, user, QUICK, date_range="7d")
        today = cache.todays.get(user)
        assert today is not None and body["range"]["end_date"] == str(today.local_today)
        midnight = datetime.combine(
            today.local_today + timedelta(days=1), datetime.min.time(), ZoneInfo("Pacific/Pago_Pago")
        )
        assert today.valid_until == midnight.timestamp()

        # Time passes to one second before that midnight (in the database's time), then past it; the
        # user's date moves on in the database too (here: the user now lives a day ahead).
        real_clock = cache.clock
        offset = today.valid_until - 1 - cache.now()
        cache.clock = lambda: real_clock() + offset
        with psycopg.connect(cache_db, autocommit=True) as conn:
            conn.execute("update app.users set timezone = 'Pacific/Kiritimati' where user_id = %s", (user,))
        hits = cache.hits
        assert get(client, auth, user, QUICK, date_range="7d") == body  # still yesterday's day there
        assert cache.hits == hits + 1
        cache.clock = lambda: real_clock() + offset + 2
        moved = get(client, auth, user, QUICK, date_range="7d")
        assert date.fromisoformat(moved["range"]["end_date"]) > today.local_today
        assert moved == get(truth, auth, user, QUICK, date_range="7d")
        cache.clock = real_clock
    finally:
        with psycopg.connect(cache_db, autocommit=True) as conn:
            conn.execute("update app.users set timezone = 'Europe/Berlin' where user_id = %s", (user,))


def test_the_size_limit_evicts_the_least_recently_used(api_settings: Settings, cache_db: str, auth: Auth) -> None:
    settings = api_settings.model_copy(update={"api_cache_max_entries": 2})
    app, client = make_client(settings, cache_db)
    with client:
        cache = cache_of(app)
        wait_until(lambda: cache.active, what="the cache listener")
        for start in ("2025-03-01", "2025-03-02", "2025-03-01", "2025-03-03"):
            get(client, auth, dataset.NY, QUICK, start_date=start, end_date="2025-03-09")
        assert (cache.hits, cache.misses, cache.evictions) == (1, 3, 1)
        assert [key[3] for key in cache.responses.entries] == [date(2025, 3, 1), date(2025, 3, 3)]


@pytest.mark.parametrize("payload", ["{}", "not json", '{"start_date": "someday", "end_date": "2025-03-09"}'])
def test_a_payload_that_does_not_say_what_changed_drops_everything(
    apps: list[tuple[FastAPI, TestClient]], auth: Auth, cache_db: str, payload: str
) -> None:
    (app, client), _, _ = apps
    cache = cache_of(app)
    get(client, auth, dataset.NY, QUICK, start_date="2025-03-03", end_date="2025-03-09")
    get(client, auth, dataset.KTM, PROGRESS, period="weekly", start_date="2025-03-03")
    assert len(cache.responses) == 2
    generation = cache.generation
    with psycopg.connect(cache_db, autocommit=True) as conn:
        conn.execute("select pg_notify('pulse_marts_changed', %s)", (payload,))
    wait_until(lambda: cache.generation > generation, seconds=10, what="the NOTIFY")
    assert len(cache.responses) == 0 and len(cache.todays) == 0
