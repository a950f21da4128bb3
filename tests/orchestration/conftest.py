"""Fixtures of the orchestration tests: the dbt manifest, one warehouse database built through Dagster.

The manifest is parsed once per session (the definitions need it before they
load; production builds it ahead, never on import), so test modules import
``orchestration.definitions`` inside fixtures, not at the top.
"""

import contextlib
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from dagster import DagsterInstance, instance_for_test
from psycopg import sql

from orchestration.instance import local_instance_config
from orchestration.partitions import last_partition_date
from pulse.cli import main
from pulse.database import with_database
from pulse.schema import init_database
from pulse.seed import SeedPlan, seed_database
from pulse.settings import get_settings

USER_UTC = "00000000-0000-4000-8000-0000000000a1"  # UTC; its tasks move and get deleted
USER_MOVER = "00000000-0000-4000-8000-0000000000a2"  # UTC until a test moves it to UTC+14
TASK_MONDAY = "00000000-0000-4000-8000-0000000000b1"
TASK_TUESDAY = "00000000-0000-4000-8000-0000000000b2"
AS_OF = "2026-01-05T12:00:00Z"
BURST_TASKS = [f"00000000-0000-4000-8000-0000000000c{n}" for n in range(7)]


@dataclass(frozen=True)
class Warehouse:
    """A database with source rows and marts built over ``first``..``last`` through Dagster."""

    url: str
    first: date
    last: date
    monday: date  # Monday of last week: TASK_MONDAY's date, and the first of the mover's five days
    dagster_home: Path  # the instance `pulse build` recorded the build in
    build_output: str  # what `pulse build` printed


def _slot(day: date, hour: int, minutes: int = 60) -> dict[str, str]:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}


def insert_known_rows(url: str, monday: date) -> None:
    """Two UTC users with tasks on known dates (the seed's users stay as they are)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into app.users (user_id, email, timezone)"
            " values (%s, 'utc@test', 'UTC'), (%s, 'mover@test', 'UTC')",
            (USER_UTC, USER_MOVER),
        )
        tasks = [
            (TASK_MONDAY, USER_UTC, [_slot(monday, 10)]),
            (TASK_TUESDAY, USER_UTC, [_slot(monday + timedelta(days=1), 10)]),
            *((str(uuid.UUID(int=0xD0 + n)), USER_MOVER, [_slot(monday + timedelta(days=n), 12)]) for n in range(5)),
            *(
                (task_id, USER_UTC, [_slot(monday + timedelta(days=2 * n), 8, 30)])
                for n, task_id in enumerate(BURST_TASKS)
            ),
        ]
        for task_id, user_id, slots in tasks:
            conn.execute(
                "insert into app.tasks (task_id, user_id, title, status, scheduled_slots)"
                " values (%s, %s, 'known task', 'scheduled', %s::jsonb)",
                (task_id, user_id, json.dumps(slots)),
            )


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """``dbt parse`` once per session: the manifest every definition is built from."""
    from orchestration.project import prepare_manifest

    return prepare_manifest(force=True)


@contextlib.contextmanager
def built_warehouse(server_url: str, home: Path, label: str) -> Iterator[Warehouse]:
    """A database of its own: a small seed plus known rows, every model built for the last weeks by `pulse build`."""
    name = f"pulse_t_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    try:
        init_database(url)
        today = datetime.now(UTC).date()
        monday = today - timedelta(days=today.weekday() + 7)
        seed_database(url, SeedPlan(users=3, days=14, start=today - timedelta(days=12), seed=5), workers=1)
        insert_known_rows(url, monday)
        with psycopg.connect(url) as conn:  # the seed's synthetic timestamps reach into tomorrow: none after now
            for table in ("users", "categories", "tasks", "user_calendar_days", "goals"):
                conn.execute(
                    f"update app.{table} set updated_at = now() - interval '1 minute' where updated_at > now()"
                )
        first, last = monday - timedelta(days=7), last_partition_date()  # the latest date that exists on Earth
        # The build is `pulse build` itself, on a Dagster home of its own (test_cli.py reads its run back).
        (home / "dagster.yaml").write_text(yaml.safe_dump(local_instance_config()))
        code, output = run_cli(
            ["build", "--start", first.isoformat(), "--end", last.isoformat(), "--as-of", AS_OF], home, url
        )
        assert code == 0, output[-3000:]
        # The build covered every date of the data: the changes the load queued are in the marts.
        with psycopg.connect(url) as conn:
            conn.execute("delete from pulse_state.source_changes")
        yield Warehouse(url, first, last, monday, home, output)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def run_cli(args: list[str], home: Path, url: str) -> tuple[int, str]:
    """Run one `pulse` command in this process on Dagster home ``home`` and database ``url``: (exit code, stdout)."""
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(yaml.safe_dump(local_instance_config()))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        env.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output):
                code = main(args)
        finally:
            get_settings.cache_clear()
    return code, output.getvalue()


@pytest.fixture(scope="package")
def warehouse(server_url: str, dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The package's shared warehouse (tests that change it put it back or change rows no other test reads)."""
    with built_warehouse(server_url, tmp_path_factory.mktemp("dagster_home"), "orchestration") as built:
        yield built


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    """A throwaway instance with Pulse's retry and concurrency settings (SQLite, no server)."""
    with instance_for_test(overrides=local_instance_config()) as test_instance:
        yield test_instance


def fetch(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    """All rows of one query."""
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()
