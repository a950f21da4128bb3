"""`pulse build` and `pulse refresh` go through Dagster: their runs, ranges and check results are in the instance."""

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import psycopg
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.instance import local_instance_config
from orchestration.launch import StepTally, _step_line
from orchestration.run_health import process_alive
from pulse.cli import main
from pulse.settings import get_settings
from tests.orchestration.conftest import BURST_TASKS, Warehouse, run_cli
from tests.orchestration.test_change_detection import start_cli, stop, wait_for_dbt_step

START = "dagster/asset_partition_range_start"
END = "dagster/asset_partition_range_end"


@pytest.fixture
def cli_instance(warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI pointed at the test warehouse and at a Dagster home of its own with Pulse's local instance config."""
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(local_instance_config()))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", warehouse.url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_pulse_build_is_a_dagster_run_with_its_range_and_check_results(warehouse: Warehouse) -> None:
    """The package's warehouse was built by `pulse build` (conftest.py): its run is in that Dagster instance."""
    first, last = warehouse.first, warehouse.last
    assert f"built the warehouse (local dates {first} to {last})" in warehouse.build_output
    assert " checks passed, 0 failed" in warehouse.build_output

    with DagsterInstance.from_config(str(warehouse.dagster_home)) as instance:
        (run,) = instance.get_runs()
        assert run.status == DagsterRunStatus.SUCCESS
        assert run.job_name == "warehouse_job"
        assert (run.tags[START], run.tags[END]) == (first.isoformat(), last.isoformat())
        assert run.tags["pulse/as_of"] == "2026-01-05T12:00:00+00:00"
        checks = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
        results = [r.event_log_entry.dagster_event.event_specific_data for r in checks]
        assert len(results) > 0
        assert all(result.passed for result in results)
        assert {result.asset_key.to_user_string() for result in results} >= {"analytics/analytics_daily_metrics"}
        steps = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_START).records
        assert sorted(r.event_log_entry.step_key for r in steps).count("daily_dbt_models") == 1
    with psycopg.connect(warehouse.url) as conn:
        builds = conn.execute("select start_date, end_date from analytics.mart_build_log").fetchall()
    assert builds == [(first, last + timedelta(days=1))]  # the whole range in one dbt invocation


# What the Dagster UI asks for (dagster-webserver 1.13's ui-core): a job's Runs tab filters on the job name and
# this tag (PipelineRunsFeedRoot.tsx), and the overview timeline drops runs without a repository origin
# (useRunsForTimeline.tsx, `if (!run.repositoryOrigin)`), which GraphQL reads from the run's remote job origin.
UI_REPOSITORY_TAG = ".dagster/repository"
LOCATION = "orchestration.definitions"  # `dagster dev -m orchestration.definitions`, as `pulse ui` and compose


def test_cli_runs_belong_to_their_job_and_code_location_as_the_ui_reads_them(warehouse: Warehouse) -> None:
    with DagsterInstance.from_config(str(warehouse.dagster_home)) as instance:
        (run,) = instance.get_runs()
        job_page = instance.get_runs(
            RunsFilter(job_name="warehouse_job", tags={UI_REPOSITORY_TAG: f"__repository__@{LOCATION}"})
        )
        assert [r.run_id for r in job_page] == [run.run_id]
        origin = run.remote_job_origin
        assert origin is not None, "no repository origin: the UI's timeline would leave the run out"
        assert (origin.location_name, origin.repository_origin.repository_name, origin.job_name) == (
            LOCATION,
            "__repository__",
            "warehouse_job",
        )
        assert run.tags["dagster/code_location"] == LOCATION


def test_pulse_build_prints_one_line_per_step_and_a_summary_without_colour_codes(warehouse: Warehouse) -> None:
    """The fixture's `pulse build` wrote into a StringIO (not a terminal): its whole output, line by line."""
    lines = warehouse.build_output.splitlines()
    assert "\x1b" not in warehouse.build_output
    assert "unable to do partial parsing" not in warehouse.build_output.lower()
    steps = [line for line in lines if line.startswith("  step ")]
    # Dagster splits the unpartitioned dbt op where the daily assets sit between its models (step ..._2).
    ops = {re.sub(r"_\d+$", "", line.split()[1]) for line in steps}
    assert ops == {"daily_dbt_models", "unpartitioned_dbt_models"} and len(steps) <= 3, lines
    assert all(" succeeded in " in line and " checks passed, 0 failed" in line for line in steps), steps
    assert any(" dates, " in line for line in steps if "daily_dbt_models" in line), steps
    assert not any(" date" in line for line in steps if "unpartitioned" in line), steps  # each step its own
    assert sum(line.startswith("run ") and " succeeded in " in line for line in lines) == 1, lines
    (summary,) = [line for line in lines if line.startswith("built the warehouse")]
    rows = re.search(r": 1 run, ([\d,]+) rows written, (\d+) checks passed, 0 failed", summary)
    assert rows is not None and int(rows[1].replace(",", "")) > 0 and int(rows[2]) > 0, summary
    assert not any("check passed:" in line or "Running with dbt" in line for line in lines)
    assert len(lines) <= 3 + len(steps) + 2, lines  # header, the run, its steps, the run's line, the summary


def test_pulse_build_verbose_adds_every_event_and_dbts_own_log(warehouse: Warehouse, cli_instance: Path) -> None:
    day = warehouse.monday.isoformat()
    code, out = run_cli(["build", "--start", day, "--end", day, "--verbose"], cli_instance, warehouse.url)
    assert code == 0, out[-3000:]
    assert "\x1b" not in out  # not a terminal: dbt's and Dagster's colours are stripped
    assert "step daily_dbt_models started" in out and "check passed: " in out
    assert "Running with dbt=" in out and "Finished running" in out, out[-3000:]  # dbt's own log
    # The range reaches dbt at run time (macro build_var), so a new range on a database dbt parsed for keeps its
    # saved parse: no "Unable to do partial parsing" (nothing filters that line out any more).
    assert "Unable to do partial parsing" not in out, [line for line in out.splitlines() if "Unable" in line]


def test_sigterm_stops_the_run_it_launched_and_leaves_no_process(warehouse: Warehouse, cli_instance: Path) -> None:
    day = warehouse.monday.isoformat()
    build = start_cli(["build", "--start", day, "--end", day], cli_instance, warehouse)
    try:
        run_id = wait_for_dbt_step(cli_instance, build)
        os.kill(build.pid, signal.SIGTERM)  # the command only, as `kill` would: it stops the run itself
        out, _ = build.communicate(timeout=120)
    finally:
        stop(build)
    assert build.returncode == 130, out[-3000:]
    assert f"stopping run {run_id}" in out and "pulse: interrupted" in out, out[-3000:]
    with DagsterInstance.from_config(str(cli_instance)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status in (DagsterRunStatus.CANCELED, DagsterRunStatus.FAILURE), run
        assert not instance.event_log_storage.get_concurrency_info("dbt_warehouse").active_run_ids
    assert process_alive(run) is False  # the run worker that recorded its PID is gone
    deadline = time.monotonic() + 20
    while (left := dagster_processes(cli_instance)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == []


def test_a_launched_run_leaves_no_code_server_behind(warehouse: Warehouse, cli_instance: Path) -> None:
    day = warehouse.monday.isoformat()
    code, out = run_cli(["build", "--start", day, "--end", day], cli_instance, warehouse.url)
    assert code == 0, out[-3000:]
    assert dagster_processes(cli_instance) == []  # at once: the command stopped the launcher's code server


def test_a_run_queued_by_an_instance_without_pulses_settings_fails_in_one_line_saying_why(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DAGSTER_HOME without Pulse's dagster.yaml queues every run (Dagster's default coordinator): no hang."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # no dagster.yaml in it
    monkeypatch.setenv("DATABASE_URL", warehouse.url)
    monkeypatch.setenv("PULSE_WAIT_TIMEOUT_SECONDS", "5")
    get_settings.cache_clear()
    day = warehouse.monday.isoformat()
    try:
        assert main(["build", "--start", day, "--end", day]) == 1
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    assert "is queued: the run coordinator of the Dagster instance" in captured.out, captured.out[-2000:]
    (error,) = captured.err.strip().splitlines()
    assert error.startswith("pulse: error: run ") and "is a Dagster daemon running?" in error, error
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        (run,) = instance.get_runs()
        assert run.status in (DagsterRunStatus.CANCELED, DagsterRunStatus.FAILURE), run.status  # not left queued


def test_a_step_line_counts_its_own_assets_and_dates_in_words() -> None:
    one = StepTally(started=10.0, materializations=1, checks_passed=2, partitions={"a": ["2026-03-01"]})
    assert _step_line("daily", "succeeded", one, 12.5) == (
        "step daily succeeded in 2.5 s: 1 asset (1 date, 2026-03-01), 2 checks passed, 0 failed"
    )
    two = StepTally(
        started=0.0, materializations=2, partitions={"a": ["2026-03-02", "2026-03-01"], "b": ["2026-03-01"]}
    )
    assert _step_line("daily", "FAILED", two, 1.0) == (
        "step daily FAILED in 1.0 s: 2 assets (2 dates, 2026-03-01 to 2026-03-02), 0 checks passed, 0 failed"
    )


def dagster_processes(home: Path) -> list[str]:
    """Dagster processes (launcher, code server, run worker) working for the instance at ``home``."""
    found = []
    for process in psutil.process_iter(attrs=("pid", "cmdline", "environ")):
        with contextlib.suppress(psutil.Error):
            home_of = (process.info["environ"] or {}).get("DAGSTER_HOME")
            if home_of and Path(home_of).resolve() == home.resolve() and process.pid != os.getpid():
                found.append(f"{process.pid} {' '.join(process.info['cmdline'] or [])[:160]}")
    return found


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-03-10", "--end", "2026-03-01"], "is before --start"),
        (["--start", "2019-01-01", "--end", "2019-01-02"], "outside the daily partitions"),
        (["--start", "2026-02-30"], "not a date"),
        (["--start", "2026-03-01", "--as-of", "2026-03-01T12:00"], "needs a UTC offset"),
    ],
)
def test_pulse_build_refuses_bad_options_in_one_line(
    cli_instance: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["build", *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pulse: error: ") and message in err[0]


def test_pulse_refresh_runs_what_the_sensor_asks_for_once(
    warehouse: Warehouse, cli_instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh"]) == 0  # the queue is empty: nothing to do
    with psycopg.connect(warehouse.url) as conn:
        conn.execute(
            "update app.tasks set title = 'renamed', updated_at = now() - interval '3 s' where task_id = %s",
            (BURST_TASKS[1],),
        )
    assert main(["refresh"]) == 0
    out = capsys.readouterr().out
    assert "run of daily_marts_job" in out
    assert main(["refresh"]) == 0
    assert "nothing to do" in capsys.readouterr().out  # the stored cursor moved past the change

    with DagsterInstance.from_config(str(cli_instance)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1, [(r.job_name, r.tags) for r in runs]
        assert runs[0].status == DagsterRunStatus.SUCCESS
        assert runs[0].tags["pulse/trigger"] == "change"
        assert runs[0].tags["dagster/sensor_name"] == "source_change_sensor"
        task_date = (warehouse.monday + timedelta(days=2)).isoformat()  # BURST_TASKS[1]'s only date
        assert (runs[0].tags[START], runs[0].tags[END]) == (task_date, task_date)
