"""Runs whose process died are marked failed and free their pool slot; waits for the warehouse are bounded and said.

Every run records the process that executes it in its tags (``PID_TAG``,
``HOST_TAG``, ``PROCESS_START_TAG``): ``pulse build`` and ``pulse refresh`` when
they create the run (it executes in their process), a daemon-launched run when
its first dbt step starts. ``reap_dead_runs`` (at the start of every CLI
command that runs Dagster, and on every tick of the change sensor) reports a
run of this host failed when that process is gone (or the PID now belongs to a
process started later), through ``DagsterInstance.report_run_failed``, and
frees the concurrency slots it held. Slots still claimed by runs that have
finished are freed too. Runs of other hosts are left to Dagster's run
monitoring (dagster.yaml).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import psutil
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from orchestration.change_queue import UNFINISHED

PID_TAG = "pulse/pid"
HOST_TAG = "pulse/host"
PROCESS_START_TAG = "pulse/process_start"
WAREHOUSE_POOL = "dbt_warehouse"
RUNNING = [s for s in UNFINISHED if s != DagsterRunStatus.QUEUED]


class WaitTimeout(RuntimeError):
    """A bounded wait ran out; the message is one line saying what was waited for."""


def process_tags() -> dict[str, str]:
    """The tags naming this process as the one executing a run."""
    return {
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        PROCESS_START_TAG: f"{psutil.Process().create_time():.2f}",
    }


def process_alive(run: DagsterRun) -> bool | None:
    """Whether the process recorded in the run's tags still runs (None: not recorded, or another host's)."""
    pid = run.tags.get(PID_TAG)
    if pid is None or run.tags.get(HOST_TAG) != socket.gethostname():
        return None
    try:
        process = psutil.Process(int(pid))
        started = process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False
    if process.status() == psutil.STATUS_ZOMBIE:
        return False
    recorded = float(run.tags.get(PROCESS_START_TAG, "0") or 0)
    return not recorded or abs(started - recorded) < 1.0


def reap_dead_runs(instance: DagsterInstance, log: Callable[[str], None]) -> list[str]:
    """Mark the runs of this host whose process is gone as failed and free their slots; their ids."""
    reaped = []
    for record in instance.get_run_records(RunsFilter(statuses=RUNNING), limit=100):
        run = record.dagster_run
        if process_alive(run) is False:
            pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
            message = f"the process executing this run (pid {pid} on {host}) is gone: marked failed by Pulse"
            instance.report_run_failed(run, message)
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            log(f"run {run.run_id} of {run.job_name}: process {pid} is gone, marked failed and its pool slot freed")
            reaped.append(run.run_id)
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    for run_id in info.active_run_ids:
        holder = instance.get_run_by_id(run_id)
        if holder is None or holder.is_finished:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            log(f"freed the {WAREHOUSE_POOL} slot still held by finished run {run_id}")
    return reaped


def busy_with(instance: DagsterInstance) -> str | None:
    """What holds the warehouse now (a run in flight or the pool slot), in words; None when it is free."""
    records = instance.get_run_records(RunsFilter(statuses=UNFINISHED), limit=1)
    if records:
        run = records[0].dagster_run
        where = f", pid {run.tags[PID_TAG]}" if PID_TAG in run.tags else ""
        return f"run {run.run_id} of {run.job_name} ({run.status.value}{where})"
    holders = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids
    if holders:
        return f"the {WAREHOUSE_POOL} pool slot held by run {sorted(holders)[0]}"
    return None


def wait_until_idle(
    instance: DagsterInstance,
    timeout_seconds: float,
    progress: Callable[[str], None],
    what: str,
    poll_seconds: float = 2.0,
) -> None:
    """Wait until no run is in flight and the pool is free, saying what for; WaitTimeout after ``timeout_seconds``."""
    deadline = time.monotonic() + timeout_seconds
    said = ""
    while True:
        reap_dead_runs(instance, progress)
        holder = busy_with(instance)
        if holder is None:
            return
        if holder != said:
            progress(f"waiting for {holder} to finish before {what} (up to {timeout_seconds:.0f} s)")
            said = holder
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"gave up after {timeout_seconds:.0f} s waiting for {holder} (PULSE_WAIT_TIMEOUT_SECONDS)"
            )
        time.sleep(poll_seconds)
