"""The incremental state of the warehouse: what a ranged build re-reads, and that it stays right.

A ranged build must cost what changed, not the history (issue 3): the parsed-slot tables re-parse only
the source rows changed since their last parse, and the goal snapshots recompute only the periods that
can have changed. These tests pin that down on seeded data whose updated_at lies far in the past, and
check that what is skipped is never wrong: late commits inside the lookback, hard deletes of tasks,
calendar days and goals, a daily build and a goal build in separate dbt invocations (as Dagster runs
them), and an as_of moved backwards then forwards all end with the same goal snapshots as a full
recompute.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from pulse.dbt import DAILY_TAG, build_vars, build_warehouse, run_dbt
from pulse.schema import init_sql
from pulse.seed import SeedPlan, seed_database

PLAN = SeedPlan(users=30, days=30, start=date(2025, 6, 1), seed=11)
AS_OF = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
DAY = date(2025, 6, 20)


def one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Any:
    """The single value of a query."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def parsed_at_by_task(conn: psycopg.Connection[Any]) -> dict[uuid.UUID, datetime]:
    """When each task was last summarized (int_tasks_summarized.parsed_at)."""
    return dict(conn.execute("select task_id, parsed_at from analytics.int_tasks_summarized").fetchall())


def day_minutes(conn: psycopg.Connection[Any], user_id: uuid.UUID, day: date) -> tuple[int, int]:
    """(scheduled minutes, focus available minutes) of a user's day in the mart, zeros when absent."""
    row = conn.execute(
        "select total_scheduled_minutes, focus_available_minutes from analytics.analytics_daily_metrics"
        " where user_id = %s and date = %s",
        (user_id, day),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def goal_snapshot_rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Every row of analytics.goal_progress_snapshots in a total order."""
    return conn.execute("select * from analytics.goal_progress_snapshots order by goal_id, period_start").fetchall()


def build_like_dagster(url: str, start: date, end: date, as_of: datetime) -> None:
    """A daily build of [start, end) and then a separate build of everything else, as the two Dagster ops run."""
    daily = build_vars(start, end, as_of)
    run_dbt(["build", "--select", f"tag:{DAILY_TAG}", "--exclude-resource-type", "unit_test"], url, daily, None)
    rest = build_vars(None, None, as_of)
    run_dbt(["build", "--exclude", f"tag:{DAILY_TAG}", "--exclude-resource-type", "unit_test"], url, rest, None)


@pytest.fixture(scope="module")
def seeded(pulse_db: str) -> str:
    """30 users x 30 days of June 2025 (every updated_at months old), built in full."""
    seed_database(pulse_db, PLAN, replace=True, workers=1, progress=None)
    build_warehouse(pulse_db, as_of=AS_OF, progress=None)
    return pulse_db


def test_a_ranged_build_parses_only_the_changed_rows(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        before = parsed_at_by_task(conn)
        task_id, user_id = conn.execute(
            "select task_id, user_id from app.tasks where deleted_at is null and status <> 'cancelled'"
            " order by task_id limit 1"
        ).fetchone()
        zone = one(conn, "select timezone from app.users where user_id = %s", (user_id,))
        start = one(conn, "select (%s::date + time '10:00') at time zone %s", (DAY, zone))
        scheduled_before, _ = day_minutes(conn, user_id, DAY)
        old_minutes_on_day = one(
            conn,
            "select coalesce(sum(minutes), 0) from analytics.int_scheduled_slot_pieces"
            " where task_id = %s and date = %s",
            (task_id, DAY),
        )
        slot = {"start": start.isoformat(), "end": (start + timedelta(minutes=95)).isoformat()}
        conn.execute(
            "update app.tasks set scheduled_slots = %s, updated_at = now() where task_id = %s", (Jsonb([slot]), task_id)
        )
        conn.execute(
            "insert into app.user_calendar_days (user_id, date, focus_slots, updated_at) values (%s, %s, %s, now())"
            " on conflict (user_id, date) do update set focus_slots = excluded.focus_slots, updated_at = now()",
            (user_id, DAY, Jsonb([{"start": "09:00", "end": "12:00"}, {"start": "nine", "end": "ten"}])),
        )
        conn.commit()

    build_warehouse(seeded, DAY, DAY + timedelta(days=1), as_of=AS_OF, progress=None)

    with psycopg.connect(seeded) as conn:
        after = parsed_at_by_task(conn)
        reparsed = {task for task, parsed_at in after.items() if parsed_at != before.get(task)}
        assert reparsed == {task_id}, f"{len(reparsed)} tasks re-parsed, expected only the changed one"
        reparsed_days = conn.execute(
            "select distinct user_id, date from analytics.int_focus_slots_parsed where parsed_at > %s",
            (max(before.values()),),
        ).fetchall()
        assert reparsed_days == [(user_id, DAY)]
        day_rows = conn.execute(
            "select slot_index, start_minute, end_minute, invalid_reason from analytics.int_focus_slots_parsed"
            " where user_id = %s and date = %s order by slot_index",
            (user_id, DAY),
        ).fetchall()
        assert day_rows == [(1, 540, 720, None), (2, None, None, "unparseable_start")]
        scheduled_after, focus_available = day_minutes(conn, user_id, DAY)
        assert scheduled_after == scheduled_before - old_minutes_on_day + 95
        assert focus_available == 180
        new_invalid = conn.execute(
            "select reason from analytics.invalid_slots where user_id = %s and date = %s", (user_id, DAY)
        ).fetchall()
        assert new_invalid == [("unparseable_start",)]


def test_a_late_commit_inside_the_lookback_is_still_parsed(seeded: str) -> None:
    """A transaction that began before the last parse commits an updated_at older than that parse."""
    with psycopg.connect(seeded) as conn:
        last_parse = one(conn, "select max(parsed_at) from analytics.int_tasks_summarized")
        task_id = one(conn, "select task_id from app.tasks where status <> 'completed' order by task_id desc limit 1")
        conn.execute(
            "update app.tasks set status = 'completed', completed_at = %s, updated_at = %s - interval '20 minutes'"
            " where task_id = %s",
            (datetime(2025, 6, 20, 15, tzinfo=UTC), last_parse, task_id),
        )
        conn.commit()
    build_warehouse(seeded, DAY - timedelta(days=1), DAY + timedelta(days=2), as_of=AS_OF, progress=None)
    with psycopg.connect(seeded) as conn:
        status, parsed_at = conn.execute(
            "select status, parsed_at from analytics.int_tasks_summarized where task_id = %s", (task_id,)
        ).fetchone()
    assert (status, parsed_at > last_parse) == ("completed", True)


SOURCE_DELETE_TRIGGERS = {
    "tasks": ["tasks_record_deletes", "tasks_record_truncates"],
    "user_calendar_days": ["user_calendar_days_record_deletes", "user_calendar_days_record_truncates"],
}


def task_on_one_day(conn: psycopg.Connection[Any], day: date) -> tuple[uuid.UUID, uuid.UUID, int]:
    """(task_id, user_id, minutes) of a task still in the source whose every piece lies on ``day``."""
    row = conn.execute(
        "select task_id, user_id, sum(minutes) from analytics.int_scheduled_slot_pieces as pieces"
        " where exists (select from app.tasks where tasks.task_id = pieces.task_id)"
        " group by task_id, user_id having min(date) = %s and max(date) = %s order by task_id limit 1",
        (day, day),
    ).fetchone()
    assert row is not None
    return row[0], row[1], int(row[2])


@pytest.mark.parametrize("recorded", [True, False], ids=["tombstones", "without-triggers"])
def test_hard_deletes_leave_the_rebuilt_days_and_invalid_slots(seeded: str, recorded: bool) -> None:
    """Hard deletes leave the built range, with the tombstone triggers of pulse db init and without them."""
    with psycopg.connect(seeded) as conn:
        if not recorded:
            for table, triggers in SOURCE_DELETE_TRIGGERS.items():
                for trigger in triggers:
                    conn.execute(f"drop trigger {trigger} on app.{table}")
        task_id, user_id, minutes = task_on_one_day(conn, DAY)
        # a task outside the built range: only tombstones tell a ranged build it is gone
        far_task, _, _ = task_on_one_day(conn, DAY + timedelta(days=3))
        invalid_task = one(conn, "select task_id from analytics.invalid_slots where source = 'scheduled' limit 1")
        focus_user = one(
            conn,
            "select user_id from analytics.analytics_daily_metrics where date = %s and focus_available_minutes > 0"
            " order by user_id limit 1",
            (DAY,),
        )
        scheduled_before, _ = day_minutes(conn, user_id, DAY)
        conn.execute("delete from app.tasks where task_id = any(%s)", ([task_id, invalid_task, far_task],))
        conn.execute("delete from app.user_calendar_days where user_id = %s and date = %s", (focus_user, DAY))
        conn.commit()
    try:
        build_warehouse(seeded, DAY, DAY + timedelta(days=1), as_of=AS_OF, progress=None)
        with psycopg.connect(seeded) as conn:
            assert day_minutes(conn, user_id, DAY)[0] == scheduled_before - minutes
            assert day_minutes(conn, focus_user, DAY)[1] == 0
            listed = one(conn, "select count(*) from analytics.invalid_slots where task_id = %s", (invalid_task,))
            assert listed == 0, "a hard-deleted task's invalid slot is still listed"
            far_rows = one(conn, "select count(*) from analytics.int_task_slots_parsed where task_id = %s", (far_task,))
            # tombstones remove a deleted task's parsed slots wherever they lie; the check without them
            # sees only the built range's
            assert (far_rows == 0) is recorded, far_rows
    finally:
        if not recorded:
            with psycopg.connect(seeded) as conn:
                conn.execute(init_sql().encode())


def test_a_truncated_calendar_leaves_every_day_built_after_it(seeded: str) -> None:
    """After TRUNCATE (a tombstone without a key) a ranged build drops every focus slot parsed before it."""
    try:
        with psycopg.connect(seeded) as conn:
            conn.execute("truncate app.user_calendar_days")
            conn.commit()
        build_warehouse(seeded, DAY, DAY + timedelta(days=1), as_of=AS_OF, progress=None)
        with psycopg.connect(seeded) as conn:
            assert one(conn, "select count(*) from analytics.int_focus_slots_parsed") == 0
            available = "select coalesce(sum(focus_available_minutes), 0) from analytics.analytics_daily_metrics"
            assert one(conn, available + " where date = %s", (DAY,)) == 0
            # a date outside the range keeps its minutes until it is rebuilt, as with any source change
            assert one(conn, available + " where date = %s", (DAY + timedelta(days=3),)) > 0
    finally:
        # the module's later tests need the seeded data back
        seed_database(seeded, PLAN, replace=True, workers=1, progress=None)
        build_warehouse(seeded, as_of=AS_OF, full_refresh=True, progress=None)


def test_goal_snapshots_kept_incrementally_equal_a_full_recompute(seeded: str) -> None:
    """Changed, deleted and new goals, a changed task, split builds, as_of back and forth: same rows as from scratch."""
    with psycopg.connect(seeded) as conn:
        goals = [g for (g,) in conn.execute("select goal_id from app.goals where is_active order by goal_id")]
        user_id = one(conn, "select user_id from app.goals where goal_id = %s", (goals[0],))
        conn.execute("update app.goals set target_value = 1, updated_at = now() where goal_id = %s", (goals[0],))
        conn.execute("delete from app.goals where goal_id = %s", (goals[1],))
        conn.execute(
            "insert into app.goals (user_id, name, target_type, target_value, time_period, created_at)"
            " values (%s, 'new daily', 'minutes', 60, 'daily', '2025-06-03T08:00:00Z'),"
            " (%s, 'new monthly', 'task_count', 5, 'monthly', '2025-05-20T08:00:00Z')",
            (user_id, user_id),
        )
        conn.execute(
            "update app.tasks set scheduled_slots = '[]', updated_at = now() where task_id ="
            " (select task_id from analytics.int_scheduled_slot_pieces where date = '2025-06-10' limit 1)"
        )
        conn.commit()
    build_like_dagster(seeded, date(2025, 6, 10), date(2025, 6, 11), AS_OF)
    earlier, later = AS_OF - timedelta(days=9), AS_OF + timedelta(days=3)
    build_like_dagster(seeded, date(2025, 6, 12), date(2025, 6, 13), earlier)  # the periods after it must go
    with psycopg.connect(seeded) as conn:
        at_earlier = goal_snapshot_rows(conn)
    build_like_dagster(seeded, date(2025, 6, 29), date(2025, 6, 30), later)
    with psycopg.connect(seeded) as conn:
        at_later = goal_snapshot_rows(conn)
    assert {row[10] for row in at_later} == {later}, "taken_at is the latest build's as_of on every row"

    for as_of, incremental in ((later, at_later), (earlier, at_earlier)):
        # recompute the goal snapshots from scratch over the same daily marts
        args = ["build", "--select", "int_goal_period_progress+", "--full-refresh"]
        run_dbt([*args, "--exclude-resource-type", "unit_test"], seeded, build_vars(None, None, as_of), None)
        with psycopg.connect(seeded) as conn:
            recomputed = goal_snapshot_rows(conn)
        assert len(incremental) == len(recomputed) > 0
        assert incremental == recomputed, f"incremental goal snapshots as of {as_of} differ from a full recompute"
    assert len(at_earlier) < len(at_later), "a build with an earlier as_of keeps no future periods"


def test_a_parsed_table_from_before_parsed_at_is_parsed_again_whole(seeded: str) -> None:
    """An upgrade: a table built by an older Pulse has no parsed_at; the next ranged build re-parses it."""
    with psycopg.connect(seeded) as conn:
        tasks = one(conn, "select count(*) from app.tasks")
        conn.execute("alter table analytics.int_tasks_summarized drop column parsed_at")
        conn.commit()
    build_warehouse(seeded, DAY, DAY + timedelta(days=1), as_of=AS_OF, progress=None)
    with psycopg.connect(seeded) as conn:
        reparsed = one(
            conn,
            "select count(*) from analytics.int_tasks_summarized as summarized"
            " where parsed_at > now() - interval '10 minutes'"
            " and exists (select 1 from app.tasks where tasks.task_id = summarized.task_id)",
        )
    assert reparsed == tasks, "every source task is summarized again"


HOOK_INDEXES = {
    # table: (kind of index, what its definition holds), created by create_index_once hooks
    "int_task_slots_parsed": [
        ("valid_start", "(start_at) WHERE (invalid_reason IS NULL)"),
        ("valid_long_end", "(end_at) WHERE ((invalid_reason IS NULL) AND ((end_at - start_at) > '2 days'::interval))"),
        ("invalid", "WHERE (invalid_reason IS NOT NULL)"),
    ],
    "int_focus_slots_parsed": [("invalid", "WHERE (invalid_reason IS NOT NULL)")],
    "int_goal_period_progress": [("period_start", "(period_start)")],
}


def hook_indexes(conn: psycopg.Connection[Any]) -> dict[str, list[tuple[str, str]]]:
    """Per table of HOOK_INDEXES, (index name, definition) of its indexes made by hooks (named <table>_<kind>_...)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, kinds in HOOK_INDEXES.items():
        rows = conn.execute(
            "select indexname, indexdef from pg_indexes where schemaname = 'analytics' and tablename = %s",
            (table,),
        ).fetchall()
        prefixes = [f"{table}_{kind}_" for kind, _ in kinds]
        found[table] = [(name, definition) for name, definition in rows if any(p in name for p in prefixes)]
    return found


def test_a_full_refresh_keeps_the_indexes_ranged_builds_use(seeded: str) -> None:
    """A full refresh replaces the tables; the indexes that hooks make must be on the new ones, once.

    dbt renames the old table to a backup that keeps its indexes until the commit: an index created with a
    fixed name and `if not exists` found the backup's and was missing until the next build.
    """
    for build in ("full refresh", "ranged build after it"):
        if build == "full refresh":
            build_warehouse(seeded, as_of=AS_OF, full_refresh=True, progress=None)
        else:
            build_warehouse(seeded, DAY, DAY + timedelta(days=1), as_of=AS_OF, progress=None)
        with psycopg.connect(seeded) as conn:
            found = hook_indexes(conn)
        for table, kinds in HOOK_INDEXES.items():
            for kind, definition in kinds:
                matching = [index for index in found[table] if f"{table}_{kind}_" in index[0]]
                count = len(matching)
                assert count == 1, f"after a {build}, {table} has {count} '{kind}' indexes: {found[table]}"
                assert definition in matching[0][1], matching[0]


def test_a_ranged_build_drops_the_gist_indexes_of_earlier_versions(seeded: str) -> None:
    """Databases built by earlier versions lose the GiST indexes that btree indexes replaced."""
    leftovers = {
        "int_task_slots_parsed": "using gist (tstzrange(start_at, end_at)) where invalid_reason is null",
        "int_goal_period_progress": "using gist (daterange(period_start, period_end, '[]'))",
    }
    kind = {"int_task_slots_parsed": "valid_range", "int_goal_period_progress": "period_range"}
    with psycopg.connect(seeded) as conn:
        for table, definition in leftovers.items():
            conn.execute(f"create index {table}_{kind[table]}_0ld on analytics.{table} {definition}")
        conn.commit()
    build_warehouse(seeded, DAY, DAY + timedelta(days=1), as_of=AS_OF, progress=None)
    with psycopg.connect(seeded) as conn:
        left = conn.execute(
            "select indexname from pg_indexes where schemaname = 'analytics' and indexname like '%\\_0ld'"
        ).fetchall()
    assert left == []
