"""Ranged rebuilds of the marts are idempotent and follow source changes (SPEC 6, issue 3 "Done when").

One database with the adversarial data, built once in full; then, in file order:
ranged rebuilds that must leave the marts byte-identical, a moved slot and a
deleted task rebuilt on their days only, and a time-zone change rebuilt in full.
After each change every mart row is compared with the Python reference.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent))

import adversarial
import mart_diff
import reference as ref

from pulse.dbt import build_warehouse

AS_OF = adversarial.AS_OF
ZONE = "America/New_York"
MOVE_FROM, MOVE_TO = date(2025, 10, 20), date(2025, 10, 24)


@dataclass
class Warehouse:
    """The database, its user under test, the tasks that will change and the checksums of the full build."""

    url: str
    user_id: uuid.UUID
    moved_task: uuid.UUID
    deleted_task: uuid.UUID
    full_build: dict[str, str]


def checksums(url: str) -> dict[str, str]:
    """md5 of each public mart (build timestamps excluded)."""
    with psycopg.connect(url) as conn:
        return {table: mart_diff.checksum(conn, table) for table in mart_diff.MARTS}


def assert_marts_match_reference(url: str, label: str, as_of: datetime = AS_OF) -> None:
    """Every row of the four marts equals the reference computed from the current source rows."""
    with psycopg.connect(url) as conn:
        expected = ref.compute(ref.load_source(conn), as_of)
        problems = [
            mart_diff.format_diffs(f"{label}: {name}", diffs)
            for name, differ in (
                ("analytics.analytics_daily_metrics", mart_diff.daily_diffs),
                ("analytics.daily_category_metrics", mart_diff.category_diffs),
                ("analytics.goal_progress_snapshots", mart_diff.goal_diffs),
                ("analytics.invalid_slots", mart_diff.invalid_slot_diffs),
            )
            if (diffs := differ(conn, expected))
        ]
    assert not problems, "\n".join(problems)


def local_slot(day: date, hour: int, minutes: int) -> dict[str, str]:
    """A scheduled slot at ``hour`` local time in ZONE on ``day``, lasting ``minutes``."""
    start = adversarial.at_local(day, hour, 0, ZONE)
    end = start + timedelta(minutes=minutes)
    return {"start": start.isoformat(), "end": end.isoformat()}


def scheduled_minutes(url: str, user_id: uuid.UUID, day: date) -> int:
    """The mart's scheduled minutes of a user's day (0 when the row is absent)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select total_scheduled_minutes from analytics.analytics_daily_metrics where user_id = %s and date = %s",
            (user_id, day),
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture(scope="module")
def warehouse(pulse_db: str) -> Warehouse:
    """Adversarial data plus a New York user's tasks that the tests will move and delete, built in full."""
    with psycopg.connect(pulse_db) as conn:
        adversarial.generate(conn, instant_edges=False)  # those cases are test_reference_marts.py's
        user_id = conn.execute("select user_id from app.users where timezone = %s", (ZONE,)).fetchone()[0]
        category_id = conn.execute("select category_id from app.categories where user_id = %s limit 1", (user_id,))
        category = category_id.fetchone()[0]
        moved, deleted = uuid.uuid4(), uuid.uuid4()
        insert = (
            "insert into app.tasks (task_id, user_id, category_id, title, status, scheduled_slots, completed_at)"
            " values (%s, %s, %s, %s, %s, %s, %s)"
        )
        conn.execute(
            insert, (moved, user_id, category, "moved", "scheduled", Jsonb([local_slot(MOVE_FROM, 14, 120)]), None)
        )
        # Nine days long: a ranged rebuild inside it must still find it (its slot date span covers the range).
        long_slot = local_slot(date(2025, 10, 25), 12, 9 * 24 * 60)
        conn.execute(insert, (uuid.uuid4(), user_id, category, "long", "scheduled", Jsonb([long_slot]), None))
        completed_at = adversarial.at_local(MOVE_FROM, 18, 0, ZONE)
        slots = Jsonb([local_slot(MOVE_FROM, 9, 45), {"start": "broken"}])
        conn.execute(insert, (deleted, user_id, None, "deleted", "completed", slots, completed_at))
        conn.execute(
            "insert into app.user_calendar_days (user_id, date, focus_slots) values (%s, %s, %s), (%s, %s, %s)"
            " on conflict (user_id, date) do update set focus_slots = excluded.focus_slots",
            (
                user_id,
                MOVE_FROM,
                Jsonb([{"start": "13:00", "end": "15:00"}]),
                user_id,
                MOVE_TO,
                Jsonb([{"start": "15:00", "end": "24:00"}]),
            ),
        )
        conn.commit()
    build_warehouse(pulse_db, as_of=AS_OF, progress=None)
    return Warehouse(pulse_db, user_id, moved, deleted, checksums(pulse_db))


def test_full_build_matches_reference(warehouse: Warehouse) -> None:
    assert_marts_match_reference(warehouse.url, "full build")


def test_rebuilding_a_range_twice_leaves_byte_identical_marts(warehouse: Warehouse) -> None:
    """A partial rebuild after the full build, and the same rebuild again, change no byte of any mart."""
    start, end = date(2025, 10, 30), date(2025, 11, 4)  # spans the fall-back weekends
    build_warehouse(warehouse.url, start, end, as_of=AS_OF, progress=None)
    after_first = checksums(warehouse.url)
    build_warehouse(warehouse.url, start, end, as_of=AS_OF, progress=None)
    after_second = checksums(warehouse.url)
    assert after_first == warehouse.full_build, "a partial rebuild changed the full build's marts"
    assert after_second == after_first, "re-running the same range changed the marts"


def test_moved_slot_and_deleted_task_leave_their_days(warehouse: Warehouse) -> None:
    """Move a slot, delete a task, change goals; rebuilding just the two days fixes every mart."""
    url, user_id = warehouse.url, warehouse.user_id
    before_from, before_to = scheduled_minutes(url, user_id, MOVE_FROM), scheduled_minutes(url, user_id, MOVE_TO)
    with psycopg.connect(url) as conn:
        conn.execute(
            "update app.tasks set scheduled_slots = %s, updated_at = now() where task_id = %s",
            (Jsonb([local_slot(MOVE_TO, 14, 120)]), warehouse.moved_task),
        )
        conn.execute(
            "update app.tasks set deleted_at = %s, updated_at = now() where task_id = %s",
            (datetime(2025, 10, 21, tzinfo=UTC), warehouse.deleted_task),
        )
        # Goals change too: one new (created months ago), one deactivated, one with a new target. Their
        # snapshots must cover every period from creation to now, whatever range was built.
        conn.execute(
            "insert into app.goals (user_id, name, target_type, target_value, time_period, created_at)"
            " values (%s, 'new weekly', 'minutes', 500, 'weekly', '2025-08-14T03:00:00Z')",
            (user_id,),
        )
        goal_ids = [
            g
            for (g,) in conn.execute(
                "select goal_id from app.goals where user_id = %s and is_active order by goal_id limit 2", (user_id,)
            ).fetchall()
        ]
        conn.execute("update app.goals set is_active = false, updated_at = now() where goal_id = %s", (goal_ids[0],))
        conn.execute("update app.goals set target_value = 1, updated_at = now() where goal_id = %s", (goal_ids[1],))
        conn.commit()
    for day in (MOVE_FROM, MOVE_TO):
        build_warehouse(url, day, day + timedelta(days=1), as_of=AS_OF, progress=None)
    assert scheduled_minutes(url, user_id, MOVE_FROM) == before_from - 120 - 45
    assert scheduled_minutes(url, user_id, MOVE_TO) == before_to + 120
    with psycopg.connect(url) as conn:
        deleted_invalid = conn.execute(
            "select count(*) from analytics.invalid_slots where task_id = %s", (warehouse.deleted_task,)
        ).fetchone()
    assert deleted_invalid == (1,), "a deleted task's invalid slot stays listed in invalid_slots"
    assert_marts_match_reference(url, "after moving a slot and deleting a task, two days rebuilt")


def test_time_zone_change_then_full_rebuild_rebuckets_days(warehouse: Warehouse) -> None:
    """A user who moves to Kathmandu sees every day re-bucketed after a full (non-refresh) build."""
    url = warehouse.url
    with psycopg.connect(url) as conn:
        conn.execute(
            "update app.users set timezone = 'Asia/Kathmandu', updated_at = now() where user_id = %s",
            (warehouse.user_id,),
        )
        conn.commit()
    build_warehouse(url, as_of=AS_OF, progress=None)
    assert_marts_match_reference(url, "after a time-zone change and a full rebuild")


def test_another_as_of_rejudges_every_goal_period(warehouse: Warehouse) -> None:
    """A one-day build with a new as-of re-judges all goal periods; "today" is the day whose window holds it.

    2025-11-02T04:30Z is 00:30 CDT in Havana, the first pass of an hour that repeats at midnight; the window
    of 11-02 starts at 00:00 CST (05:00Z), so for a Havana user today is still 11-01 and 11-02 is future.
    """
    as_of = datetime(2025, 11, 2, 4, 30, tzinfo=UTC)
    build_warehouse(warehouse.url, date(2025, 11, 1), date(2025, 11, 2), as_of=as_of, progress=None)
    assert_marts_match_reference(warehouse.url, "after a build with as-of 2025-11-02T04:30Z", as_of)
