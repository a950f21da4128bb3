"""Quick stats, dashboard, goal progress and CSV export against figures computed by hand (tests/api/dataset.py)."""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api import dataset
from tests.api.conftest import Auth

QUICK = "/api/v1/analytics/quick-stats"
DASHBOARD = "/api/v1/analytics/dashboard"
EXPORT = "/api/v1/analytics/export"
PROGRESS = "/api/v1/goals/progress"

WORK, HEALTH, STUDY = str(dataset.WORK), str(dataset.HEALTH), str(dataset.STUDY)
NY_WEEK_TOTALS = {
    "total_scheduled_minutes": 360,
    "completed_tasks_count": 4,
    "focus_minutes": 90,
    "focus_time_utilization": 90 / 270,
    "top_category": {"category_id": HEALTH, "name": "Health", "minutes": 150},  # ties Work at 150: name decides
    "streak_days_completed": 1,
    "completion_rate": 4 / 5,
}
NY_WEEK_TRENDS = [  # date, scheduled, focus, completed
    ("2025-03-03", 150, 60, 1),
    ("2025-03-04", 60, 0, 0),
    ("2025-03-05", 60, 30, 1),
    ("2025-03-06", 30, 0, 1),
    ("2025-03-07", 0, 0, 0),
    ("2025-03-08", 0, 0, 0),
    ("2025-03-09", 60, 0, 1),
]


def same(actual: Any, expected: Any) -> bool:
    """Equal, with floats compared to 1e-9 (JSON numbers of ratios), through nested dicts and lists."""
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, int | float) and expected is not None and math.isclose(actual, expected, rel_tol=1e-9)
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(same, actual, expected))
    return bool(actual == expected)


def get_ok(client: TestClient, url: str, user: uuid.UUID, auth: Auth, **params: Any) -> Any:
    response = client.get(url, params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.headers["etag"]
    return response.json()


def totals_of(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in NY_WEEK_TOTALS}


def progress_cards(names: list[str]) -> list[dict[str, Any]]:
    """The hand-computed progress cards of NY's goals for the periods holding 2025-03-03, sorted by name."""
    cards = []
    for name in sorted(names):
        target_type, target_value, period, category = dataset.NY_GOALS[name]
        start, end, achieved, percent, status = dataset.NY_PROGRESS_2025_03_03[name]
        cards.append(
            {
                "goal_id": str(dataset.goal_id(dataset.NY, name)),
                "name": name,
                "target_type": target_type,
                "target_value": target_value,
                "time_period": period,
                "category_id": str(category) if category else None,
                "period": {"start": start, "end": end},
                "achieved_value": achieved,
                "percent_complete": percent,
                "status": status,
            }
        )
    return cards


def first_built_at(url: str) -> datetime:
    with psycopg.connect(url) as conn:
        row = conn.execute("select min(built_at) from analytics.mart_build_log").fetchone()
    assert row is not None and row[0] is not None
    built: datetime = row[0]
    return built


# Quick stats


def test_quick_stats_of_a_week_new_york(client: TestClient, auth: Auth, warehouse_db: str) -> None:
    body = get_ok(client, QUICK, dataset.NY, auth, start_date="2025-03-03", end_date="2025-03-09")
    assert body["range"] == {"start_date": "2025-03-03", "end_date": "2025-03-09"}
    assert same(totals_of(body), NY_WEEK_TOTALS)
    assert body["view_context"] == "calendar"
    assert datetime.fromisoformat(body["data_as_of"]) == first_built_at(warehouse_db)


def test_quick_stats_part_of_a_week_new_york(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, QUICK, dataset.NY, auth, start_date="2025-03-03", end_date="2025-03-06", view_context="tasks")
    assert body["view_context"] == "tasks"
    assert same(
        totals_of(body),
        {
            "total_scheduled_minutes": 300,
            "completed_tasks_count": 3,
            "focus_minutes": 90,
            "focus_time_utilization": 90 / 150,
            "top_category": {"category_id": HEALTH, "name": "Health", "minutes": 150},
            "streak_days_completed": 2,  # 06 and 05; 04 has none
            "completion_rate": 3 / 4,
        },
    )


def test_quick_stats_kathmandu(client: TestClient, auth: Auth) -> None:
    week = get_ok(client, QUICK, dataset.KTM, auth, start_date="2025-03-03", end_date="2025-03-09")
    assert same(
        totals_of(week),
        {
            "total_scheduled_minutes": 150,
            "completed_tasks_count": 2,
            "focus_minutes": 30,
            "focus_time_utilization": 1.0,
            "top_category": {"category_id": STUDY, "name": "Study", "minutes": 120},
            "streak_days_completed": 0,  # nothing completed on the 9th, and the 9th is not today
            "completion_rate": 2 / 3,
        },
    )
    two_days = get_ok(client, QUICK, dataset.KTM, auth, start_date="2025-03-04", end_date="2025-03-05")
    assert same(
        totals_of(two_days),
        {
            "total_scheduled_minutes": 135,
            "completed_tasks_count": 2,
            "focus_minutes": 30,
            "focus_time_utilization": 1.0,
            "top_category": {"category_id": STUDY, "name": "Study", "minutes": 105},
            "streak_days_completed": 2,
            "completion_rate": 2 / 3,
        },
    )
    one_day = get_ok(client, QUICK, dataset.KTM, auth, start_date="2025-03-03", end_date="2025-03-03")
    assert same(
        totals_of(one_day),
        {
            "total_scheduled_minutes": 15,
            "completed_tasks_count": 0,
            "focus_minutes": 0,
            "focus_time_utilization": None,
            "top_category": {"category_id": STUDY, "name": "Study", "minutes": 15},
            "streak_days_completed": 0,
            "completion_rate": None,
        },
    )


@pytest.mark.parametrize("date_range", ["7d", "30d", "90d", None])
def test_quick_stats_ending_today_counts_the_streak_from_yesterday(
    client: TestClient, auth: Auth, date_range: str | None
) -> None:
    params = {"date_range": date_range} if date_range else {}
    body = get_ok(client, QUICK, dataset.NY, auth, **params)
    today = dataset.ny_local_today()
    days = int((date_range or "7d")[:-1])
    assert body["range"] == {"start_date": str(today - timedelta(days=days - 1)), "end_date": str(today)}
    assert same(
        totals_of(body),
        {
            "total_scheduled_minutes": 90,
            "completed_tasks_count": 2,
            "focus_minutes": 0,
            "focus_time_utilization": None,
            "top_category": {"category_id": WORK, "name": "Work", "minutes": 60},
            "streak_days_completed": 2,  # today has nothing yet: yesterday and the day before
            "completion_rate": 1.0,
        },
    )


def test_streak_reaches_back_before_the_range(client: TestClient, auth: Auth) -> None:
    yesterday = dataset.ny_local_today() - timedelta(days=1)
    body = get_ok(client, QUICK, dataset.NY, auth, start_date=str(yesterday), end_date=str(yesterday))
    assert body["streak_days_completed"] == 2
    assert body["completed_tasks_count"] == 1


def test_quick_stats_of_a_user_without_data(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, QUICK, dataset.EMPTY, auth, date_range="30d")
    assert totals_of(body) == {
        "total_scheduled_minutes": 0,
        "completed_tasks_count": 0,
        "focus_minutes": 0,
        "focus_time_utilization": None,
        "top_category": None,
        "streak_days_completed": 0,
        "completion_rate": None,
    }


def test_a_user_with_an_unknown_time_zone_gets_utc_days_like_the_marts(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, QUICK, dataset.UNKNOWN_ZONE, auth, date_range="7d")
    today = datetime.now(UTC).date()
    assert body["range"] == {"start_date": str(today - timedelta(days=6)), "end_date": str(today)}
    dashboard = get_ok(client, DASHBOARD, dataset.UNKNOWN_ZONE, auth, period="monthly")
    assert dashboard["range"]["start_date"] == str(today.replace(day=1))


def test_uncategorized_can_be_the_top_category(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, QUICK, dataset.NY, auth, start_date="2025-03-05", end_date="2025-03-05")
    assert body["top_category"] == {"category_id": None, "name": "Uncategorized", "minutes": 60}


# Dashboard


def test_dashboard_week_new_york(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, DASHBOARD, dataset.NY, auth, period="weekly", start_date="2025-03-05")
    assert body["range"] == {"start_date": "2025-03-03", "end_date": "2025-03-09"}
    assert body["period"] == "weekly" and body["category_id"] is None
    assert same(body["totals"], NY_WEEK_TOTALS)
    assert same(
        body["category_distribution"],
        [
            {"category_id": HEALTH, "name": "Health", "minutes": 150, "share": 150 / 360},
            {"category_id": WORK, "name": "Work", "minutes": 150, "share": 150 / 360},
            {"category_id": None, "name": "Uncategorized", "minutes": 60, "share": 60 / 360},
        ],
    )
    assert sum(c["minutes"] for c in body["category_distribution"]) == body["totals"]["total_scheduled_minutes"]
    assert [
        (t["date"], t["scheduled_minutes"], t["focus_minutes"], t["completed_tasks_count"]) for t in body["trends"]
    ] == (NY_WEEK_TRENDS)
    assert same(body["goals"], progress_cards(["weekly minutes work", "weekly percentage work", "weekly tasks"]))


def test_dashboard_month_new_york(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, DASHBOARD, dataset.NY, auth, period="monthly", start_date="2025-03-31")
    assert body["range"] == {"start_date": "2025-03-01", "end_date": "2025-03-31"}
    assert same(body["totals"], {**NY_WEEK_TOTALS, "streak_days_completed": 0})
    trends = {t["date"]: t for t in body["trends"]}
    assert list(trends) == [str(date(2025, 3, d)) for d in range(1, 32)]
    for day, scheduled, focus, completed in NY_WEEK_TRENDS:
        assert (trends[day]["scheduled_minutes"], trends[day]["focus_minutes"]) == (scheduled, focus)
        assert trends[day]["completed_tasks_count"] == completed
    assert sum(t["scheduled_minutes"] for t in body["trends"]) == 360
    assert same(body["goals"], progress_cards(["monthly minutes", "monthly percentage health", "monthly tasks work"]))


def test_dashboard_restricted_to_one_category(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, DASHBOARD, dataset.NY, auth, period="weekly", start_date="2025-03-03", category_id=WORK)
    assert body["category_id"] == WORK
    assert same(
        body["totals"],
        {
            "total_scheduled_minutes": 150,
            "completed_tasks_count": 2,
            "focus_minutes": 60,
            "focus_time_utilization": 60 / 270,  # the category's focus over all focus time available
            "top_category": {"category_id": WORK, "name": "Work", "minutes": 150},
            "streak_days_completed": 1,
            "completion_rate": 1.0,
        },
    )
    assert body["category_distribution"] == [{"category_id": WORK, "name": "Work", "minutes": 150, "share": 1.0}]
    trends = [
        (t["date"], t["scheduled_minutes"], t["focus_minutes"], t["completed_tasks_count"]) for t in body["trends"]
    ]
    assert trends == [
        ("2025-03-03", 90, 60, 1),
        *[(f"2025-03-0{d}", 0, 0, 0) for d in range(4, 9)],
        ("2025-03-09", 60, 0, 1),
    ]
    assert same(body["goals"], progress_cards(["weekly minutes work", "weekly percentage work"]))


def test_dashboard_kathmandu_week(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, DASHBOARD, dataset.KTM, auth, period="weekly", start_date="2025-03-09")
    assert same(
        body["category_distribution"],
        [
            {"category_id": STUDY, "name": "Study", "minutes": 120, "share": 0.8},
            {"category_id": None, "name": "Uncategorized", "minutes": 30, "share": 0.2},
        ],
    )
    assert [t["scheduled_minutes"] for t in body["trends"]] == [15, 45, 90, 0, 0, 0, 0]
    assert [t["completed_tasks_count"] for t in body["trends"]] == [0, 1, 1, 0, 0, 0, 0]
    cards = {card["name"]: card for card in body["goals"]}
    assert set(cards) == {"weekly study minutes", "weekly study share"}
    assert (cards["weekly study minutes"]["achieved_value"], cards["weekly study minutes"]["status"]) == (
        120,
        "achieved",
    )
    assert cards["weekly study share"]["achieved_value"] == 80  # 120 of 150 minutes
    assert same(cards["weekly study share"]["percent_complete"], 88.89)


def test_dashboard_defaults_to_the_current_week(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, DASHBOARD, dataset.NY, auth)
    today = dataset.ny_local_today()
    monday = today - timedelta(days=today.weekday())
    assert body["range"] == {"start_date": str(monday), "end_date": str(monday + timedelta(days=6))}
    assert len(body["trends"]) == 7


# Goal progress


@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_goal_progress_of_a_past_period(client: TestClient, auth: Auth, period: str) -> None:
    response = client.get(PROGRESS, params={"period": period, "start_date": "2025-03-03"}, headers=auth(dataset.NY))
    assert response.status_code == 200
    names = [name for name, spec in dataset.NY_GOALS.items() if spec[2] == period]
    # The plan's shape: a JSON list of cards, each with its period's dates.
    assert same(response.json(), progress_cards(names))
    start, end = dataset.NY_PROGRESS_2025_03_03[names[0]][:2]
    assert response.json()[0]["period"] == {"start": start, "end": end}
    # Last-Modified is the marts' build time (HTTP dates have whole seconds).
    last_modified = parsedate_to_datetime(response.headers["last-modified"])
    assert last_modified == datetime.fromisoformat(response.headers["x-data-as-of"]).replace(microsecond=0)


def test_goal_progress_before_any_goal_existed_is_empty(client: TestClient, auth: Auth) -> None:
    body = get_ok(client, PROGRESS, dataset.NY, auth, period="weekly", start_date="2025-01-06")
    assert body == []


def test_a_new_goal_shows_its_progress_at_once(client: TestClient, auth: Auth) -> None:
    today = dataset.ny_local_today()
    created = client.post(
        "/api/v1/goals",
        json={"name": "zz brand new", "target_type": "minutes", "target_value": 90, "time_period": "monthly"},
        headers=auth(dataset.NY),
    )
    assert created.status_code == 201
    try:
        body = get_ok(client, PROGRESS, dataset.NY, auth, period="monthly")
        card = next(card for card in body if card["name"] == "zz brand new")
        # R1 (60 minutes, yesterday) and R2 (30 minutes, the day before) count when they fall in this month.
        expected = sum(
            minutes
            for day, minutes in ((today - timedelta(days=1), 60), (today - timedelta(days=2), 30))
            if (day.year, day.month) == (today.year, today.month)
        )
        assert card["period"]["start"] == str(today.replace(day=1))
        assert card["achieved_value"] == expected
        assert same(card["percent_complete"], round(100 * expected / 90, 2))
    finally:
        client.delete(f"/api/v1/goals/{created.json()['goal_id']}", headers=auth(dataset.NY))


# CSV export


def test_export_new_york(client: TestClient, auth: Auth, warehouse_db: str) -> None:
    response = client.get(
        EXPORT, params={"start_date": "2025-03-02", "end_date": "2025-03-10"}, headers=auth(dataset.NY)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="pulse-2025-03-02-2025-03-10.csv"'
    assert datetime.fromisoformat(response.headers["x-data-as-of"]) == first_built_at(warehouse_db)
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["date", "total_scheduled_minutes", "focus_minutes", "completed_tasks_count", "category_minutes"]
    parsed = [(r[0], int(r[1]), int(r[2]), int(r[3]), json.loads(r[4])) for r in rows[1:]]
    assert parsed == [
        ("2025-03-02", 0, 0, 0, {}),
        ("2025-03-03", 150, 60, 1, {WORK: 90, HEALTH: 60}),
        ("2025-03-04", 60, 0, 0, {HEALTH: 60}),
        ("2025-03-05", 60, 30, 1, {"uncategorized": 60}),
        ("2025-03-06", 30, 0, 1, {HEALTH: 30}),
        ("2025-03-07", 0, 0, 0, {}),
        ("2025-03-08", 0, 0, 0, {}),
        ("2025-03-09", 60, 0, 1, {WORK: 60}),
        ("2025-03-10", 0, 0, 0, {}),
    ]


def test_export_of_a_full_year_is_one_row_per_day(client: TestClient, auth: Auth) -> None:
    with client.stream(
        "GET", EXPORT, params={"start_date": "2024-03-10", "end_date": "2025-03-10", "format": "csv"},
        headers=auth(dataset.KTM),
    ) as response:  # fmt: skip
        assert response.status_code == 200
        text = "".join(response.iter_text())
    lines = text.splitlines()
    assert len(lines) == 1 + 366
    assert lines[1].startswith("2024-03-10,0,0,0,") and lines[-1].startswith("2025-03-10,0,0,0,")
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == 150


# Caching headers


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (QUICK, {"date_range": "30d"}),
        (DASHBOARD, {"period": "monthly", "start_date": "2025-03-01"}),
        (PROGRESS, {"period": "weekly", "start_date": "2025-03-03"}),
        (EXPORT, {"start_date": "2025-03-01", "end_date": "2025-03-31"}),
    ],
)
def test_if_none_match_gives_304(client: TestClient, auth: Auth, url: str, params: dict[str, str]) -> None:
    first = client.get(url, params=params, headers=auth(dataset.NY))
    etag = first.headers["etag"]
    again = client.get(url, params=params, headers={**auth(dataset.NY), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    listed = client.get(url, params=params, headers={**auth(dataset.NY), "If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    stale = client.get(url, params=params, headers={**auth(dataset.NY), "If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.content == first.content
    other_user = client.get(url, params=params, headers={**auth(dataset.KTM), "If-None-Match": etag})
    assert other_user.status_code == 200


def test_data_as_of_is_null_where_nothing_was_built(api_settings: Any, auth: Auth, pulse_db: str) -> None:
    from pulse.dbt import build_warehouse
    from tests.api.conftest import make_client

    dataset.load(pulse_db)
    build_warehouse(pulse_db, as_of=datetime.now(UTC), progress=None)
    with psycopg.connect(pulse_db, autocommit=True) as conn:
        # An empty build log and empty marts, as right after the tables were created.
        conn.execute(
            "truncate analytics.mart_build_log, analytics.analytics_daily_metrics, analytics.daily_category_metrics"
        )
    _, fresh = make_client(api_settings, pulse_db)
    with fresh:
        body = get_ok(fresh, QUICK, dataset.NY, auth, date_range="7d")
        assert body["data_as_of"] is None and body["total_scheduled_minutes"] == 0
        with psycopg.connect(pulse_db, autocommit=True) as conn:
            conn.execute("drop view analytics.goal_progress_live")
        missing_view = fresh.get(PROGRESS, headers=auth(dataset.NY))
        assert missing_view.status_code == 503
        assert "pulse build" in missing_view.json()["detail"]


def test_a_build_touching_the_range_changes_the_export_etag(client: TestClient, auth: Auth, warehouse_db: str) -> None:
    from pulse.dbt import build_warehouse

    params = {"start_date": "2025-03-02", "end_date": "2025-03-10"}
    before = client.get(EXPORT, params=params, headers=auth(dataset.NY))
    outside = client.get(
        EXPORT, params={"start_date": "2025-04-01", "end_date": "2025-04-02"}, headers=auth(dataset.NY)
    )
    build_warehouse(warehouse_db, start=date(2025, 3, 3), end=date(2025, 3, 4), as_of=datetime.now(UTC), progress=None)
    after = client.get(EXPORT, params=params, headers={**auth(dataset.NY), "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert after.text == before.text
    # The oldest build still holds the 2nd and the 10th: the range is as fresh as its stalest day.
    assert after.headers["x-data-as-of"] == before.headers["x-data-as-of"]
    one_day = client.get(QUICK, params={"start_date": "2025-03-03", "end_date": "2025-03-03"}, headers=auth(dataset.NY))
    assert datetime.fromisoformat(one_day.json()["data_as_of"]) > datetime.fromisoformat(before.headers["x-data-as-of"])
    untouched = client.get(EXPORT, params={"start_date": "2025-04-01", "end_date": "2025-04-02"},
                           headers={**auth(dataset.NY), "If-None-Match": outside.headers["etag"]})  # fmt: skip
    assert untouched.status_code == 304


def latest_built_at(url: str) -> datetime:
    with psycopg.connect(url) as conn:
        row = conn.execute("select max(built_at) from analytics.mart_build_log").fetchone()
    assert row is not None and row[0] is not None
    built: datetime = row[0]
    return built


@pytest.mark.parametrize("period", ["weekly", "monthly"])
def test_data_as_of_of_the_current_period_is_set(
    client: TestClient, auth: Auth, warehouse_db: str, period: str
) -> None:
    # The period's days after today are never built: they do not make the figures stale.
    today = dataset.ny_local_today()
    dashboard = get_ok(client, DASHBOARD, dataset.NY, auth, period=period)
    assert dashboard["range"]["start_date"] <= str(today) <= dashboard["range"]["end_date"]
    assert dashboard["data_as_of"] is not None
    progress = client.get(PROGRESS, params={"period": period}, headers=auth(dataset.NY))
    assert progress.headers["x-data-as-of"] == dashboard["data_as_of"].replace("Z", "+00:00")
    assert "last-modified" in progress.headers
    week = get_ok(client, QUICK, dataset.NY, auth, date_range="7d")
    assert datetime.fromisoformat(week["data_as_of"]) <= latest_built_at(warehouse_db)


def test_data_as_of_of_a_future_range_is_the_latest_build(client: TestClient, auth: Auth, warehouse_db: str) -> None:
    future = dataset.ny_local_today() + timedelta(days=40)
    body = get_ok(client, DASHBOARD, dataset.NY, auth, period="weekly", start_date=str(future))
    assert datetime.fromisoformat(body["data_as_of"]) == latest_built_at(warehouse_db)
