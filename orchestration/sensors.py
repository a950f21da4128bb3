"""The change sensor: committed source changes (the queue in the database) become runs for exactly the dates they touch.

Each tick:

1. marks runs whose process died as failed (orchestration/run_health.py);
2. reads nothing while a run is queued or in progress: such a run may be about
   to write where a task was when it read the source, and the tick would miss
   that date if it read ``fct_task_dates`` first (runs are serialized by the
   warehouse pool anyway, so waiting costs no throughput);
3. settles the claimed batches of the change queue (orchestration/change_queue.py):
   deletes the rows of batches whose runs all succeeded, releases those whose
   runs failed for good (after dagster.yaml's run retries) or never appeared;
4. claims the visible, unclaimed changes (at most ``max_changes_per_tick``)
   into a new batch and turns them into dates (``change_queue.plan``).

Contiguous dates become one ranged run of ``daily_marts_job`` (and so do dates
at most ``MERGE_GAP_DAYS`` apart, the days between included: a second run costs
more than a few more days of one); the unpartitioned tables downstream of a
changed table (goal snapshots after a goal changed, say) get one run of
``unpartitioned_job`` unless a ranged run rebuilds them anyway. Every run
carries the batch id (``pulse/batch``) and the batch's run count, and its run
key starts with the batch id, so a re-evaluation never launches a run twice.

The sensor keeps no cursor: a change is in the queue until a run that read the
source after it committed has succeeded, so a change from a transaction that
stayed open across ticks and builds, or with any ``updated_at``, is never
skipped, and pointing Pulse at another database loses nothing. ``pulse
refresh`` does the same once, in process (orchestration/launch.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

import psycopg
from dagster import (
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration import change_queue
from orchestration.assets.dbt import rebuilt_tables_downstream
from orchestration.jobs import daily_marts_job, unpartitioned_job
from orchestration.partitions import first_partition_date, last_partition_date, partition_range_tags
from orchestration.resources import PulseDatabase
from orchestration.run_health import reap_dead_runs

SENSOR_NAME = "source_change_sensor"
TRIGGER_TAG = "pulse/trigger"
# Two touched dates at most this many days apart are rebuilt in one run, the days between included: each run
# costs tens of seconds of fixed dbt and process time and runs go one at a time, while a few more days of a
# ranged build cost little. 0 would give one run per contiguous stretch of touched dates.
MERGE_GAP_DAYS = 31
# A claimed batch whose runs do not exist after this long (the daemon never launched them, or they were
# launched by another Dagster instance) is released; so is one whose failed run was not retried by then.
GRACE_SECONDS = 120.0


def contiguous_ranges(dates: Iterable[date], merge_gap_days: int = 0) -> list[tuple[date, date]]:
    """The dates as inclusive (first, last) ranges, in order: consecutive days, and gaps up to ``merge_gap_days``."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(dates)):
        if ranges and day <= ranges[-1][1] + timedelta(days=1 + merge_gap_days):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def run_requests(plan: change_queue.ChangePlan, merge_gap_days: int, log: Callable[[str], None]) -> list[RunRequest]:
    """The runs a batch asks for: ranged runs over its dates, one unpartitioned run for stale tables."""
    first_ok, last_ok = first_partition_date(), last_partition_date()
    inside = {d for d in plan.dates if first_ok <= d <= last_ok}
    if len(inside) < len(plan.dates):
        log(f"{len(plan.dates) - len(inside)} touched dates lie outside the partitions {first_ok}..{last_ok}")
    ranges = contiguous_ranges(inside, merge_gap_days)
    requests = [
        RunRequest(
            run_key=f"{plan.batch}:{first}..{end}",
            job_name=daily_marts_job.name,
            tags={**partition_range_tags(first, end), TRIGGER_TAG: "change"},
        )
        for first, end in ranges
    ]
    stale = rebuilt_tables_downstream(plan.tables, skip_daily_descendants=bool(ranges))
    if stale:
        requests.append(
            RunRequest(
                run_key=f"{plan.batch}:unpartitioned",
                job_name=unpartitioned_job.name,
                asset_selection=sorted(stale, key=lambda key: key.to_user_string()),
                tags={TRIGGER_TAG: "change"},
            )
        )
    batch_tags = {change_queue.BATCH_TAG: plan.batch, change_queue.BATCH_RUNS_TAG: str(len(requests))}
    return [request.with_replaced_attrs(tags={**request.tags, **batch_tags}) for request in requests]


def describe(plan: change_queue.ChangePlan, requests: list[RunRequest]) -> str:
    """One line: what a batch holds and what it rebuilds."""
    ranges = [
        f"{r.tags['dagster/asset_partition_range_start']}..{r.tags['dagster/asset_partition_range_end']}"
        for r in requests
        if "dagster/asset_partition_range_start" in r.tags
    ]
    unpartitioned = [r for r in requests if "dagster/asset_partition_range_start" not in r.tags]
    what = [f"local dates {', '.join(ranges)}"] if ranges else []
    if unpartitioned:
        keys = ", ".join(k.to_user_string() for k in unpartitioned[0].asset_selection or [])
        what.append(f"the tables {keys}")
    return (
        f"batch {plan.batch}: {plan.changes} source changes ({', '.join(sorted(plan.tables))})"
        f" rebuild {' and '.join(what) or 'nothing'}"
    )


def next_batch(
    conn: psycopg.Connection[object], prefix: str, limit: int, merge_gap_days: int, log: Callable[[str], None]
) -> tuple[change_queue.ChangePlan, list[RunRequest]] | str:
    """Claim the next batch of changes and the runs it asks for, or why there is nothing to run."""
    batch = change_queue.new_batch_id(prefix)
    rows = change_queue.claim(conn, batch, limit)
    if not rows:
        return "no source changes in the queue"
    try:
        plan = change_queue.plan(conn, batch, rows)
    except psycopg.errors.UndefinedTable as exc:
        change_queue.release(conn, batch, count_attempt=False)
        return f"the marts are not built yet ({str(exc).splitlines()[0]}): run `pulse build` first"
    except BaseException:
        change_queue.release(conn, batch, count_attempt=False)
        raise
    requests = run_requests(plan, merge_gap_days, log)
    if not requests:
        change_queue.finish(conn, batch)
        return f"{plan.changes} source changes ({', '.join(sorted(plan.tables))}) touch nothing the marts hold"
    return plan, requests


def evaluate_changes(
    context: SensorEvaluationContext,
    database: PulseDatabase,
    max_changes_per_tick: int,
    grace_seconds: float,
    merge_gap_days: int,
) -> SensorResult | SkipReason:
    """One tick: settle finished batches, claim the next one and turn it into ranged and unpartitioned runs."""
    instance = context.instance
    reap_dead_runs(instance, context.log.warning)
    unfinished = instance.get_run_ids(RunsFilter(statuses=change_queue.UNFINISHED), limit=1)
    if unfinished:
        return SkipReason(f"waiting for run {unfinished[0]} to finish before reading where the marts put tasks")
    with database.connect() as conn:
        outcomes = change_queue.settle(conn, instance, grace_seconds, context.log.info)
        pending = [batch for batch, outcome in outcomes if outcome == "pending"]
        if pending:
            return SkipReason(f"waiting for the runs of batch {pending[0]} (claimed, not finished)")
        outcome = next_batch(conn, "sensor", max_changes_per_tick, merge_gap_days, context.log.warning)
    if isinstance(outcome, str):
        return SkipReason(outcome)
    plan, requests = outcome
    context.log.info(describe(plan, requests))
    return SensorResult(run_requests=requests)


def build_change_sensor(
    name: str = SENSOR_NAME,
    max_changes_per_tick: int = 5000,
    minimum_interval_seconds: int = 5,
    grace_seconds: float = GRACE_SECONDS,
    merge_gap_days: int = MERGE_GAP_DAYS,
) -> SensorDefinition:
    """The change sensor; tests build one with a small bound."""

    @sensor(
        name=name,
        jobs=[daily_marts_job, unpartitioned_job],
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Rebuild exactly the local dates that committed source changes touch (tasks, calendar days,"
        " users), and the goal snapshots after goal changes; the changes come from the queue"
        " pulse_state.source_changes that triggers fill.",
    )
    def change_sensor(context: SensorEvaluationContext, database: PulseDatabase) -> SensorResult | SkipReason:
        return evaluate_changes(context, database, max_changes_per_tick, grace_seconds, merge_gap_days)

    return change_sensor


source_change_sensor = build_change_sensor()
