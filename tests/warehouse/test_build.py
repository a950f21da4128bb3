"""``pulse.dbt`` and ``pulse build``: a ranged build of a small hand-made dataset gives hand-computed figures.

The numbers below are worked out by hand from the rows inserted here (not by running
SQL), for a New York user across the 2025 spring-forward day and a Kathmandu user.
The dbt unit tests (excluded from routine builds) run here too, and so do the
command line's refusals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from pulse.cli import main as cli_main
from pulse.database import with_database
from pulse.dbt import DbtBuildError, build_env, build_vars, build_warehouse, dbt_env, parse_state_path, run_dbt
from pulse.schema import init_database

NEW_YORK_USER = "00000000-0000-4000-8000-000000000001"
KATHMANDU_USER = "00000000-0000-4000-8000-000000000002"
WORK = "00000000-0000-4000-8000-0000000000c1"
DAY_TASK = "00000000-0000-4000-8000-0000000000a1"
MIDNIGHT_TASK = "00000000-0000-4000-8000-0000000000a2"
OVERLAP_TASK_1 = "00000000-0000-4000-8000-0000000000a3"
OVERLAP_TASK_2 = "00000000-0000-4000-8000-0000000000a4"
CANCELLED_TASK = "00000000-0000-4000-8000-0000000000a5"
KATHMANDU_TASK = "00000000-0000-4000-8000-0000000000a6"
GOAL = "00000000-0000-4000-8000-0000000000b1"
AS_OF = "2025-03-11T16:00:00+00:00"


def slot(start: str, end: str) -> dict[str, str]:
    """One scheduled slot."""
    return {"start": start, "end": end}


def load_dataset(url: str) -> None:
    """Two users, six tasks, one focus day, one goal (see the expected figures in the tests)."""
    tasks: list[tuple[Any, ...]] = [
        # The whole spring-forward day, local midnight to local midnight: 23 h; due on 03-09 (ends at midnight).
        (DAY_TASK, NEW_YORK_USER, None, "scheduled", [slot("2025-03-09T00:00:00-05:00", "2025-03-10T00:00:00-04:00")]),
        # 23:00-01:00 EDT across midnight: 60 min on 03-10, 60 on 03-11; plus one invalid slot (no offset).
        (
            MIDNIGHT_TASK,
            NEW_YORK_USER,
            WORK,
            "completed",
            [
                slot("2025-03-10T23:00:00-04:00", "2025-03-11T01:00:00-04:00"),
                slot("2025-03-11T09:00", "2025-03-11T10:00"),
            ],
        ),
        # Overlapping 10:00-11:00 and 10:30-11:30 EDT on 03-11: 120 scheduled minutes, union 90.
        (OVERLAP_TASK_1, NEW_YORK_USER, WORK, "scheduled", [slot("2025-03-11T14:00:00Z", "2025-03-11T15:00:00Z")]),
        (OVERLAP_TASK_2, NEW_YORK_USER, None, "pending", [slot("2025-03-11T10:30:00-04:00", "2025-03-11T11:30-04:00")]),
        # Cancelled: counts for nothing.
        (CANCELLED_TASK, NEW_YORK_USER, None, "cancelled", [slot("2025-03-11T12:00:00Z", "2025-03-11T20:00:00Z")]),
        # Kathmandu (+05:45): 23:00-01:30 local on 03-10/03-11.
        (KATHMANDU_TASK, KATHMANDU_USER, None, "scheduled", [slot("2025-03-10T17:15:00Z", "2025-03-10T19:45:00Z")]),
    ]
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into app.users (user_id, email, timezone) values (%s, 'ny@x', 'America/New_York'),"
            " (%s, 'ktm@x', 'Asia/Kathmandu')",
            (NEW_YORK_USER, KATHMANDU_USER),
        )
        conn.execute(
            "insert into app.categories (category_id, user_id, name) values (%s, %s, 'Work')", (WORK, NEW_YORK_USER)
        )
        for task_id, user_id, category_id, status, slots in tasks:
            conn.execute(
                "insert into app.tasks (task_id, user_id, category_id, title, status, scheduled_slots, completed_at)"
                " values (%s, %s, %s, 'task', %s, %s, %s)",
                (
                    task_id,
                    user_id,
                    category_id,
                    status,
                    Jsonb(slots),
                    "2025-03-11T05:30:00Z" if status == "completed" else None,  # 01:30 EDT on 03-11
                ),
            )
        # Focus 10:00-11:00 local on 03-11, plus one invalid focus slot (end before start).
        conn.execute(
            "insert into app.user_calendar_days (user_id, date, focus_slots) values (%s, '2025-03-11', %s)",
            (NEW_YORK_USER, Jsonb([{"start": "10:00", "end": "11:00"}, {"start": "12:00", "end": "11:00"}])),
        )
        # Daily minutes goal of the Work category, created on 03-10 (local): periods 03-10 and 03-11.
        conn.execute(
            "insert into app.goals (goal_id, user_id, name, target_type, target_value, time_period, category_id,"
            " created_at) values (%s, %s, 'work', 'minutes', 100, 'daily', %s, '2025-03-10T15:00:00Z')",
            (GOAL, NEW_YORK_USER, WORK),
        )


@pytest.fixture(scope="module")
def built(pulse_db: str) -> str:
    """The dataset loaded and built for local dates 2025-03-09..2025-03-11 (end exclusive 03-12)."""
    load_dataset(pulse_db)
    lines: list[str] = []
    build_warehouse(pulse_db, date(2025, 3, 9), date(2025, 3, 12), datetime.fromisoformat(AS_OF), progress=lines.append)
    assert any("Completed successfully" in line for line in lines), lines[-5:]
    return pulse_db


def daily_rows(url: str) -> dict[tuple[str, date], tuple[Any, ...]]:
    """analytics_daily_metrics by (user, date)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select user_id::text, date, total_scheduled_minutes, focus_minutes, focus_available_minutes,"
            " completed_tasks_count, tasks_due_count, tasks_due_completed_count, category_minutes"
            " from analytics.analytics_daily_metrics"
        ).fetchall()
    return {(row[0], row[1]): tuple(row[2:]) for row in rows}


def test_daily_metrics_match_hand_computed_figures(built: str) -> None:
    """23-hour DST day, midnight split, overlaps summed vs. unioned, completion and due days, +05:45."""
    assert daily_rows(built) == {
        (NEW_YORK_USER, date(2025, 3, 9)): (1380, 0, 0, 0, 1, 0, {"uncategorized": 1380}),
        (NEW_YORK_USER, date(2025, 3, 10)): (60, 0, 0, 0, 0, 0, {WORK: 60}),
        # 60 (after midnight) + 60 + 60 scheduled; focus 10:00-11:00 covered by the union; the completed task is
        # due here (its last valid slot ends 01:00) and was completed at 01:30.
        (NEW_YORK_USER, date(2025, 3, 11)): (180, 60, 60, 1, 3, 1, {WORK: 120, "uncategorized": 60}),
        (KATHMANDU_USER, date(2025, 3, 10)): (60, 0, 0, 0, 0, 0, {"uncategorized": 60}),
        (KATHMANDU_USER, date(2025, 3, 11)): (90, 0, 0, 0, 1, 0, {"uncategorized": 90}),
    }


def test_category_rows_invalid_slots_goals_and_build_log(built: str) -> None:
    """Per-category rows, both invalid slots listed, goal statuses as of --as-of, one build-log row."""
    with psycopg.connect(built) as conn:
        categories = conn.execute(
            "select date, category_id::text, scheduled_minutes, focus_minutes from analytics.daily_category_metrics"
            " where user_id = %s and date = '2025-03-11' order by category_id nulls last",
            (NEW_YORK_USER,),
        ).fetchall()
        invalid = conn.execute(
            "select source, task_id::text, date, slot_index, reason from analytics.invalid_slots order by source"
        ).fetchall()
        goals = conn.execute(
            "select period_start, achieved_value, percent_complete::text, status, taken_at"
            " from analytics.goal_progress_snapshots where goal_id = %s order by period_start",
            (GOAL,),
        ).fetchall()
        log = conn.execute("select start_date, end_date from analytics.mart_build_log").fetchall()
    # Work: 00:00-01:00 and 10:00-11:00 (focus 60); uncategorized 10:30-11:30 (focus 30).
    assert categories == [(date(2025, 3, 11), WORK, 120, 60), (date(2025, 3, 11), None, 60, 30)]
    assert invalid == [
        ("focus", None, date(2025, 3, 11), 2, "end_not_after_start"),
        ("scheduled", MIDNIGHT_TASK, None, 2, "missing_offset"),
    ]
    as_of = datetime.fromisoformat(AS_OF)
    assert goals == [
        (date(2025, 3, 10), 60, "60.00", "missed", as_of),
        # 12:00 EDT on 03-11: 120 Work minutes >= 100.
        (date(2025, 3, 11), 120, "120.00", "achieved", as_of),
    ]
    assert log == [(date(2025, 3, 9), date(2025, 3, 12))]


def test_live_views_agree_with_the_built_tables(built: str) -> None:
    """task_local_dates (source now) = fct_task_dates (last build); goal_progress_live = snapshots of ended periods."""
    with psycopg.connect(built) as conn:
        task_dates = conn.execute("select task_id::text, date from analytics.fct_task_dates order by 1, 2").fetchall()
        live_task_dates = conn.execute(
            "select task_id::text, date from analytics.task_local_dates"
            " where date >= '2025-03-09' and date < '2025-03-12' order by 1, 2"
        ).fetchall()
        columns = "goal_id, period_start, period_end, achieved_value, percent_complete, status"
        snapshot = conn.execute(
            f"select {columns} from analytics.goal_progress_snapshots where period_end < '2025-03-11' order by 2"
        ).fetchall()
        live = conn.execute(
            f"select {columns} from analytics.goal_progress_live where period_end < '2025-03-11' order by 2"
        ).fetchall()
    assert task_dates == live_task_dates
    assert {(task_id, day) for task_id, day in task_dates} >= {
        (DAY_TASK, date(2025, 3, 9)),
        (MIDNIGHT_TASK, date(2025, 3, 10)),
        (MIDNIGHT_TASK, date(2025, 3, 11)),
    }
    assert CANCELLED_TASK not in {task_id for task_id, _ in task_dates}
    assert snapshot == live
    assert len(snapshot) == 1


def test_cli_refuses_bad_ranges_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad dates, an end before the start and an as-of without offset: exit 1, one line naming the option."""
    cases = {
        ("--start", "2025-02-30"): "--start '2025-02-30' is not a date",
        ("--start", "2025-03-02", "--end", "2025-03-01"): "--end 2025-03-01 is before --start 2025-03-02",
        ("--as-of", "2025-03-01T10:00:00"): "--as-of '2025-03-01T10:00:00' needs a UTC offset",
    }
    for args, message in cases.items():
        assert cli_main(["build", *args]) == 1, args
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"pulse: error: {message}"), lines[0]


@pytest.fixture
def database_without_app_schema(server_url: str) -> Iterator[str]:
    """A new database where ``pulse db init`` never ran."""
    name = f"pulse_t_build_no_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_build_failure_is_one_line_naming_the_model(database_without_app_schema: str) -> None:
    """A database with the warehouse schemas but no app schema: DbtBuildError with one line naming a staging model."""
    init_database(database_without_app_schema)
    with psycopg.connect(database_without_app_schema, autocommit=True) as conn:
        conn.execute("drop schema app cascade")
    with pytest.raises(DbtBuildError) as failure:
        build_warehouse(database_without_app_schema, progress=None)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("dbt build failed: model stg_app__"), message
    assert "does not exist" in message


def test_build_of_a_database_never_initialized_says_to_run_init(database_without_app_schema: str) -> None:
    """dbt logs in as pulse_transform, which may not create schemas: one line saying what to run."""
    with pytest.raises(DbtBuildError) as failure:
        build_warehouse(database_without_app_schema, progress=None)
    message = str(failure.value)
    assert "\n" not in message
    assert "permission denied for database" in message and "run `pulse db init`" in message, message


def test_dbt_unit_tests_pass(built: str) -> None:
    """The dbt unit tests (DST days, offsets, overlaps, invalid kinds, goal rules) pass against this database."""
    lines: list[str] = []
    run_dbt(["test", "--select", "test_type:unit"], built, progress=lines.append)
    summary = [line for line in lines if "Done. PASS=" in line]
    assert summary, lines[-5:]
    assert int(summary[-1].split("PASS=")[1].split()[0]) >= 12, summary


def test_an_invocation_of_another_range_skips_parsing(built: str) -> None:
    """run_dbt hands each invocation the parse state saved for its database, and a new range does not void it.

    The range reaches dbt as environment variables read at run time (pulse.dbt.build_env): as --vars, dbt
    hashed it into its parse state and parsed the whole project again for every new range.
    """
    for start, end in ((date(2025, 3, 9), date(2025, 3, 10)), (date(2025, 3, 10), date(2025, 3, 12))):
        lines: list[str] = []
        run_dbt(["ls", "--select", "stg_app__users"], built, build_vars(start, end), progress=lines.append)
    assert parse_state_path(dbt_env(built)).exists()
    # dbt says "Unable to do partial parsing because ..." when it parses the project again
    assert not [line for line in lines if "partial parsing" in line.lower()], lines
    assert any("stg_app__users" in line for line in lines), lines


def test_build_vars_and_env_are_the_seam() -> None:
    """Half-open vars as ISO strings (JSON-serializable for --vars); the PULSE_DB_* variables of a URL."""
    assert build_vars(date(2025, 3, 9), date(2025, 3, 12), datetime.fromisoformat(AS_OF)) == {
        "start_date": "2025-03-09",
        "end_date": "2025-03-12",
        "as_of": AS_OF,
    }
    assert json.loads(json.dumps(build_vars())) == {}
    # all three variables, empty for a default: one of the calling environment never reaches dbt
    assert build_env(build_vars(date(2025, 3, 9), date(2025, 3, 12))) == {
        "PULSE_BUILD_START_DATE": "2025-03-09",
        "PULSE_BUILD_END_DATE": "2025-03-12",
        "PULSE_BUILD_AS_OF": "",
    }
    with pytest.raises(ValueError, match="after start"):
        build_vars(date(2025, 3, 9), date(2025, 3, 9))
    with pytest.raises(ValueError, match="offset"):
        build_vars(as_of=datetime(2025, 3, 9, 12))
    # dbt logs in as the transformation role: a URL of that role as it is, any other login derived from it.
    assert dbt_env("postgresql://pulse_transform:s3cret@db.example:6543/pulse") == {
        "PULSE_DB_HOST": "db.example",
        "PULSE_DB_PORT": "6543",
        "PULSE_DB_USER": "pulse_transform",
        "PULSE_DB_PASSWORD": "s3cret",
        "PULSE_DB_NAME": "pulse",
        "PGOPTIONS": "-c lock_timeout=1000",
    }
    derived = dbt_env("postgresql://alice:s3cret@db.example:6543/pulse")
    assert derived["PULSE_DB_HOST"] == "db.example"
    # its own login and password (embedded default), or SET ROLE where DATABASE_URL has no role password
    assert derived["PULSE_DB_USER"] == "pulse_transform" or "-c role=pulse_transform" in derived["PGOPTIONS"]


def test_a_full_build_replaces_views_in_place(built: str) -> None:
    """A second full build keeps every view (same object, so the views built on it stay) and drops nothing.

    dbt's default view materialization renames the old view away and drops it with CASCADE: two threads
    replacing two staging views that a third view reads deadlock on that drop, and every dependent view
    vanishes until it is rebuilt. The project's view materialization replaces a view in place.
    """
    query = (
        "select c.oid, n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind = 'v' and n.nspname in ('staging', 'intermediate', 'analytics')"
    )
    with psycopg.connect(built) as conn:
        before = dict(conn.execute(query).fetchall())
    assert len(before) >= 10, before
    build_warehouse(built, as_of=datetime.fromisoformat(AS_OF), progress=None)
    with psycopg.connect(built) as conn:
        after = dict(conn.execute(query).fetchall())
    assert after == before


def test_a_view_whose_columns_changed_is_recreated(built: str) -> None:
    """A view with columns PostgreSQL cannot replace in place (one removed) is dropped and created again."""
    with psycopg.connect(built) as conn:
        conn.execute("drop view analytics.invalid_slots")
        conn.execute("create view analytics.invalid_slots as select null::uuid as user_id, now() as parsed_at")
        conn.commit()
    build_warehouse(built, as_of=datetime.fromisoformat(AS_OF), progress=None)
    with psycopg.connect(built) as conn:
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'analytics' and table_name = 'invalid_slots' order by ordinal_position"
            )
        ]
    assert columns == ["user_id", "source", "task_id", "date", "slot_index", "slot", "reason"]
