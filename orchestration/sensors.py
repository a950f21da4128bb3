"""The change sensor: source rows changed since its cursor become runs for exactly the local dates they touch.

Each tick reads the rows of ``app.tasks``, ``app.user_calendar_days``,
``app.categories``, ``app.goals`` and ``app.users`` that come after the cursor in
the order (``updated_at``, table, key), at most ``max_changes_per_tick`` of them,
and turns them into dates:

- a task: the dates it touches now (``analytics.task_local_dates``, a view over
  the source) and the dates the marts last put it on (``analytics.fct_task_dates``),
  so a slot moved away or a deleted task rebuilds the date it left;
- a calendar day: its date;
- a user: that user's whole history (first to last date of where the source
  puts them now, of their rows in ``analytics.analytics_daily_metrics`` (every
  date the marts gave them minutes, a completion or a due task) and of their
  calendar days), since a time-zone change moves every local date.

Contiguous dates become one ranged run of ``daily_marts_job`` (and so do dates
at most ``MERGE_GAP_DAYS`` apart, the days between included: a second run costs
more than a few more days of one); the unpartitioned
tables downstream of a changed table (goal snapshots after a goal changed, say)
get one run of ``unpartitioned_job`` unless a ranged run rebuilds them anyway.

Cursor and run keys. The cursor is the position (``updated_at``, table, key) of
the last row read, so rows sharing a timestamp are neither skipped nor read
twice, and a burst larger than the bound is spread over the next ticks (the
cursor only moves over what was requested). Rows are read only once they are
``settle_seconds`` old, so a transaction that set ``updated_at`` a moment before
committing is not overtaken by the cursor. A run key is the batch's (from, to)
positions and the date range, so evaluating the same batch again never launches
a second run. With no cursor yet, the sensor starts at the latest build recorded
in ``analytics.mart_build_log`` (or now, when nothing was built): changes before
that are in the marts already.

One run at a time. A tick reads nothing while a run is queued or in progress:
such a run may be about to write where a task was when it read the source, and
the tick would miss that date if it read ``fct_task_dates`` first. Once it is
finished, ``fct_task_dates`` holds every date the marts hold each task on (a view
over the pieces and events rebuilt with them, over the same range), so the dates a task left are all
there. Runs are serialized by the warehouse pool anyway, so waiting costs no
throughput, and the changes made meanwhile become one batch.

Failed runs. ``dagster.yaml`` retries a failed run up to three times (run
retries, by the daemon). When a change run has failed for good (its retries are
used up, or it ran in process with no daemon to retry it and ``retry_grace_seconds``
passed), a later tick asks for the same dates again, as a new run keyed by the
failed run's id, up to ``MAX_RESUBMITS`` times per change. The cursor holds no
failure state: the instance's run history is the record, so a failed range is
never lost even though the cursor moved on. (A range that keeps failing, e.g. a
dbt test that fails on the data, stops after that and is logged; the nightly
schedule covers recent dates again.) ``pulse refresh``
evaluates this same sensor once (see orchestration/refresh.py).
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import psycopg
from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.assets.dbt import rebuilt_tables_downstream
from orchestration.jobs import daily_marts_job, unpartitioned_job
from orchestration.partitions import first_partition_date, last_partition_date, partition_range_tags
from orchestration.resources import PulseDatabase

SENSOR_NAME = "source_change_sensor"
TRIGGER_TAG = "pulse/trigger"
ATTEMPT_TAG = "pulse/attempt"
MAX_RESUBMITS = 2
# Two touched dates at most this many days apart are rebuilt in one run, the days between included: each run
# costs tens of seconds of fixed dbt and process time and runs go one at a time, while a few more days of a
# ranged build cost little. 0 would give one run per contiguous stretch of touched dates.
MERGE_GAP_DAYS = 31
SHARED_CURSOR_KEY = "pulse/source_change_sensor/cursor"  # where `pulse refresh` leaves its cursor for the daemon

# Every changed source row, in one total order: (updated_at, source, key).
CHANGES_SQL = """
select updated_at, source, key, user_id, task_id, day from (
    select updated_at, 'calendar_days' as source, user_id::text || '/' || date::text as key,
           user_id, null::uuid as task_id, date as day
    from app.user_calendar_days where updated_at >= %(since)s
    union all
    select updated_at, 'categories', category_id::text, user_id, null, null
    from app.categories where updated_at >= %(since)s
    union all
    select updated_at, 'goals', goal_id::text, user_id, null, null from app.goals where updated_at >= %(since)s
    union all
    select updated_at, 'tasks', task_id::text, user_id, task_id, null from app.tasks where updated_at >= %(since)s
    union all
    select updated_at, 'users', user_id::text, user_id, null, null from app.users where updated_at >= %(since)s
) as changes
where (updated_at, source, key) > (%(since)s, %(source)s, %(key)s)
  and updated_at <= now() - make_interval(secs => %(settle)s)
order by updated_at, source, key
limit %(limit)s
"""

TASK_DATES_SQL = """
select date from analytics.task_local_dates where task_id = any(%(ids)s)
union
select date from analytics.fct_task_dates where task_id = any(%(ids)s)
"""

USER_TODAY_SQL = "select local_today from analytics.user_local_today where user_id = any(%(ids)s)"

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

# A run in one of these states may still be writing fct_task_dates and the marts.
UNFINISHED = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]

START_SQL = "select coalesce(max(built_at), now()) from analytics.mart_build_log"


@dataclass(frozen=True, order=True)
class ChangePosition:
    """A place in the order of source changes: after every row at or before it."""

    updated_at: datetime
    source: str = ""
    key: str = ""

    def to_cursor(self) -> str:
        """The sensor cursor text of this position."""
        return json.dumps({"updated_at": self.updated_at.isoformat(), "source": self.source, "key": self.key})

    @classmethod
    def from_cursor(cls, text: str | None) -> "ChangePosition | None":
        """The position a cursor text holds (None for no cursor)."""
        if not text:
            return None
        data = json.loads(text)
        return cls(datetime.fromisoformat(data["updated_at"]), data["source"], data["key"])


@dataclass(frozen=True)
class SourceChange:
    """One changed source row."""

    position: ChangePosition
    user_id: str
    task_id: str | None
    day: date | None


@dataclass
class ChangePlan:
    """What one batch of changes asks to rebuild."""

    dates: set[date]
    sources: set[str]
    outside_partitions: int = 0


def read_changes(
    conn: psycopg.Connection[Any], after: ChangePosition, limit: int, settle_seconds: float
) -> list[SourceChange]:
    """The next ``limit`` source changes after ``after`` that are at least ``settle_seconds`` old."""
    rows = conn.execute(
        CHANGES_SQL,
        {"since": after.updated_at, "source": after.source, "key": after.key, "settle": settle_seconds, "limit": limit},
    ).fetchall()
    return [
        SourceChange(ChangePosition(updated_at, source, key), str(user_id), str(task_id) if task_id else None, day)
        for updated_at, source, key, user_id, task_id, day in rows
    ]


def dates_touched(conn: psycopg.Connection[Any], changes: Sequence[SourceChange]) -> set[date]:
    """Every local date the changed rows touch now or touched when the marts were last built."""
    dates = {change.day for change in changes if change.day is not None}
    task_ids = sorted({change.task_id for change in changes if change.task_id})
    if task_ids:
        dates |= {row[0] for row in conn.execute(TASK_DATES_SQL, {"ids": task_ids})}
    goal_user_ids = sorted({change.user_id for change in changes if change.position.source == "goals"})
    if goal_user_ids:  # goal snapshots follow any daily run (a changed goal is recomputed whole): the user's today
        dates |= {row[0] for row in conn.execute(USER_TODAY_SQL, {"ids": goal_user_ids})}
    user_ids = sorted({change.user_id for change in changes if change.position.source == "users"})
    if user_ids:
        for _user, first, last in conn.execute(USER_HISTORY_SQL, {"ids": user_ids}):
            dates |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
    return dates


def contiguous_ranges(dates: Iterable[date], merge_gap_days: int = 0) -> list[tuple[date, date]]:
    """The dates as inclusive (first, last) ranges, in order: consecutive days, and gaps up to ``merge_gap_days``."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(dates)):
        if ranges and day <= ranges[-1][1] + timedelta(days=1 + merge_gap_days):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _batch_id(after: ChangePosition, last: ChangePosition) -> str:
    """A short, stable id of the batch of changes between two cursor positions."""
    return hashlib.sha256(f"{after.to_cursor()}|{last.to_cursor()}".encode()).hexdigest()[:16]


def stored_position(context: SensorEvaluationContext) -> ChangePosition | None:
    """The later of the sensor's own cursor and the one ``pulse refresh`` left in the instance."""
    own = ChangePosition.from_cursor(context.cursor)
    shared_text = context.instance.run_storage.get_cursor_values({SHARED_CURSOR_KEY}).get(SHARED_CURSOR_KEY)
    shared = ChangePosition.from_cursor(shared_text)
    candidates = [p for p in (own, shared) if p is not None]
    return max(candidates) if candidates else None


def resubmissions(context: SensorEvaluationContext, retry_grace_seconds: float) -> list[RunRequest]:
    """New runs for change runs that failed for good, so their dates are built after all.

    A failed run the run-retry daemon will re-execute (``dagster/will_retry``) is
    left to it, unless ``retry_grace_seconds`` passed without a retry run appearing
    (no daemon: ``pulse refresh`` runs in process).
    """
    instance = context.instance
    records = instance.get_run_records(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.FAILURE],
            tags={TRIGGER_TAG: "change"},
            updated_after=datetime.now(UTC) - timedelta(days=1),
        ),
        limit=50,
    )
    requests = []
    for record in records:
        run = record.dagster_run
        if run.tags.get("dagster/will_retry") == "true":
            retried = instance.get_run_ids(RunsFilter(tags={"dagster/parent_run_id": run.run_id}), limit=1)
            waited = (datetime.now(UTC) - record.update_timestamp.replace(tzinfo=UTC)).total_seconds()
            if retried or waited < retry_grace_seconds:
                continue
        attempt = int(run.tags.get(ATTEMPT_TAG, "0"))
        if attempt >= MAX_RESUBMITS:
            context.log.warning(f"run {run.run_id} failed after {attempt} resubmissions: not asking again")
            continue
        keep = {k: v for k, v in run.tags.items() if k.startswith("dagster/asset_partition_range") or k == TRIGGER_TAG}
        requests.append(
            RunRequest(
                run_key=f"resubmit:{run.run_id}",
                job_name=run.job_name,
                asset_selection=list(run.asset_selection) if run.asset_selection else None,
                tags={**keep, ATTEMPT_TAG: str(attempt + 1)},
            )
        )
    return requests


def evaluate_changes(
    context: SensorEvaluationContext,
    database: PulseDatabase,
    max_changes_per_tick: int,
    settle_seconds: float,
    retry_grace_seconds: float,
    merge_gap_days: int,
) -> SensorResult | SkipReason:
    """One tick: read the next batch of changes and turn it into ranged and unpartitioned runs."""
    unfinished = context.instance.get_run_ids(RunsFilter(statuses=UNFINISHED), limit=1)
    if unfinished:
        return SkipReason(f"waiting for run {unfinished[0]} to finish before reading where the marts put tasks")
    retry_requests = resubmissions(context, retry_grace_seconds)
    after = stored_position(context)
    with database.connect() as conn:
        try:
            if after is None:
                start = conn.execute(START_SQL).fetchone()
                assert start is not None
                after = ChangePosition(cast(datetime, start[0]))
                context.log.info(f"no cursor yet: following changes from {after.updated_at.isoformat()}")
                return SensorResult(run_requests=retry_requests, cursor=after.to_cursor())
            changes = read_changes(conn, after, max_changes_per_tick, settle_seconds)
            if not changes:
                if retry_requests:
                    return SensorResult(run_requests=retry_requests)
                return SkipReason(f"no source changes after {after.updated_at.isoformat()}")
            dates = dates_touched(conn, changes)
        except psycopg.errors.UndefinedTable as exc:
            return SkipReason(f"the marts are not built yet ({str(exc).splitlines()[0]}): run `pulse build` first")

    last = changes[-1].position
    batch = _batch_id(after, last)
    first_ok, last_ok = first_partition_date(), last_partition_date()
    inside = {d for d in dates if first_ok <= d <= last_ok}
    if len(inside) < len(dates):
        context.log.warning(
            f"{len(dates) - len(inside)} touched dates lie outside the partitions {first_ok}..{last_ok}"
        )
    ranges = contiguous_ranges(inside, merge_gap_days)
    requests = [
        RunRequest(
            run_key=f"change:{batch}:{first}..{end}",
            job_name=daily_marts_job.name,
            tags={**partition_range_tags(first, end), TRIGGER_TAG: "change"},
        )
        for first, end in ranges
    ]
    sources = {change.position.source for change in changes}
    tables = {"calendar_days": "user_calendar_days"}
    stale = rebuilt_tables_downstream((tables.get(s, s) for s in sources), skip_daily_descendants=bool(ranges))
    if stale:
        requests.append(
            RunRequest(
                run_key=f"change:{batch}:unpartitioned",
                job_name=unpartitioned_job.name,
                asset_selection=sorted(stale, key=lambda key: key.to_user_string()),
                tags={TRIGGER_TAG: "change"},
            )
        )
    context.log.info(
        f"{len(changes)} source changes ({', '.join(sorted(sources))}) up to {last.updated_at.isoformat()}:"
        f" {len(inside)} dates in {len(ranges)} ranges, {len(stale)} unpartitioned tables"
    )
    return SensorResult(run_requests=retry_requests + requests, cursor=last.to_cursor())


def build_change_sensor(
    name: str = SENSOR_NAME,
    max_changes_per_tick: int = 2000,
    settle_seconds: float = 2.0,
    minimum_interval_seconds: int = 5,
    retry_grace_seconds: float = 600.0,
    merge_gap_days: int = MERGE_GAP_DAYS,
) -> SensorDefinition:
    """The change sensor; tests build one with a small bound and no settling time."""

    @sensor(
        name=name,
        jobs=[daily_marts_job, unpartitioned_job],
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Rebuild exactly the local dates that changed source rows touch (tasks, calendar days, users),"
        " and the goal snapshots after goal changes.",
    )
    def change_sensor(context: SensorEvaluationContext, database: PulseDatabase) -> SensorResult | SkipReason:
        return evaluate_changes(
            context, database, max_changes_per_tick, settle_seconds, retry_grace_seconds, merge_gap_days
        )

    return change_sensor


source_change_sensor = build_change_sensor()
