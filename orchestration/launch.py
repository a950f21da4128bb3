"""Runs the CLI starts through Dagster, so each is recorded in the instance and shows in the UI.

``pulse build`` executes ``warehouse_job`` for a partition range in this
process, on the persistent instance (orchestration/instance.py), printing step
starts, materializations and check results as they are recorded. ``pulse
refresh`` evaluates the change sensor once with the stored cursor, runs what it
asks for the same way and stores the new cursor where the daemon's sensor
finds it too.
"""

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dagster import (
    DagsterEventType,
    DagsterInstance,
    Definitions,
    RunRequest,
    RunsFilter,
    build_sensor_context,
)
from dagster._core.definitions.run_request import SensorResult
from dagster._core.scheduler.instigation import InstigatorType, SensorInstigatorData
from dagster._core.utils import make_new_run_id

from orchestration.assets.dbt import AS_OF_TAG, FULL_REFRESH_TAG
from orchestration.partitions import first_partition_date, last_partition_date, partition_range_tags
from orchestration.sensors import SENSOR_NAME, SHARED_CURSOR_KEY, ChangePosition

Progress = Callable[[str], None]
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"


class RunFailed(RuntimeError):
    """A run ended in failure; the message is one line naming the run and what failed."""


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
    run_id = make_new_run_id()
    summary = RunSummary(run_id=run_id, success=False)
    done = threading.Event()
    follower = threading.Thread(target=_follow, args=(instance, run_id, summary, progress, done), daemon=True)
    follower.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            tags=dict(tags),
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


def build_range(
    start: date,
    end: date,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    instance: DagsterInstance | None = None,
    defs: Definitions | None = None,
    progress: Progress = print,
) -> RunSummary:
    """One run of the whole warehouse over the local dates ``start`` to ``end`` (inclusive); raises RunFailed."""
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
    progress(f"run of warehouse_job for local dates {start} to {end} (Dagster instance {instance.root_directory})")
    summary = execute_followed(instance, defs or default_defs, "warehouse_job", tags, progress=progress)
    _report(summary, progress)
    return summary


def _report(summary: RunSummary, progress: Progress) -> None:
    """Print the run's outcome; raise RunFailed when it failed."""
    checks = f"{summary.checks_passed} checks passed, {len(summary.checks_failed)} failed"
    if not summary.success:
        raise RunFailed(f"run {summary.run_id} failed: {summary.failure}")
    progress(f"run {summary.run_id} succeeded: {summary.materializations} materializations, {checks}")


def _daemon_sensor_state(instance: DagsterInstance) -> Any:
    """The stored state of the daemon's change sensor (None when no daemon or UI ever saw it)."""
    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    return next((s for s in states if s.instigator_name == SENSOR_NAME), None)


def _store_cursor(instance: DagsterInstance, cursor: str) -> None:
    """Leave the cursor where both ``pulse refresh`` and the daemon's sensor read it."""
    instance.run_storage.set_cursor_values({SHARED_CURSOR_KEY: cursor})
    state = _daemon_sensor_state(instance)
    if state is not None:
        data = state.instigator_data
        stored = ChangePosition.from_cursor(data.cursor if data else None)
        if stored is None or stored < (ChangePosition.from_cursor(cursor) or stored):
            instance.update_instigator_state(
                state.with_data(
                    SensorInstigatorData(
                        last_tick_timestamp=data.last_tick_timestamp if data else None,
                        last_run_key=data.last_run_key if data else None,
                        min_interval=data.min_interval if data else None,
                        cursor=cursor,
                        last_tick_start_timestamp=data.last_tick_start_timestamp if data else None,
                        last_sensor_start_timestamp=data.last_sensor_start_timestamp if data else None,
                        sensor_type=data.sensor_type if data else None,
                    )
                )
            )


def refresh(
    instance: DagsterInstance | None = None, defs: Definitions | None = None, progress: Progress = print
) -> list[RunSummary]:
    """Evaluate the change sensor once with the stored cursor, run what it asks for, store the new cursor."""
    from orchestration.definitions import defs as default_defs
    from orchestration.instance import get_instance

    instance = instance or get_instance()
    defs = defs or default_defs
    sensor_def = defs.resolve_sensor_def(SENSOR_NAME)
    state = _daemon_sensor_state(instance)
    daemon_cursor = state.instigator_data.cursor if state is not None and state.instigator_data else None
    with build_sensor_context(
        instance=instance, cursor=daemon_cursor, definitions=defs, sensor_name=SENSOR_NAME, resources=defs.resources
    ) as context:
        outcome = sensor_def(context)
        new_cursor = context.cursor
    requests: list[RunRequest] = []
    if isinstance(outcome, SensorResult):
        requests = list(outcome.run_requests or [])
        new_cursor = outcome.cursor or new_cursor
    else:
        progress(f"nothing to do: {getattr(outcome, 'skip_message', outcome)}")
    summaries = []
    for request in requests:
        if request.run_key and instance.get_runs(
            RunsFilter(tags={RUN_KEY_TAG: request.run_key, SENSOR_NAME_TAG: SENSOR_NAME}), limit=1
        ):
            progress(f"already requested: {request.run_key}")
            continue
        tags = {**request.tags, SENSOR_NAME_TAG: SENSOR_NAME, "pulse/warehouse": "dbt"}
        if request.run_key:
            tags[RUN_KEY_TAG] = request.run_key
        job_name = request.job_name or "daily_marts_job"
        progress(f"run of {job_name} for {request.run_key}")
        summaries.append(execute_followed(instance, defs, job_name, tags, request.asset_selection, progress))
    if new_cursor:
        _store_cursor(instance, new_cursor)
    failed = [s for s in summaries if not s.success]
    for summary in summaries:
        if summary.success:
            _report(summary, progress)
    if failed:
        raise RunFailed(
            f"{len(failed)} of {len(summaries)} runs failed (asked again next refresh); first: run {failed[0].run_id}:"
            f" {failed[0].failure}"
        )
    return summaries
