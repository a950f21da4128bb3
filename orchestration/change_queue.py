"""The change queue in the database (``pulse_state.source_changes``): claim committed changes, settle them by runs.

Statement-level triggers on the app tables (pulse/sql/init.sql) write one row
per changed key (a task, a calendar day, a user, ...) in the transaction that
changes it, so a row becomes visible exactly when that transaction commits,
whatever its ``updated_at``. Consumers never keep a position in it:

1. ``settle`` looks at every claimed batch: when all its runs succeeded, its
   rows are deleted; when one failed for good (or its runs never appeared
   within ``grace_seconds``), the claim is released and a later claim takes
   the rows again (after ``MAX_ATTEMPTS`` releases the rows are dropped with an
   error: the drift check repairs what they touched).
2. ``claim`` takes the visible, unclaimed rows into a new batch
   (``update ... set batch = ... where batch is null``) and ``plan`` turns them
   into the dates and tables to rebuild. Runs carry the batch in ``BATCH_TAG``
   and their number in ``BATCH_RUNS_TAG``.

A row committed after a claim is simply not in it: the next claim takes it.
The state lives in the database it describes, so a new Dagster instance, or
one pointed at several databases in turn, loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

BATCH_TAG = "pulse/batch"
BATCH_RUNS_TAG = "pulse/batch_runs"
ROOT_RUN_TAG = "dagster/root_run_id"
WILL_RETRY_TAG = "dagster/will_retry"
MAX_ATTEMPTS = 3
# The tables whose rows place a task or a day on local dates; a TRUNCATE or bulk change of one rebuilds every date.
DATED_TABLES = {"tasks", "user_calendar_days", "users"}

UNFINISHED = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]

# The picked ids are a materialized CTE, evaluated once: an IN (subquery with LIMIT) may be rescanned by the
# plan and claim more than the limit.
CLAIM_SQL = """
with picked as materialized (
    select change_id from pulse_state.source_changes where batch is null
    order by change_id limit %(limit)s for update skip locked
)
update pulse_state.source_changes as changes set batch = %(batch)s, claimed_at = now()
from picked where changes.change_id = picked.change_id
returning changes.table_name, changes.kind, changes.user_id, changes.task_id, changes.date
"""

TASK_DATES_SQL = """
select date from analytics.task_local_dates where task_id = any(%(ids)s)
union
select date from analytics.fct_task_dates where task_id = any(%(ids)s)
"""

USER_HISTORY_SQL = """
select user_id, min(date), max(date) from (
    select user_id, date from analytics.task_local_dates where user_id = any(%(ids)s)
    union all
    select user_id, date from analytics.analytics_daily_metrics where user_id = any(%(ids)s)
    union all
    select user_id, date from app.user_calendar_days where user_id = any(%(ids)s)
) as history
group by user_id
"""

# Goal snapshots are daily models: any ranged run recomputes a changed goal whole (by its definition's hash),
# so a goal change asks for the one date that is surely in the marts' future: the user's today.
USER_TODAY_SQL = "select local_today from analytics.user_local_today where user_id = any(%(ids)s)"
ANY_TODAY_SQL = "select max(local_today) from analytics.user_local_today"

# Every date: what the marts were built over and what the source touches (calendar days, task lifetimes).
EVERY_DATE_SQL = """
select least(b.first, d.first, t.first), greatest(b.last, d.last, t.last) from
    (select min(start_date) as first, max(end_date) - 1 as last from analytics.mart_build_log) as b,
    (select min(date) as first, max(date) as last from app.user_calendar_days) as d,
    (select min(created_at)::date - 1 as first,
            max(greatest(updated_at, completed_at, created_at))::date + 1 as last from app.tasks) as t
"""


@dataclass
class ChangePlan:
    """What one claimed batch asks to rebuild."""

    batch: str
    changes: int = 0
    tables: set[str] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    every_date: bool = False


def new_batch_id(prefix: str) -> str:
    """A batch id no other claim uses (``prefix`` says who claimed it: sensor, refresh, build)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def claim(conn: psycopg.Connection[Any], batch: str, limit: int) -> list[tuple[Any, ...]]:
    """Claim up to ``limit`` visible, unclaimed changes (oldest first) into ``batch``; their rows."""
    with conn.transaction():
        return conn.execute(CLAIM_SQL, {"batch": batch, "limit": limit}).fetchall()


def plan(conn: psycopg.Connection[Any], batch: str, rows: Sequence[tuple[Any, ...]]) -> ChangePlan:
    """The dates and tables a batch's changes touch.

    A task: where the source puts it now and where the marts last put it (read
    while no run is in flight, so the dates a moved slot left are known); a
    calendar day: its date; a user: their whole history (a time-zone change
    moves every local date); a TRUNCATE or bulk change of a dated table: every date;
    a goal: its user's today (any ranged run recomputes a changed goal's snapshots whole).
    """
    result = ChangePlan(batch=batch, changes=len(rows))
    task_ids: set[uuid.UUID] = set()
    user_ids: set[uuid.UUID] = set()
    goal_user_ids: set[uuid.UUID] = set()
    every_goal = False
    for table, kind, user_id, task_id, day in rows:
        result.tables.add(table)
        if table == "goals":
            every_goal = every_goal or user_id is None or kind in ("truncate", "bulk")
            if user_id is not None:
                goal_user_ids.add(user_id)
        elif kind in ("truncate", "bulk"):
            result.every_date = result.every_date or table in DATED_TABLES
        elif table == "tasks" and task_id is not None:
            task_ids.add(task_id)
        elif table == "user_calendar_days" and day is not None:
            result.dates.add(day)
        elif table == "users" and user_id is not None:
            user_ids.add(user_id)
    if result.every_date:
        row = conn.execute(EVERY_DATE_SQL).fetchone()
        if row is not None and row[0] is not None:
            first, last = row
            result.dates |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
        return result
    if task_ids:
        result.dates |= {r[0] for r in conn.execute(TASK_DATES_SQL, {"ids": sorted(task_ids)})}
    if every_goal:
        result.dates |= {r[0] for r in conn.execute(ANY_TODAY_SQL) if r[0] is not None}
    elif goal_user_ids:
        result.dates |= {r[0] for r in conn.execute(USER_TODAY_SQL, {"ids": sorted(goal_user_ids)})}
    if user_ids:
        for _user, first, last in conn.execute(USER_HISTORY_SQL, {"ids": sorted(user_ids)}):
            result.dates |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
    return result


def release(conn: psycopg.Connection[Any], batch: str, count_attempt: bool = True) -> None:
    """Give a batch's rows back to the queue (the next claim takes them), counting the attempt unless told not to."""
    conn.execute(
        "update pulse_state.source_changes set batch = null, claimed_at = null, attempts = attempts + %s"
        " where batch = %s",
        (int(count_attempt), batch),
    )


def finish(conn: psycopg.Connection[Any], batch: str) -> int:
    """Delete a handled batch's rows; how many there were."""
    return conn.execute("delete from pulse_state.source_changes where batch = %s", (batch,)).rowcount


def _latest_per_root(runs: Sequence[DagsterRun]) -> list[DagsterRun]:
    """The newest run of each retry chain (runs come newest first)."""
    latest: dict[str, DagsterRun] = {}
    for run in runs:
        latest.setdefault(run.tags.get(ROOT_RUN_TAG, run.run_id), run)
    return list(latest.values())


def batch_outcome(instance: DagsterInstance, batch: str, claimed_at: datetime, grace_seconds: float) -> str:
    """``succeeded``, ``failed`` (for good), ``missing`` (no runs after the grace) or ``pending`` for a batch."""
    runs = _latest_per_root(instance.get_runs(RunsFilter(tags={BATCH_TAG: batch})))
    waited = (datetime.now(UTC) - claimed_at).total_seconds()
    if not runs:
        return "missing" if waited >= grace_seconds else "pending"
    expected = max(int(run.tags.get(BATCH_RUNS_TAG, "1")) for run in runs)
    if any(run.status in UNFINISHED for run in runs):
        return "pending"
    for run in runs:
        if run.status != DagsterRunStatus.SUCCESS:
            retrying = run.tags.get(WILL_RETRY_TAG) == "true" and waited < grace_seconds
            return "pending" if retrying else "failed"
    if len(runs) < expected:
        return "missing" if waited >= grace_seconds else "pending"
    return "succeeded"


def settle(
    conn: psycopg.Connection[Any], instance: DagsterInstance, grace_seconds: float, log: Callable[[str], None]
) -> list[tuple[str, str]]:
    """Delete the rows of batches whose runs all succeeded, release those that failed; (batch, outcome) pairs."""
    claimed = conn.execute(
        "select batch, min(claimed_at), max(attempts), count(*) from pulse_state.source_changes"
        " where batch is not null group by batch order by 2"
    ).fetchall()
    outcomes = []
    for batch, claimed_at, attempts, count in claimed:
        outcome = batch_outcome(instance, batch, claimed_at, grace_seconds)
        outcomes.append((batch, outcome))
        if outcome == "succeeded":
            finish(conn, batch)
        elif outcome in ("failed", "missing") and attempts + 1 >= MAX_ATTEMPTS:
            finish(conn, batch)
            log(f"batch {batch} ({count} changes) {outcome} {attempts + 1} times: dropped (the drift check repairs)")
        elif outcome in ("failed", "missing"):
            release(conn, batch)
            log(f"batch {batch} ({count} changes): runs {outcome}, released for the next claim")
    return outcomes


def pending_changes(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """(unclaimed, claimed) rows in the queue."""
    row = conn.execute(
        "select count(*) filter (where batch is null), count(*) filter (where batch is not null)"
        " from pulse_state.source_changes"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])
