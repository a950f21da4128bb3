"""Every row of the four public marts equals the Python reference, on adversarial data and on ``pulse seed`` data.

The warehouse is built once per dataset (full history, fixed as-of) with
``pulse.dbt.build_warehouse``; the reference (``reference.py``) computes the same
rows from the ``app`` tables without SQL. Missing daily rows are all-zero days.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import adversarial
import mart_diff
import reference as ref

from pulse.dbt import build_warehouse


@dataclass
class Built:
    """A database whose warehouse was built, and the reference computed from its source rows."""

    url: str
    expected: ref.Reference


def build_and_compute(url: str, as_of: datetime) -> Built:
    """Build all history with that as-of, then compute the reference from the same source rows."""
    build_warehouse(url, as_of=as_of, full_refresh=True, progress=None)
    with psycopg.connect(url) as conn:
        return Built(url, ref.compute(ref.load_source(conn), as_of))


@pytest.fixture(scope="module")
def adversarial_warehouse(pulse_db: str) -> Built:
    """The adversarial dataset, built."""
    with psycopg.connect(pulse_db) as conn:
        adversarial.generate(conn)
    return build_and_compute(pulse_db, adversarial.AS_OF)


SEED_START = date(2025, 10, 20)  # 21 days across the European and North American fall-back weekends
SEED_AS_OF = datetime(2025, 11, 8, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded_warehouse(server_url: str) -> Iterator[Built]:
    """A small ``pulse seed`` dataset (30 users x 21 days), built."""
    from pulse.seed import SeedPlan, seed_database

    with mart_diff.scratch_database(server_url, "seed_reference") as url:
        seed_database(url, SeedPlan(users=30, days=21, start=SEED_START, seed=7), workers=1)
        yield build_and_compute(url, SEED_AS_OF)


DATASETS = ["adversarial_warehouse", "seeded_warehouse"]


def compare(request: pytest.FixtureRequest, dataset: str, differ: Any, title: str) -> None:
    built: Built = request.getfixturevalue(dataset)
    with psycopg.connect(built.url) as conn:
        diffs = differ(conn, built.expected)
    assert not diffs, mart_diff.format_diffs(f"{dataset}: {title}", diffs)


@pytest.mark.parametrize("dataset", DATASETS)
def test_daily_metrics_match_reference(request: pytest.FixtureRequest, dataset: str) -> None:
    compare(request, dataset, mart_diff.daily_diffs, "analytics.analytics_daily_metrics")


@pytest.mark.parametrize("dataset", DATASETS)
def test_daily_category_metrics_match_reference(request: pytest.FixtureRequest, dataset: str) -> None:
    compare(request, dataset, mart_diff.category_diffs, "analytics.daily_category_metrics")


@pytest.mark.parametrize("dataset", DATASETS)
def test_goal_progress_snapshots_match_reference(request: pytest.FixtureRequest, dataset: str) -> None:
    compare(request, dataset, mart_diff.goal_diffs, "analytics.goal_progress_snapshots")


@pytest.mark.parametrize("dataset", DATASETS)
def test_invalid_slots_match_reference(request: pytest.FixtureRequest, dataset: str) -> None:
    compare(request, dataset, mart_diff.invalid_slot_diffs, "analytics.invalid_slots")


def test_adversarial_data_is_as_hard_as_promised(adversarial_warehouse: Built) -> None:
    """The reference sees the hard cases in the adversarial data, so the comparisons above are not vacuous."""
    expected = adversarial_warehouse.expected
    reasons = {r for slot in expected.invalid_slots for r in slot.reasons}
    assert reasons == {ref.NOT_ARRAY, ref.NOT_OBJECT, ref.MISSING, ref.UNPARSEABLE, ref.NO_OFFSET, ref.NOT_AFTER}
    assert {s.source for s in expected.invalid_slots} == {"scheduled", "focus"}
    day_lengths = set()
    with psycopg.connect(adversarial_warehouse.url) as conn:
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
