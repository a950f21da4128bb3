"""Change detection loses nothing that committed, and a killed build wedges nothing (real database, dbt, Dagster).

Each case changes the source of a warehouse of this module's own, runs the
commands a user would (`pulse refresh`, `pulse build`, in this process or as a
killed child process) and ends with the marts equal to a fresh full build of
the same source, row for row.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.instance import local_instance_config
from orchestration.run_health import PID_TAG
from pulse import REPO_ROOT
from tests.orchestration.conftest import (
    BURST_TASKS,
    TASK_MONDAY,
    TASK_TUESDAY,
    USER_MOVER,
    USER_UTC,
    Warehouse,
    _slot,
    built_warehouse,
    fetch,
    insert_known_rows,
    run_cli,
)
from tests.orchestration.fresh_build import assert_marts_equal_fresh_build

pytestmark = pytest.mark.timeout(1800)

# Rows changed with an old updated_at reach the queue (and so the runs), but dbt models that re-parse only rows
# newer than their last parse minus `parse_lookback` do not read them: issue 19's warehouse half removes that
# state. Until it is merged these cases fail on the marts, not on the orchestration; strict, so they must pass
# once it is in.
needs_models_that_read_every_row = pytest.mark.xfail(
    "parse_lookback" in (REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text(),
    reason="the dbt models skip rows with an updated_at older than their last parse (issue 19, warehouse half)",
    strict=True,
)


@pytest.fixture(scope="module")
def source(server_url: str, dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """A warehouse of this module's own: every test changes its source."""
    with built_warehouse(server_url, tmp_path_factory.mktemp("dagster_home"), "change_detection") as built:
        yield built


def execute(url: str, statement: str, params: object = None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type]


def slots(*pairs: tuple[date, int]) -> str:
    return json.dumps([_slot(day, hour) for day, hour in pairs])


def assert_refreshed(code: int, out: str) -> None:
    """`pulse refresh` succeeded and rebuilt something (never "0 runs" for a change it had to handle)."""
    assert code == 0, out[-2000:]
    assert "refreshed in " in out and ": 0 runs," not in out, out[-2000:]
    assert "run of daily_marts_job" in out, out[-2000:]


def start_cli(args: list[str], home: Path, warehouse: Warehouse) -> subprocess.Popen[str]:
    """`pulse ARGS` as a child process (its own process group) on ``home`` and the warehouse's database."""
    if not (home / "dagster.yaml").exists():  # Pulse's instance settings, as `pulse` writes them for its own home
        (home / "dagster.yaml").write_text(yaml.safe_dump(local_instance_config()))
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATABASE_URL": warehouse.url}
    return subprocess.Popen(
        [sys.executable, "-m", "pulse.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    """Kill the child's process group if it still runs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_dbt_step(home: Path, process: subprocess.Popen[str], timeout: float = 900) -> str:
    """Wait until the child's run worker has started a dbt step (it records its PID then); the run id.

    The run executes in a run worker of the code location (orchestration/remote_launch.py), which takes a
    while to start on a loaded machine; any dbt step will do, whichever the executor runs first.
    """
    deadline = time.monotonic() + timeout
    with DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            for run in instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED])):
                if PID_TAG in run.tags:
                    return run.run_id
            time.sleep(0.5)
    raise AssertionError("the build never started a dbt step")


def test_a_build_killed_with_sigkill_mid_run_then_another_build_of_the_range_starts_within_a_minute(
    source: Warehouse, tmp_path: Path, make_pulse_db: Callable[[], str]
) -> None:
    args = ["build", "--start", source.first.isoformat(), "--end", source.last.isoformat()]
    killed = start_cli(args, tmp_path, source)
    try:
        killed_run = wait_for_dbt_step(tmp_path, killed)
        time.sleep(3)  # dbt is building
    finally:
        stop(killed)  # SIGKILL to the CLI and its dbt child
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        run = instance.get_run_by_id(killed_run)
        assert run is not None and run.status == DagsterRunStatus.STARTED  # nobody said it died
    began = datetime.now(UTC)
    code, out = run_cli(args, tmp_path, source.url)
    assert code == 0, out[-3000:]
    assert f"run {killed_run} of warehouse_job: process" in out and "marked failed" in out
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        dead = instance.get_run_record_by_id(killed_run)
        assert dead is not None and dead.dagster_run.status == DagsterRunStatus.FAILURE
        (latest,) = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]), limit=1)
        assert latest.start_time is not None
        assert latest.start_time - began.timestamp() < 60  # started within a minute of the command
        assert not instance.event_log_storage.get_concurrency_info("dbt_warehouse").active_run_ids
    assert_marts_equal_fresh_build(source.url, make_pulse_db, source.first, source.last)


@needs_models_that_read_every_row
def test_a_transaction_open_across_a_refresh_and_a_build_is_picked_up_once_it_commits(
    source: Warehouse, tmp_path: Path, make_pulse_db: Callable[[], str]
) -> None:
    monday, thursday = source.monday, source.monday + timedelta(days=3)
    with psycopg.connect(source.url) as open_transaction:
        open_transaction.execute(
            "update app.tasks set scheduled_slots = %s::jsonb, updated_at = now() - interval '2 hours'"
            " where task_id = %s",
            (slots((thursday, 9)), TASK_MONDAY),
        )
        code, out = run_cli(["refresh"], tmp_path, source.url)  # a tick while the transaction is open
        assert code == 0 and "nothing to do: no source changes" in out, out[-2000:]
        code, out = run_cli(
            ["build", "--start", monday.isoformat(), "--end", thursday.isoformat()], tmp_path, source.url
        )
        assert code == 0, out[-2000:]  # a build while the transaction is open reads the old row
        open_transaction.commit()
    code, out = run_cli(["refresh"], tmp_path, source.url)
    assert_refreshed(code, out)
    assert fetch(source.url, "select date from analytics.fct_task_dates where task_id = %s", (TASK_MONDAY,)) == [
        (thursday,)
    ]
    assert fetch(source.url, "select count(*) from pulse_state.source_changes") == [(0,)]
    assert_marts_equal_fresh_build(source.url, make_pulse_db, source.first, source.last)


@needs_models_that_read_every_row
def test_a_change_committed_while_a_build_runs_is_built_by_the_next_refresh(
    source: Warehouse, tmp_path: Path, make_pulse_db: Callable[[], str]
) -> None:
    friday = source.monday + timedelta(days=4)
    build = start_cli(
        ["build", "--start", source.first.isoformat(), "--end", source.last.isoformat()], tmp_path, source
    )
    try:
        wait_for_dbt_step(tmp_path, build)
        execute(  # committed while the run is in progress, with an updated_at older than the run
            source.url,
            "update app.tasks set scheduled_slots = %s::jsonb, updated_at = now() - interval '2 hours'"
            " where task_id = %s",
            (slots((friday, 15)), TASK_TUESDAY),
        )
        assert build.wait(timeout=900) == 0
    finally:
        stop(build)
    code, out = run_cli(["refresh"], tmp_path, source.url)
    assert_refreshed(code, out)
    assert fetch(source.url, "select date from analytics.fct_task_dates where task_id = %s", (TASK_TUESDAY,)) == [
        (friday,)
    ]
    assert_marts_equal_fresh_build(source.url, make_pulse_db, source.first, source.last)


def five_changes(warehouse: Warehouse, tasks: list[str], user: str, mover: str) -> list[tuple[str, tuple[object, ...]]]:
    """A slot moved two days, a task soft-deleted, a day's focus slots replaced, a task inserted a year old, a
    time-zone change: what a user of the app does, each with an updated_at that is no help."""
    monday = warehouse.monday
    return [
        (
            "update app.tasks set scheduled_slots = %s::jsonb, updated_at = now() - interval '1 year'"
            " where task_id = %s",
            (slots((monday + timedelta(days=4), 7)), tasks[0]),
        ),
        (
            "update app.tasks set deleted_at = now(), updated_at = now() - interval '1 day' where task_id = %s",
            (tasks[1],),
        ),
        (
            "insert into app.user_calendar_days (user_id, date, focus_slots, updated_at)"
            " values (%s, %s, %s::jsonb, now() - interval '1 year') on conflict (user_id, date)"
            " do update set focus_slots = excluded.focus_slots, updated_at = excluded.updated_at",
            (user, monday + timedelta(days=1), slots((monday + timedelta(days=1), 13))),
        ),
        (
            "insert into app.tasks (task_id, user_id, title, status, scheduled_slots, created_at, updated_at)"
            " values (%s, %s, 'imported', 'scheduled', %s::jsonb,"
            " now() - interval '1 year', now() - interval '1 year')",
            (str(uuid.uuid4()), user, slots((monday + timedelta(days=3), 16))),
        ),
        (
            "update app.users set timezone = 'Pacific/Kiritimati', updated_at = '2020-01-01' where user_id = %s",
            (mover,),
        ),
    ]


@needs_models_that_read_every_row
def test_refresh_right_after_each_of_five_changes_on_a_new_dagster_instance(
    source: Warehouse, tmp_path: Path, make_pulse_db: Callable[[], str]
) -> None:
    for statement, params in five_changes(source, [BURST_TASKS[0], BURST_TASKS[1]], USER_UTC, USER_MOVER):
        execute(source.url, statement, params)
        code, out = run_cli(["refresh"], tmp_path, source.url)  # a new instance the first time
        assert_refreshed(code, out)
    assert fetch(source.url, "select count(*) from pulse_state.source_changes") == [(0,)]
    assert_marts_equal_fresh_build(source.url, make_pulse_db, source.first, source.last)


@needs_models_that_read_every_row
def test_refresh_right_after_each_of_five_changes_on_an_instance_that_refreshed_another_database(
    source: Warehouse, tmp_path: Path, make_pulse_db: Callable[[], str]
) -> None:
    home = tmp_path
    other = make_pulse_db()  # another database: two known users, built over the week of their tasks
    insert_known_rows(other, source.monday)
    week = ["--start", source.monday.isoformat(), "--end", (source.monday + timedelta(days=6)).isoformat()]
    code, out = run_cli(["build", *week], home, other)
    assert code == 0, out[-2000:]
    execute(other, "delete from pulse_state.source_changes")  # the build covered every date of its data
    execute(other, "update app.tasks set deleted_at = now() where task_id = %s", (TASK_MONDAY,))
    assert_refreshed(*run_cli(["refresh"], home, other))  # the instance has refreshed another database
    for statement, params in five_changes(source, [BURST_TASKS[2], BURST_TASKS[3]], USER_MOVER, USER_UTC):
        execute(source.url, statement, params)
        assert_refreshed(*run_cli(["refresh"], home, source.url))
    assert_marts_equal_fresh_build(source.url, make_pulse_db, source.first, source.last)
