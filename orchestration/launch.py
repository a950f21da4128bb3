"""Runs the CLI starts through Dagster, so each is recorded in the instance and shows in the UI.

``pulse build`` launches ``warehouse_job`` for a partition range in Pulse's
code location (orchestration/remote_launch.py: the run belongs to its job and
location, as a run started from the UI does), on the persistent instance
(orchestration/instance.py), and follows it in the foreground: one line per
step as it ends (assets, dates, checks passed and failed), one per failed
check, and one per run; ``verbose`` adds every event and the run worker's own
output (dbt's log). Ctrl-C or SIGTERM stop the run. A build of
every date (``supersede_queue``) first claims the change queue's visible rows:
it reads the source after them, so they are handled when it succeeds.
``pulse refresh`` does what one tick of the change sensor does, launching
its runs the same way, until the queue is empty. Both first mark runs whose process died as failed,
and wait (saying for what, up to ``PULSE_WAIT_TIMEOUT_SECONDS``) for runs in
flight. Only public Dagster APIs are used.
"""

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, Definitions

from orchestration import change_queue
from orchestration.assets.dbt import AS_OF_TAG, FULL_REFRESH_TAG
from orchestration.partitions import first_partition_date, last_partition_date, partition_range_tags
from orchestration.remote_launch import LaunchFailed, find_launched_run, launch_run, stop_code_server
from orchestration.resources import PulseDatabase
from orchestration.run_health import PID_TAG, WaitTimeout, process_alive, reap_dead_runs, wait_until_idle
from orchestration.sensors import GRACE_SECONDS, MERGE_GAP_DAYS, SENSOR_NAME, describe, next_batch

Progress = Callable[[str], None]
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"
STOP_TIMEOUT_SECONDS = 60.0


class RunFailed(RuntimeError):
    """A run ended in failure; the message is one line naming the run and what failed."""


def _wait_timeout(timeout_seconds: float | None) -> float:
    """The bound of a wait: the argument, else the setting ``PULSE_WAIT_TIMEOUT_SECONDS``."""
    if timeout_seconds is not None:
        return timeout_seconds
    from pulse.settings import get_settings

    return get_settings().wait_timeout_seconds


@dataclass
class StepTally:
    """What one step of a run did (for its one line of progress)."""

    started: float | None = None
    materializations: int = 0  # assets materialized (once per asset, however many date partitions)
    checks_passed: int = 0
    checks_failed: int = 0
    partitions: dict[str, list[str]] = field(default_factory=dict)  # asset -> the dates it materialized


@dataclass
class RunSummary:
    """What one run did."""

    run_id: str
    success: bool
    job_name: str = ""
    materializations: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    failure: str | None = None
    steps: dict[str, StepTally] = field(default_factory=dict)
    seconds: float = 0.0
    rows_written: int = 0


def _error_line(error: Any) -> str:
    """One line saying what failed: dbt's own errors when dagster-dbt parsed them, else the root cause."""
    while error is not None and getattr(error, "cause", None) is not None and "Errors parsed" not in error.message:
        error = error.cause  # Dagster wraps the op's exception: the innermost one says what happened
    text = str(getattr(error, "message", "") or "step failed")
    # dagster-dbt lists dbt's own errors after this marker: they name the failed model or test.
    text = text.split("Errors parsed from dbt logs:", 1)[-1]
    return " ".join(text.split())


def _partition_lines(tally: StepTally) -> list[str]:
    """One line per asset of the step that materialized date partitions (for ``verbose``)."""
    return [
        f"materialized {key} for {len(parts)} dates ({min(parts)} to {max(parts)})"
        for key, parts in tally.partitions.items()
    ]


def _step_line(step_key: str, outcome: str, tally: StepTally, ended: float) -> str:
    """``step KEY succeeded in 12.3 s: 9 assets (14 dates, A to B), 40 checks passed, 0 failed``."""
    took = f" in {ended - tally.started:.1f} s" if tally.started is not None else ""
    dates = sorted({day for parts in tally.partitions.values() for day in parts})
    span = f" ({len(dates)} dates, {dates[0]} to {dates[-1]})" if len(dates) > 1 else ""
    span = f" (1 date, {dates[0]})" if len(dates) == 1 else span
    assets = f"{tally.materializations} asset{'' if tally.materializations == 1 else 's'}"
    checks = f"{tally.checks_passed} checks passed, {tally.checks_failed} failed"
    return f"step {step_key} {outcome}{took}: {assets}{span}, {checks}"


def _describe(event: Any, summary: RunSummary, verbose: bool = False) -> str | None:
    """A progress line for a recorded event (None for events not worth one); updates ``summary``.

    By default one line per step, when it ends, and one per failed check; ``verbose`` adds a line per step
    start, asset and passed check.
    """
    kind = event.dagster_event_type
    data: Any = event.dagster_event.event_specific_data if event.dagster_event else None
    tally = summary.steps.setdefault(event.step_key, StepTally()) if event.step_key else StepTally()
    if kind == DagsterEventType.STEP_START:
        tally.started = event.timestamp
        return f"step {event.step_key} started" if verbose else None
    if kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
        details = _partition_lines(tally) if verbose else []
        if kind == DagsterEventType.STEP_SUCCESS:
            return "\n  ".join([*details, _step_line(event.step_key, "succeeded", tally, event.timestamp)])
        message = _error_line(getattr(data, "error", None))
        summary.failure = summary.failure or f"step {event.step_key} failed: {message[:400]}"
        line = _step_line(event.step_key, "FAILED", tally, event.timestamp)
        return "\n  ".join([*details, f"{line}; {summary.failure}"])
    if kind == DagsterEventType.ASSET_MATERIALIZATION:
        summary.materializations += 1
        materialization = event.asset_materialization
        key = materialization.asset_key.to_user_string()
        if materialization.partition:  # one event per date: summed up per asset when the step ends
            if key not in tally.partitions:
                tally.materializations += 1
            tally.partitions.setdefault(key, []).append(materialization.partition)
            return None
        tally.materializations += 1
        return f"materialized {key}" if verbose else None
    if kind == DagsterEventType.ASSET_CHECK_EVALUATION:
        name = f"{data.asset_check_key.name} on {data.asset_key.to_user_string()}"
        if data.passed:
            summary.checks_passed += 1
            tally.checks_passed += 1
            return f"check passed: {name}" if verbose else None
        summary.checks_failed.append(name)
        tally.checks_failed += 1
        return f"check FAILED: {name}"
    if kind == DagsterEventType.RUN_FAILURE and not summary.failure:
        summary.failure = " ".join((event.message or "run failed").split())[:400]
    if kind == DagsterEventType.RUN_CANCELED and not summary.failure:
        summary.failure = "the run was canceled"
    return None


def _follow(
    instance: DagsterInstance,
    run_id: str,
    summary: RunSummary,
    progress: Progress,
    done: threading.Event,
    verbose: bool = False,
) -> None:
    """Print the run's events as they are recorded, until ``done`` is set and every event was read."""
    cursor: str | None = None
    while True:
        finished = done.is_set()
        records = instance.get_records_for_run(run_id, cursor=cursor, limit=500)
        for record in records.records:
            line = _describe(record.event_log_entry, summary, verbose)
            if line:
                progress(f"  {line}")
        cursor = records.cursor or cursor
        if finished and not records.has_more:
            return
        if not records.records:
            done.wait(0.5)


def _stop_run(
    instance: DagsterInstance, run_id: str, progress: Progress, timeout: float = STOP_TIMEOUT_SECONDS
) -> None:
    """Stop a run this command launched (Ctrl-C, SIGTERM): through the run launcher, then its process."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.is_finished:
        return
    progress(f"stopping run {run_id} ...")
    with contextlib.suppress(Exception):  # the code server is gone: the process below is stopped instead
        # as the UI's Terminate does: a queued run is canceled at once, a launched one through its run launcher
        instance.run_coordinator.cancel_run(run_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            progress(f"run {run_id} stopped ({run.status.value if run else 'gone'})")
            return
        time.sleep(0.5)
    if run is not None and process_alive(run):
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(run.tags[PID_TAG]), signal.SIGKILL)
    if run is not None:
        instance.report_run_failed(run, f"stopped by Pulse: it did not stop within {timeout:.0f} s of Ctrl-C")
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    progress(f"run {run_id} did not stop within {timeout:.0f} s: its process was killed and the run marked failed")


def _wait_finished(instance: DagsterInstance, run_id: str, progress: Progress) -> DagsterRunStatus:
    """Wait for the launched run to end (a dead run worker is marked failed by run_health); its status."""
    start_timeout = _wait_timeout(None)  # a run worker starts in seconds; a loaded machine takes minutes
    start_deadline = time.monotonic() + start_timeout
    next_reap = time.monotonic() + 5
    said_queued = False
    while True:
        run = instance.get_run_by_id(run_id)
        if run is None:
            raise RunFailed(f"run {run_id} is not in the Dagster instance {instance.root_directory}")
        if run.is_finished:
            return run.status
        if run.status == DagsterRunStatus.QUEUED and not said_queued:
            # An instance whose dagster.yaml is not Pulse's (e.g. a DAGSTER_HOME without one) queues every run.
            progress(
                f"run {run_id} is queued: the run coordinator of the Dagster instance {instance.root_directory}"
                f" ({type(instance.run_coordinator).__name__}) leaves it to a Dagster daemon; waiting up to"
                f" {start_timeout:.0f} s"
            )
            said_queued = True
        if run.status in (DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING):
            if time.monotonic() > start_deadline:
                hint = " (queued: is a Dagster daemon running? `pulse ui` starts one)" if said_queued else ""
                raise RunFailed(
                    f"run {run_id} did not start within {start_timeout:.0f} s (PULSE_WAIT_TIMEOUT_SECONDS){hint}"
                )
        elif time.monotonic() > next_reap:
            reap_dead_runs(instance, progress)
            next_reap = time.monotonic() + 5
        time.sleep(0.5)


def execute_followed(
    instance: DagsterInstance,
    defs: Definitions,
    job_name: str,
    tags: Mapping[str, str],
    asset_selection: Sequence[Any] | None = None,
    progress: Progress = print,
    verbose: bool = False,
) -> RunSummary:
    """Launch a run of a job of Pulse's code location on ``instance`` and follow it to its end; its summary.

    The run belongs to the job and code location (orchestration/remote_launch.py), so the Dagster UI shows it
    on the job's page and the overview timeline. Ctrl-C or SIGTERM stop it. ``verbose`` prints every event and
    what the run worker prints (dbt's log).
    """
    launch_id = uuid.uuid4().hex
    database = _database(defs)
    began, began_wall = time.monotonic(), time.time()
    echo = progress if verbose else None
    try:
        run_id, output = launch_run(instance, job_name, tags, launch_id, asset_selection, database.url, echo)
    except KeyboardInterrupt:
        created = find_launched_run(instance, launch_id)
        if created is not None:
            _stop_run(instance, created, progress)
        raise
    except LaunchFailed as exc:
        raise RunFailed(str(exc)) from exc
    summary = RunSummary(run_id=run_id, success=False, job_name=job_name)
    done = threading.Event()
    follower = threading.Thread(target=_follow, args=(instance, run_id, summary, progress, done, verbose), daemon=True)
    follower.start()
    try:
        status = _wait_finished(instance, run_id, progress)
    except BaseException:
        _stop_run(instance, run_id, progress)
        raise
    finally:
        done.set()
        follower.join()
        stop_code_server(instance, run_id, output)
    summary.seconds = time.monotonic() - began
    summary.success = status == DagsterRunStatus.SUCCESS
    if summary.success:
        summary.rows_written = _rows_written(database, began_wall)
    if not summary.success and not summary.failure:
        summary.failure = f"the run ended {status.value} (see its logs in the Dagster UI)"
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
    verbose: bool = False,
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
        progress(f"this build of every date handles the {claimed:,} queued source changes (batch {batch})")
    progress(f"run of warehouse_job for local dates {start} to {end} (Dagster instance {instance.root_directory})")
    summary = execute_followed(instance, defs, "warehouse_job", tags, progress=progress, verbose=verbose)
    if batch is not None:
        with database.connect() as conn:
            if summary.success:
                change_queue.finish(conn, batch)
            else:
                change_queue.release(conn, batch)
    _report(summary, progress)
    return summary


def _report(summary: RunSummary, progress: Progress) -> None:
    """Print the run's outcome in one line; raise RunFailed when it failed."""
    if not summary.success:
        raise RunFailed(f"run {summary.run_id} failed: {summary.failure}")
    progress(
        f"run {summary.run_id} of {summary.job_name} succeeded in {summary.seconds:.1f} s:"
        f" {len(summary.steps)} steps, {summary.rows_written:,} rows written,"
        f" {summary.checks_passed} checks passed, {len(summary.checks_failed)} failed"
    )


def totals(summaries: Sequence[RunSummary]) -> str:
    """``2 runs, 1,234 rows written, 80 checks passed, 0 failed``: what a command's runs did together."""
    rows = sum(s.rows_written for s in summaries)
    passed = sum(s.checks_passed for s in summaries)
    failed = sum(len(s.checks_failed) for s in summaries)
    runs = f"{len(summaries)} run{'' if len(summaries) == 1 else 's'}"
    return f"{runs}, {rows:,} rows written, {passed} checks passed, {failed} failed"


ROWS_WRITTEN_SQL = """
select coalesce(sum(daily_rows + category_rows + task_date_rows), 0)::bigint
from analytics.mart_build_log
where built_at >= to_timestamp(%s)
"""


def _rows_written(database: PulseDatabase, since: float) -> int:
    """Rows the daily marts hold in the ranges built since ``since`` (Unix seconds), from mart_build_log."""
    try:
        with database.connect() as conn:
            row = conn.execute(ROWS_WRITTEN_SQL, (since,)).fetchone()
    except psycopg.errors.UndefinedTable:  # a database without the build log yet: nothing to count
        return 0
    return int(str(row[0])) if row else 0


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
    verbose: bool = False,
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
                summary = execute_followed(instance, defs, job_name, tags, request.asset_selection, progress, verbose)
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
