"""Freshness: seconds from a source change to the marts showing it, with the Dagster daemon and change sensor running.

Creates a database of its own (``pulse_bench_freshness``), seeds a few users,
builds the marts through Dagster, then starts ``dagster dev`` (webserver and
daemon, the change sensor on) against it, with a Dagster home of its own. Each
round changes the source as the app would and polls
``analytics.analytics_daily_metrics`` until the change is there:

- "new task": a new task with a 37-minute slot on a date that had none for its user;
- "moved slot": the same task moved to another date (the new date shows it, the old one no longer does).

Each change is made once no run is queued or running (the steady state of an
app whose users change things now and then); a change made while a run is in
flight waits for it (the sensor reads nothing meanwhile) and then for its own
run. The changes carry an ``updated_at`` an hour old (the sensor reads the
change queue, not timestamps). Prints one line per change and the median.
Target: at most 30 s. Run:
``python -m benchmarks.freshness [--rounds 3]``.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from pulse import REPO_ROOT

DATABASE = "pulse_bench_freshness"
TIMEOUT_SECONDS = 300.0


def _slot(day: date, minutes: int) -> list[dict[str, str]]:
    start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return [{"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}]


def _minutes(url: str, user_id: str, day: date) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select total_scheduled_minutes from analytics.analytics_daily_metrics where user_id = %s and date = %s",
            (user_id, day),
        ).fetchone()
    return int(row[0]) if row else 0


def _wait_until(check: Callable[[], bool], since: float) -> float:
    """Poll ``check`` every 0.25 s; the seconds from ``since`` until it held."""
    while time.monotonic() - since < TIMEOUT_SECONDS:
        if check():
            return time.monotonic() - since
        time.sleep(0.25)
    raise TimeoutError(f"the marts did not show the change within {TIMEOUT_SECONDS:.0f} s")


def _wait_for_idle(home: Path) -> None:
    """Wait until the instance has no queued or running run, so each change is timed from an idle system."""
    from dagster import DagsterInstance, RunsFilter

    from orchestration.change_queue import UNFINISHED

    with DagsterInstance.from_config(str(home)) as instance:
        while instance.get_run_ids(RunsFilter(statuses=UNFINISHED), limit=1):
            time.sleep(1)


def prepare_database(server_url: str) -> str:
    """A fresh benchmark database with a small seed; its URL."""
    from pulse.database import with_database
    from pulse.schema import init_database
    from pulse.seed import SeedPlan, default_start, seed_database

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    url = with_database(server_url, DATABASE)
    init_database(url)
    seed_database(url, SeedPlan(users=20, days=30, start=default_start(30), seed=11), workers=1)
    with psycopg.connect(url) as conn:  # the seed's synthetic timestamps reach into today: none after now
        for table in ("users", "categories", "tasks", "user_calendar_days", "goals"):
            conn.execute(f"update app.{table} set updated_at = now() - interval '1 minute' where updated_at > now()")
    return url


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (new task, moved slot) (3)")
    parser.add_argument("--port", type=int, default=3377, help="port of the Dagster webserver (3377)")
    args = parser.parse_args()
    # Stoppable by SIGINT or SIGTERM even when started in the background (where SIGINT is ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    from pulse.database import database_url

    server_url = database_url()
    url = prepare_database(server_url)
    home = Path(tempfile.mkdtemp(prefix="pulse-freshness-dagster-"))
    from orchestration.instance import local_instance_config

    (home / "dagster.yaml").write_text(yaml.safe_dump(local_instance_config()))
    env = {**os.environ, "DATABASE_URL": url, "DAGSTER_HOME": str(home)}
    today = datetime.now(UTC).date()
    print(f"building the marts of {DATABASE} (every date: it handles the load's queued changes)", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pulse.cli", "build"], env=env, check=True, stdout=subprocess.DEVNULL
    )  # fmt: skip

    from orchestration.ui import _reset_sigint, dagster_dev_command, stop_group

    log = (home / "dagster-dev.log").open("wb")
    daemon = subprocess.Popen(
        dagster_dev_command("127.0.0.1", args.port),
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_reset_sigint,
        start_new_session=True,
    )
    print(f"dagster dev started (pid {daemon.pid}); waiting for the change sensor's first tick", flush=True)
    figures: list[tuple[str, float]] = []
    try:
        time.sleep(45)  # code location load, daemon start
        for round_number in range(args.rounds):
            _wait_for_idle(home)
            user_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
            first_day, second_day = today - timedelta(days=3 + 2 * round_number), today - timedelta(days=20)
            with psycopg.connect(url) as conn:
                conn.execute(
                    "insert into app.users (user_id, email, timezone) values (%s, %s, 'UTC')",
                    (user_id, f"fresh{round_number}@bench"),
                )
                conn.execute(
                    "insert into app.tasks (task_id, user_id, title, status, scheduled_slots, updated_at)"
                    " values (%s, %s, 'fresh', 'scheduled', %s::jsonb, now() - interval '1 hour')",
                    (task_id, user_id, json.dumps(_slot(first_day, 37))),
                )
            began = time.monotonic()
            seconds = _wait_until(lambda: _minutes(url, user_id, first_day) == 37, began)  # noqa: B023
            figures.append(("new task", seconds))
            print(f"round {round_number + 1}: new task on {first_day} visible after {seconds:.1f} s", flush=True)

            _wait_for_idle(home)
            with psycopg.connect(url) as conn:
                conn.execute(
                    "update app.tasks set scheduled_slots = %s::jsonb, updated_at = now() - interval '1 hour'"
                    " where task_id = %s",
                    (json.dumps(_slot(second_day, 41)), task_id),
                )
            began = time.monotonic()
            seconds = _wait_until(
                lambda: _minutes(url, user_id, second_day) == 41 and _minutes(url, user_id, first_day) == 0,  # noqa: B023
                began,
            )
            figures.append(("moved slot", seconds))
            print(
                f"round {round_number + 1}: slot moved {first_day} -> {second_day} visible after {seconds:.1f} s",
                flush=True,
            )
    finally:
        stop_group(daemon)
        log.close()
    values = [seconds for _, seconds in figures]
    print(f"\nfreshness over {len(values)} changes: median {statistics.median(values):.1f} s,"
          f" min {min(values):.1f} s, max {max(values):.1f} s (target <= 30 s)")  # fmt: skip
    print(f"(Dagster home with the runs: {home}; database {DATABASE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
