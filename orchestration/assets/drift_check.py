"""The safety net: a scheduled asset check that rebuilds recent dates from the source and fails if the marts moved.

``marts_match_source`` (on ``analytics/analytics_daily_metrics``) takes a
checksum per (user, date) of what the marts hold over the recent window (the
last ``DRIFT_CHECK_DAYS`` closed dates and the dates still open: every daily
metric, every category row and every task date), then rebuilds that window
with one ranged ``dbt build`` (which reads the source as it is: the repair),
and checksums again. Every (user, date) whose checksum changed is drift: the
incremental path (change queue, sensor, runs) had left it wrong. The check then
fails (severity ERROR, visible in the UI and in the run) with the count and a
sample in its metadata; the rebuild has already put the rows right.

Changes that are legitimately not built yet are not drift: users with rows in
the change queue (pending when the check began, or committed while it ran) are
left out, and a TRUNCATE or bulk load in the queue makes the check say so and
pass without judging. The rebuild is not recorded as a materialization: the
check's metadata names it.
"""

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    asset_check,
    define_asset_job,
    in_process_executor,
    schedule,
)

from orchestration.assets.dbt import DBT_POOL, dbt_build_args
from orchestration.jobs import WAREHOUSE_TAG
from orchestration.partitions import earliest_local_date, latest_local_date
from orchestration.project import dbt_project
from orchestration.resources import PulseDatabase, PulseDbtCliResource
from pulse.dbt import DAILY_TAG, build_vars

DRIFT_CHECK_DAYS = 7
SAMPLE_SIZE = 10

CHECKSUM_SQL = """
select user_id, date, md5(string_agg(line, '|' order by line)) from (
    select user_id, date, concat_ws(',', 'day', total_scheduled_minutes, focus_minutes, focus_available_minutes,
        completed_tasks_count, tasks_due_count, tasks_due_completed_count, category_minutes::text) as line
    from analytics.analytics_daily_metrics where date between %(first)s and %(last)s
    union all
    select user_id, date, concat_ws(',', 'category', category_id, scheduled_minutes, focus_minutes,
        completed_tasks_count, tasks_due_count, tasks_due_completed_count)
    from analytics.daily_category_metrics where date between %(first)s and %(last)s
    union all
    select user_id, date, concat_ws(',', 'task', task_id)
    from analytics.fct_task_dates where date between %(first)s and %(last)s
) as lines
group by user_id, date
"""

QUEUED_SQL = """
select
    array_agg(distinct user_id) filter (where user_id is not null),
    count(*) filter (where kind in ('truncate', 'bulk') and table_name in ('tasks', 'user_calendar_days', 'users'))
from pulse_state.source_changes
"""


def drift_window(at: datetime) -> tuple[date, date]:
    """The dates the check rebuilds at ``at``: the last ``DRIFT_CHECK_DAYS`` closed dates and the open ones."""
    return earliest_local_date(at) - timedelta(days=DRIFT_CHECK_DAYS), latest_local_date(at)


def checksums(conn: psycopg.Connection[Any], first: date, last: date) -> dict[tuple[Any, date], str]:
    """A checksum per (user, date) of the marts' rows over ``first``..``last``."""
    rows = conn.execute(CHECKSUM_SQL, {"first": first, "last": last}).fetchall()
    return {(user_id, day): digest for user_id, day, digest in rows}


@asset_check(
    asset=AssetKey(["analytics", "analytics_daily_metrics"]),
    name="marts_match_source",
    description="Rebuild the recent dates from the source and fail if any (user, date) of the marts changed:"
    " the incremental path had left them wrong (the rebuild repaired them).",
    blocking=False,
    pool=DBT_POOL,
)
def marts_match_source(
    context: AssetCheckExecutionContext, dbt: PulseDbtCliResource, database: PulseDatabase
) -> AssetCheckResult:
    """Checksums before and after a ranged rebuild of the recent window; drift fails the check."""
    first, last = drift_window(datetime.now(UTC))
    with database.connect() as conn:
        before = checksums(conn, first, last)
    began = time.perf_counter()
    invocation = dbt.build(
        [*dbt_build_args(False), "--select", f"tag:{DAILY_TAG}"],
        build_vars(first, last + timedelta(days=1), None),
        manifest=dbt_project.manifest_path,
    )
    try:
        invocation.wait()
    finally:
        dbt.keep_parse(invocation)
    rebuild_seconds = time.perf_counter() - began
    with database.connect() as conn:
        after = checksums(conn, first, last)
        queued: tuple[Any, ...] | None = conn.execute(QUEUED_SQL).fetchone()
    queued_users: set[Any] = set(queued[0] or []) if queued else set()
    reloads = int(queued[1]) if queued else 0
    changed = sorted(
        (key for key in before.keys() | after.keys() if before.get(key) != after.get(key)),
        key=lambda key: (key[1], str(key[0])),
    )
    drift = [key for key in changed if key[0] not in queued_users]
    metadata: dict[str, Any] = {
        "window": f"{first} to {last}",
        "rebuild_seconds": round(rebuild_seconds, 1),
        "user_days_checked": len(before.keys() | after.keys()),
        "drifted_user_days": len(drift),
        "drifted_users": len({user for user, _ in drift}),
        "sample": ", ".join(f"{user} {day}" for user, day in drift[:SAMPLE_SIZE]) or "none",
        "users_with_queued_changes": len(queued_users),
    }
    if reloads:
        return AssetCheckResult(
            passed=True,
            metadata={**metadata, "skipped": f"{reloads} truncate or bulk changes are queued: nothing to judge"},
        )
    if drift:
        context.log.error(
            f"{len(drift)} user-days over {first}..{last} differed from the source (repaired by the rebuild):"
            f" {metadata['sample']}"
        )
    return AssetCheckResult(passed=not drift, severity=AssetCheckSeverity.ERROR, metadata=metadata)


drift_check_job = define_asset_job(
    name="drift_check_job",
    selection=AssetSelection.checks(marts_match_source),
    tags=WAREHOUSE_TAG,
    executor_def=in_process_executor,
    description="Rebuild the recent dates from the source and check that the marts did not change (the safety net).",
)


@schedule(
    name="nightly_drift_check",
    job=drift_check_job,
    cron_schedule="40 12 * * *",  # after the nightly build (12:10 UTC)
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Compare the marts of the recent dates with a rebuild from the source; fail loudly on drift.",
)
def nightly_drift_check(context: ScheduleEvaluationContext) -> RunRequest:
    """One run of the drift check per day."""
    return RunRequest(run_key=f"drift:{context.scheduled_execution_time.date()}", tags={"pulse/trigger": "drift"})
