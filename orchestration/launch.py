"""Runs the CLI starts through Dagster, so each is recorded in the instance and shows in the UI.

``pulse build`` executes ``warehouse_job`` for a partition range in this
process, on the persistent instance (orchestration/instance.py), printing step
starts, materializations and check results as they are recorded. A build of
every date (``supersede_queue``) first claims the change queue's visible rows:
it reads the source after them, so they are handled when it succeeds.
``pulse refresh`` does what one tick of the change sensor does, in process,
until the queue is empty. Both first mark runs whose process died as failed,
and wait (saying for what, up to ``PULSE_WAIT_TIMEOUT_SECONDS``) for runs in
flight. Only public Dagster APIs are used.
"""

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dagster import DagsterEventType, DagsterInstance, Definitions

from orchestration import change_queue
from orchestration.assets.dbt import AS_OF_TAG, FULL_REFRESH_TAG
from orchestration.partitions import first_partition_date, last_partition_date, partition_range_tags
from orchestration.resources import PulseDatabase
from orchestration.run_health import WaitTimeout, process_tags, wait_until_idle
from orchestration.sensors import GRACE_SECONDS, MERGE_GAP_DAYS, SENSOR_NAME, describe, next_batch

Progress = Callable[[str], None]
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"


class RunFailed(RuntimeError):
    """A run ended in failure; the message is one line naming the run and what failed."""


def _wait_timeout(timeout_seconds: float | None) -> float:
    """The bound of a wait: the argument, else the setting ``PULSE_WAIT_TIMEOUT_SECONDS``."""
    if timeout_seconds is not None:
        return timeout_seconds
    from pulse.settings import get_settings

    return get_settings().wait_timeout_seconds


@dataclass
class RunSummary:
    """What one run did."""

    run_id: str
    success: bool
    materializations: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    failure: str | None = None
    partitions: dict[str, list[str]] = field(default_factory=dict)


def _error_line(error: Any) -> str:
    """One line saying what failed: dbt's own errors when dagster-dbt parsed them, else the root cause."""
    while error is not None and getattr(error, "cause", None) is not None and "Errors parsed" not in error.message:
        error = error.cause  # Dagster wraps the op's exception: the innermost one says what happened
    text = str(getattr(error, "message", "") or "step failed")
    # dagster-dbt lists dbt's own errors after this marker: they name the failed model or test.
    text = text.split("Errors parsed from dbt logs:", 1)[-1]
    return " ".join(text.split())


def _flush_partitions(summary: RunSummary) -> list[str]:
    """One line per asset whose date partitions were materialized since the last flush."""
    lines = [
        f"materialized {key} for {len(parts)} dates ({min(parts)} to {max(parts)})"
        for key, parts in summary.partitions.items()
    ]
    summary.partitions.clear()
    return lines


def _describe(event: Any, summary: RunSummary) -> str | None:
    """One progress line for a recorded event (None for events not worth a line); updates ``summary``."""
    kind = event.dagster_event_type
    data: Any = event.dagster_event.event_specific_data if event.dagster_event else None
    if kind == DagsterEventType.STEP_START:
        return f"step {event.step_key} started"
    if kind == DagsterEventType.STEP_SUCCESS:
        return "\n  ".join([*_flush_partitions(summary), f"step {event.step_key} succeeded"])
    if kind == DagsterEventType.STEP_FAILURE:
        message = _error_line(getattr(data, "error", None))
        summary.failure = summary.failure or f"step {event.step_key} failed: {message[:400]}"
        return "\n  ".join([*_flush_partitions(summary), summary.failure])
    if kind == DagsterEventType.ASSET_MATERIALIZATION:
        summary.materializations += 1
        materialization = event.asset_materialization
        key = materialization.asset_key.to_user_string()
        if materialization.partition:  # one event per date: summed up per asset when the step ends
            summary.partitions.setdefault(key, []).append(materialization.partition)
            return None
        return f"materialized {key}"
    if kind == DagsterEventType.ASSET_CHECK_EVALUATION:
        name = f"{data.asset_check_key.name} on {data.asset_key.to_user_string()}"
        if data.passed:
            summary.checks_passed += 1
            return f"check passed: {name}"
        summary.checks_failed.append(name)
        return f"check FAILED: {name}"
    if kind == DagsterEventType.RUN_FAILURE and not summary.failure:
        summary.failure = " ".join((event.message or "run failed").split())[:400]
    return None


def _follow(
    instance: DagsterInstance, run_id: str, summary: RunSummary, progress: Progress, done: threading.Event
) -> None:
    """Print the run's events as they are recorded, until ``done`` is set and every event was read."""
    cursor: str | None = None
    while True:
        finished = done.is_set()
        records = instance.get_records_for_run(run_id, cursor=cursor, limit=500)
        for record in records.records:
            line = _describe(record.event_log_entry, summary)
            if line:
                progress(f"  {line}")
        cursor = records.cursor or cursor
        if finished and not records.has_more:
            return
        if not records.records:
            done.wait(0.5)


def execute_followed(
    instance: DagsterInstance,
    defs: Definitions,
    job_name: str,
    tags: Mapping[str, str],
    asset_selection: Sequence[Any] | None = None,
    progress: Progress = print,
) -> RunSummary:
    """Execute a job of ``defs`` in this process on ``instance``, printing its progress; the run's summary."""
    job = defs.resolve_job_def(job_name)
    run_id = str(uuid.uuid4())
    summary = RunSummary(run_id=run_id, success=False)
    done = threading.Event()
    follower = threading.Thread(target=_follow, args=(instance, run_id, summary, progress, done), daemon=True)
    follower.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            tags={**tags, **process_tags()},
            asset_selection=list(asset_selection) if asset_selection else None,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    finally:
        done.set()
        follower.join()
    summary.success = result.success
    if not result.success and not summary.failure:
        summary.failure = "the run failed (see its logs in the Dagster UI)"
    return summary


def _database(defs: Definitions) -> PulseDatabase:
    """The definitions' database resource (the one the change queue lives in)."""
    database = (defs.resources or {}).get("database")
    if not isinstance(database, PulseDatabase):
        raise TypeError("the definitions have no PulseDatabase resource named 'database'")
    return database


def build_range(
    start: date,
    end: date,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    instance: DagsterInstance | None = None,
    defs: Definitions | None = None,
    progress: Progress = print,
    supersede_queue: bool = False,
    timeout_seconds: float | None = None,
) -> RunSummary:
    """One run of the whole warehouse over the local dates ``start`` to ``end`` (inclusive); raises RunFailed.

    With ``supersede_queue`` (a build of every date) the change queue's visible rows are claimed for this run:
    deleted when it succeeds, given back when it fails.
    """
    from orchestration.definitions import defs as default_defs
    from orchestration.instance import get_instance

    first, last = first_partition_date(), last_partition_date()
    if start < first or end > last:
        raise ValueError(f"dates {start}..{end} are outside the partitions {first}..{last}")
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    tags = {**partition_range_tags(start, end), "pulse/trigger": "cli", "pulse/warehouse": "dbt"}
    if as_of is not None:
        tags[AS_OF_TAG] = as_of.isoformat()
    if full_refresh:
        tags[FULL_REFRESH_TAG] = "true"
    instance = instance or get_instance()
    defs = defs or default_defs
    wait_until_idle(instance, _wait_timeout(timeout_seconds), progress, "building")
    batch = None
    if supersede_queue:
        database = _database(defs)
        batch = change_queue.new_batch_id("build")
        with database.connect() as conn:
            claimed = len(change_queue.claim(conn, batch, limit=2**31 - 1))
        tags.update({change_queue.BATCH_TAG: batch, change_queue.BATCH_RUNS_TAG: "1"})
        progress(f"this build of every date handles the {claimed} queued source changes (batch {batch})")
    progress(f"run of warehouse_job for local dates {start} to {end} (Dagster instance {instance.root_directory})")
    summary = execute_followed(instance, defs, "warehouse_job", tags, progress=progress)
    if batch is not None:
        with database.connect() as conn:
            if summary.success:
                change_queue.finish(conn, batch)
            else:
                change_queue.release(conn, batch)
    _report(summary, progress)
    return summary


def _report(summary: RunSummary, progress: Progress) -> None:
    """Print the run's outcome; raise RunFailed when it failed."""
    checks = f"{summary.checks_passed} checks passed, {len(summary.checks_failed)} failed"
    if not summary.success:
        raise RunFailed(f"run {summary.run_id} failed: {summary.failure}")
    progress(f"run {summary.run_id} succeeded: {summary.materializations} materializations, {checks}")


def _settle_others(
    conn: Any, instance: DagsterInstance, timeout_seconds: float, grace_seconds: float, progress: Progress
) -> None:
    """Settle the batches claimed before (by the daemon's sensor or another refresh), waiting for pending ones."""
    deadline = time.monotonic() + timeout_seconds
    said = ""
    while True:
        outcomes = change_queue.settle(conn, instance, grace_seconds, progress)
        pending = [batch for batch, outcome in outcomes if outcome == "pending"]
        if not pending:
            return
        if pending[0] != said:
            progress(
                f"waiting for the runs of batch {pending[0]} (claimed by the change sensor or another refresh;"
                f" released if they do not appear within {grace_seconds:.0f} s)"
            )
            said = pending[0]
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"gave up after {timeout_seconds:.0f} s waiting for the runs of batch {pending[0]}")
        time.sleep(2)
        wait_until_idle(instance, max(deadline - time.monotonic(), 0.1), progress, "reading the change queue")


def refresh(
    instance: DagsterInstance | None = None,
    defs: Definitions | None = None,
    progress: Progress = print,
    timeout_seconds: float | None = None,
    grace_seconds: float = GRACE_SECONDS,
    max_changes_per_batch: int = 5000,
    max_batches: int = 20,
) -> list[RunSummary]:
    """What the change sensor does, in process, until the queue is empty: the runs it executed.

    Waits (bounded, saying for what) for runs in flight and for batches claimed by others; each batch it claims
    is deleted when its runs succeed and given back to the queue when one fails (then RunFailed).
    """
    from orchestration.definitions import defs as default_defs
    from orchestration.instance import get_instance

    instance = instance or get_instance()
    defs = defs or default_defs
    database = _database(defs)
    timeout = _wait_timeout(timeout_seconds)
    wait_until_idle(instance, timeout, progress, "reading where the marts put tasks")
    summaries: list[RunSummary] = []
    with database.connect() as conn:
        _settle_others(conn, instance, timeout, grace_seconds, progress)
        for _ in range(max_batches):
            outcome = next_batch(conn, "refresh", max_changes_per_batch, MERGE_GAP_DAYS, progress)
            if isinstance(outcome, str):
                progress(f"nothing {'more ' if summaries else ''}to do: {outcome}")
                break
            plan, requests = outcome
            progress(describe(plan, requests))
            batch_summaries = []
            for request in requests:
                tags = {**request.tags, SENSOR_NAME_TAG: SENSOR_NAME, "pulse/warehouse": "dbt"}
                if request.run_key:
                    tags[RUN_KEY_TAG] = request.run_key
                job_name = request.job_name or "daily_marts_job"
                progress(f"run of {job_name} for {request.run_key}")
                summary = execute_followed(instance, defs, job_name, tags, request.asset_selection, progress)
                batch_summaries.append(summary)
                if not summary.success:
                    break
            summaries += batch_summaries
            failed = [s for s in batch_summaries if not s.success]
            if failed:
                change_queue.release(conn, plan.batch)
                raise RunFailed(
                    f"run {failed[0].run_id} failed (its {plan.changes} changes are back in the queue):"
                    f" {failed[0].failure}"
                )
            change_queue.finish(conn, plan.batch)
            for summary in batch_summaries:
                _report(summary, progress)
    return summaries
