"""A ranged build leaves the marts equal to what the source says, whatever the source rows' updated_at.

Issue 19: the builds kept no state but the marts, so rows inserted with an old updated_at, tables
truncated and reloaded, hard deletes and a transaction that stayed open across a build all end, after the
next ranged build, with every mart row equal to a fresh full build of the same source in a second
database. Ranged builds here run as Dagster's daily runs do: only the models tagged daily.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from pulse.dbt import DAILY_TAG, build_vars, build_warehouse, run_dbt
from pulse.seed import TABLES, SeedPlan, seed_database
from tests.conftest import copy_source

PLAN = SeedPlan(users=12, days=14, start=date(2025, 6, 1), seed=11)
OTHER_PLAN = SeedPlan(users=10, days=14, start=date(2025, 6, 1), seed=12)
AS_OF = datetime(2025, 6, 16, 12, 0, tzinfo=UTC)
# Every local date the seeded slots, completions and focus days can reach, with room around them.
RANGE = (date(2025, 5, 28), date(2025, 6, 19))
A_YEAR_AGO = "now() - interval '1 year'"

# Every mart row a build writes; build timestamps (taken_at) and goal hashes left out.
MARTS = {
    "analytics_daily_metrics": "user_id, date",
    "daily_category_metrics": "user_id, date, category_id",
    "goal_progress_snapshots": "goal_id, period_start",
    "fct_task_dates": "task_id, date",
}
LEFT_OUT = {"taken_at", "goal_definition"}


def ranged_build(url: str, start: date = RANGE[0], end: date = RANGE[1]) -> None:
    """One Dagster-like daily build of [start, end): the daily-tagged models only."""
    args = ["build", "--select", f"tag:{DAILY_TAG}", "--exclude-resource-type", "unit_test"]
    run_dbt(args, url, build_vars(start, end, AS_OF), None)


def mart_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every mart (LEFT_OUT columns dropped), in a total order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(url) as conn:
        for mart, key in MARTS.items():
            columns = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'analytics'"
                    " and table_name = %s order by ordinal_position",
                    (mart,),
                )
                if name not in LEFT_OUT
            ]
            texts = ", ".join(f"{name}::text" for name in columns)
            query = f"select {texts} from analytics.{mart} order by {key}"
            found[mart] = conn.execute(query).fetchall()
    return found


def assert_marts_equal_a_fresh_full_build(url: str, make_pulse_db: Callable[[], str]) -> None:
    """Every mart row of ``url`` equals the same row of a full build of a copy of its source."""
    fresh = make_pulse_db()
    copy_source(url, fresh)
    build_warehouse(fresh, as_of=AS_OF, progress=None)
    got, want = mart_rows(url), mart_rows(fresh)
    assert any(want.values()), "the fresh build has rows"
    problems = []
    for mart in MARTS:
        extra = sorted(set(got[mart]) - set(want[mart]), key=str)
        missing = sorted(set(want[mart]) - set(got[mart]), key=str)
        if extra or missing:
            problems.append(
                f"{mart}: {len(extra)} rows not in the fresh build, e.g. {extra[:2]};"
                f" {len(missing)} missing, e.g. {missing[:2]}"
            )
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def warehouse(pulse_db: str) -> str:
    """PLAN seeded and built in full."""
    seed_database(pulse_db, PLAN, workers=1)
    build_warehouse(pulse_db, as_of=AS_OF, progress=None)
    return pulse_db


def test_rows_inserted_after_a_build_with_an_updated_at_a_year_old(
    warehouse: str, make_pulse_db: Callable[[], str]
) -> None:
    with psycopg.connect(warehouse) as conn:
        user_id, category_id = conn.execute("select user_id, category_id from app.categories limit 1").fetchone()
        conn.execute(
            "insert into app.tasks (task_id, user_id, category_id, title, status, scheduled_slots, completed_at,"
            f" created_at, updated_at) values (gen_random_uuid(), %s, %s, 'old', 'completed', %s,"
            f" '2025-06-10T18:00:00Z', {A_YEAR_AGO}, {A_YEAR_AGO})",
            (user_id, category_id, Jsonb([{"start": "2025-06-10T09:00:00Z", "end": "2025-06-10T11:30:00Z"}])),
        )
        conn.execute(
            "insert into app.user_calendar_days (user_id, date, focus_slots, updated_at)"
            f" values (%s, '2025-06-09', %s, {A_YEAR_AGO})"
            " on conflict (user_id, date) do update set focus_slots = excluded.focus_slots,"
            " updated_at = excluded.updated_at",
            (user_id, Jsonb([{"start": "08:00", "end": "12:00"}])),
        )
        conn.execute(
            "insert into app.goals (user_id, name, target_type, target_value, time_period, category_id,"
            f" created_at, updated_at) values (%s, 'old', 'minutes', 90, 'daily', %s, '2025-06-02T10:00:00Z',"
            f" {A_YEAR_AGO})",
            (user_id, category_id),
        )
        conn.commit()
    ranged_build(warehouse)
    assert_marts_equal_a_fresh_full_build(warehouse, make_pulse_db)


def test_truncate_and_reload_of_each_app_table_with_older_updated_at(
    warehouse: str, make_pulse_db: Callable[[], str]
) -> None:
    """Each of tasks, calendar days and goals reloaded with changed rows a year old; then all five replaced."""
    with psycopg.connect(warehouse) as conn:
        for table, changed in (
            (
                "tasks",
                "scheduled_slots = (select coalesce(jsonb_agg(jsonb_build_object("
                "'start', slot ->> 'end', 'end', slot ->> 'start')), '[]') from jsonb_array_elements("
                "case when jsonb_typeof(scheduled_slots) = 'array' then scheduled_slots else '[]' end) as slot)"
                " where status <> 'completed'",
            ),
            ("user_calendar_days", "date = date + 1"),
            ("goals", "target_value = least(target_value + 7, 100), time_period = 'weekly'"),
        ):
            conn.execute(f"create temporary table saved as select * from app.{table}")
            conn.execute(f"update saved set updated_at = {A_YEAR_AGO}")
            conn.execute(f"update saved set {changed}")
            conn.execute(f"truncate app.{table}")
            conn.execute(f"insert into app.{table} select * from saved")
            conn.execute("drop table saved")
            conn.commit()
    ranged_build(warehouse)
    assert_marts_equal_a_fresh_full_build(warehouse, make_pulse_db)

    other = make_pulse_db()
    seed_database(other, OTHER_PLAN, workers=1)
    with psycopg.connect(other) as conn:
        for table in TABLES:
            conn.execute(f"update app.{table} set updated_at = updated_at - interval '1 year'")
        conn.commit()
    with psycopg.connect(warehouse) as conn:
        conn.execute(f"truncate {', '.join(f'app.{table}' for table in TABLES)}")
        conn.commit()
    copy_source(other, warehouse)
    ranged_build(warehouse)
    assert_marts_equal_a_fresh_full_build(warehouse, make_pulse_db)


def test_a_hard_delete(warehouse: str, make_pulse_db: Callable[[], str]) -> None:
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "delete from app.tasks where task_id in (select task_id from app.tasks where jsonb_array_length("
            "case when jsonb_typeof(scheduled_slots) = 'array' then scheduled_slots else '[]' end) > 0 limit 5)"
        )
        conn.execute(
            "delete from app.user_calendar_days where (user_id, date) in"
            " (select user_id, date from app.user_calendar_days limit 5)"
        )
        conn.execute("delete from app.goals where goal_id in (select goal_id from app.goals limit 2)")
        conn.commit()
    ranged_build(warehouse)
    assert_marts_equal_a_fresh_full_build(warehouse, make_pulse_db)


def test_a_transaction_open_across_a_build_with_an_updated_at_two_hours_old(
    warehouse: str, make_pulse_db: Callable[[], str]
) -> None:
    """A second connection moves a task's slots by two days and holds its transaction open across a build."""
    with psycopg.connect(warehouse) as writer:
        task_id = writer.execute(
            "select task_id from app.tasks where deleted_at is null and status <> 'cancelled'"
            " and jsonb_typeof(scheduled_slots) = 'array' and jsonb_array_length(scheduled_slots) > 0 limit 1"
        ).fetchone()[0]
        writer.execute(
            "update app.tasks set scheduled_slots = %s, updated_at = now() - interval '2 hours' where task_id = %s",
            (Jsonb([{"start": "2025-06-12T22:00:00+02:00", "end": "2025-06-13T01:00:00+02:00"}]), task_id),
        )
        build = threading.Thread(target=ranged_build, args=(warehouse,))
        build.start()
        build.join()
        writer.commit()
    ranged_build(warehouse)
    assert_marts_equal_a_fresh_full_build(warehouse, make_pulse_db)
