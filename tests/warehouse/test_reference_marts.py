"""Every row of the four public marts equals the Python reference, on adversarial data and on ``pulse seed`` data.

Both datasets live in one database (a ``pulse seed`` of 30 users x 21 days, then
the adversarial users written straight into the ``app`` tables), built once
(full history, fixed as-of) with ``pulse.dbt.build_warehouse``; the reference
(``reference.py``) computes the same rows from the ``app`` tables without SQL.
Each test reports the two datasets apart. Missing daily rows are all-zero days.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import adversarial
import mart_diff
import reference as ref

from pulse.dbt import build_warehouse
from pulse.seed import SeedPlan, seed_database

AS_OF = adversarial.AS_OF
SEED_PLAN = SeedPlan(users=30, days=21, start=date(2025, 10, 16), seed=7)  # to 11-05, across both fall-backs


@dataclass
class Built:
    """The built database, the reference of its source rows and which users came from ``pulse seed``."""

    url: str
    expected: ref.Reference
    seed_users: set[str]
    goal_users: dict[str, str]


@pytest.fixture(scope="module")
def warehouse(pulse_db: str) -> Built:
    """Seed, add the adversarial users, build all history once, compute the reference."""
    seed_database(pulse_db, SEED_PLAN, workers=1)
    with psycopg.connect(pulse_db) as conn:
        seed_users = {str(u) for (u,) in conn.execute("select user_id from app.users").fetchall()}
        adversarial.generate(conn)
    build_warehouse(pulse_db, as_of=AS_OF, progress=None)
    with psycopg.connect(pulse_db) as conn:
        source = ref.load_source(conn)
    goal_users = {str(g["goal_id"]): str(g["user_id"]) for g in source.goals}
    return Built(pulse_db, ref.compute(source, AS_OF), seed_users, goal_users)


DATASETS = ["adversarial", "seed"]


def user_of(key: tuple[Any, ...], built: Built) -> str | None:
    """The user a diff row belongs to (None for a finding about the whole mart, e.g. a reason's wording)."""
    if key and key[0] == "reason":
        return None
    if key and key[0] in ("scheduled", "focus"):
        return str(key[1])
    if isinstance(key[0], uuid.UUID) and str(key[0]) in built.goal_users and len(key) == 3 and isinstance(key[1], date):
        return built.goal_users[str(key[0])]
    return str(key[0])


def compare(warehouse: Built, dataset: str, differ: Any, title: str) -> None:
    """Assert that the dataset's rows of one mart equal the reference; print the first differing rows."""
    with psycopg.connect(warehouse.url) as conn:
        diffs = differ(conn, warehouse.expected)
    mine = []
    for diff in diffs:
        user = user_of(diff[0], warehouse)
        in_seed = user in warehouse.seed_users
        if user is None or in_seed == (dataset == "seed"):
            mine.append(diff)
    assert not mine, mart_diff.format_diffs(f"{dataset} data: {title}", mine)


@pytest.mark.parametrize("dataset", DATASETS)
def test_daily_metrics_match_reference(warehouse: Built, dataset: str) -> None:
    compare(warehouse, dataset, mart_diff.daily_diffs, "analytics.analytics_daily_metrics")


@pytest.mark.parametrize("dataset", DATASETS)
def test_daily_category_metrics_match_reference(warehouse: Built, dataset: str) -> None:
    compare(warehouse, dataset, mart_diff.category_diffs, "analytics.daily_category_metrics")


@pytest.mark.parametrize("dataset", DATASETS)
def test_goal_progress_snapshots_match_reference(warehouse: Built, dataset: str) -> None:
    compare(warehouse, dataset, mart_diff.goal_diffs, "analytics.goal_progress_snapshots")


@pytest.mark.parametrize("dataset", DATASETS)
def test_invalid_slots_match_reference(warehouse: Built, dataset: str) -> None:
    compare(warehouse, dataset, mart_diff.invalid_slot_diffs, "analytics.invalid_slots")


def test_adversarial_data_is_as_hard_as_promised(warehouse: Built) -> None:
    """The reference sees the hard cases in the adversarial data, so the comparisons above are not vacuous."""
    expected = warehouse.expected
    reasons = {r for slot in expected.invalid_slots for r in slot.reasons}
    assert reasons == {ref.NOT_ARRAY, ref.NOT_OBJECT, ref.MISSING, ref.UNPARSEABLE, ref.NO_OFFSET, ref.NOT_AFTER}
    assert {s.source for s in expected.invalid_slots} == {"scheduled", "focus"}
    day_lengths = set()
    with psycopg.connect(warehouse.url) as conn:
        zones = dict(conn.execute("select user_id, timezone from app.users").fetchall())
    for user_id, day in expected.daily:
        start, end = ref.day_window(day, zones[user_id])
        day_lengths.add(end - start)
    assert {23 * 60, 25 * 60, 23 * 60 + 30, 24 * 60 + 30} <= day_lengths
    assert {s.status for s in expected.goals.values()} == {"achieved", "missed", "on_track", "at_risk", "behind"}
    assert {(s.target_type, s.time_period) for s in expected.goals.values()} == {
        (t, p) for t in ("minutes", "percentage", "task_count") for p in ("daily", "weekly", "monthly")
    }
    assert sum(f.focus_minutes for f in expected.daily.values()) > 0
    assert any(f.tasks_due_completed_count for f in expected.daily.values())
    # Exact edges that floating point or a strict comparison would get wrong.
    ties = [
        s
        for s in expected.goals.values()
        if s.achieved_value is not None and (Fraction(100 * s.achieved_value, s.target_value) * 100).denominator == 2
    ]
    assert len(ties) >= 3, "percent_complete ties (x.xx5) exercise rounding half away from zero"
    edges = {"on_track": 0, "at_risk": 0}
    for snap in expected.goals.values():
        utc_user = zones[snap.user_id] == "UTC"
        if utc_user and snap.status in edges and snap.target_type != "percentage" and snap.achieved_value is not None:
            today = AS_OF.date()
            days = (snap.period_end - snap.period_start).days + 1
            pace = Fraction(snap.target_value * ((today - snap.period_start).days + 1), days)
            bound = pace if snap.status == "on_track" else Fraction(4, 5) * pace
            edges[snap.status] += snap.achieved_value == bound
    assert edges["on_track"] >= 1 and edges["at_risk"] >= 1, edges


def test_seed_part_is_not_empty(warehouse: Built) -> None:
    """The ``pulse seed`` users contribute minutes, focus, due tasks, goals and invalid slots to the comparison."""
    expected, seed = warehouse.expected, warehouse.seed_users
    assert len(seed) == SEED_PLAN.users
    seed_days = [f for (user, _), f in expected.daily.items() if str(user) in seed]
    assert sum(f.scheduled_minutes for f in seed_days) > 0
    assert sum(f.focus_minutes for f in seed_days) > 0
    assert sum(f.tasks_due_count for f in seed_days) > 0
    assert any(s.user_id in {uuid.UUID(u) for u in seed} for s in expected.goals.values())
    assert any(str(s.user_id) in seed for s in expected.invalid_slots)


def test_python_and_postgres_share_the_time_zone_rules(warehouse: Built) -> None:
    """Python's zoneinfo and the server agree on every day window used (else a mismatch above is the tz database's).

    This checks the environment, not the marts: it compares the reference's day boundaries with
    PostgreSQL's ``timestamp AT TIME ZONE`` for each user's zone and day that has figures.
    """
    with psycopg.connect(warehouse.url) as conn:
        zones = dict(conn.execute("select user_id, timezone from app.users").fetchall())
        pairs = sorted(
            {
                (zones[user_id], day)
                for user_id, day in warehouse.expected.daily
                if ref.zone(zones[user_id]).key == zones[user_id]
            }
        )
        rows = conn.execute(
            "select z, d, extract(epoch from (d::timestamp at time zone z))::bigint / 60"
            " from unnest(%s::text[], %s::date[]) as p(z, d)",
            ([z for z, _ in pairs], [d for _, d in pairs]),
        ).fetchall()
    assert len(rows) > 500
    differing = [(z, d, ref.day_window(d, z)[0], pg) for z, d, pg in rows if ref.day_window(d, z)[0] != pg]
    assert not differing, f"zoneinfo and PostgreSQL disagree on {len(differing)} midnights, e.g. {differing[:5]}"
