"""Database selection (DATABASE_URL or embedded), init idempotence and the analyst role's limits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pulse import REPO_ROOT
from pulse.database import database_url, embedded_status, mask_password, status, with_database
from pulse.roles import TRANSFORM_ROLE, role_url
from pulse.schema import init_database
from pulse.settings import Settings

SCHEMA_QUERY = """
select table_schema, table_name, column_name, data_type, is_nullable, column_default
from information_schema.columns where table_schema in ('app', 'analytics')
order by 1, 2, ordinal_position
"""


def test_database_url_wins_over_embedded(server_url: str, tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=server_url, data_dir=tmp_path / "unused")
    assert database_url(settings) == server_url
    assert status(settings).mode == "url"
    assert status(settings).running
    assert not (tmp_path / "unused").exists(), "no embedded server when DATABASE_URL is set"


def test_unreachable_database_url_is_reported(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL="postgresql://nobody:secret@127.0.0.1:1/none", data_dir=tmp_path)
    described = status(settings)
    assert described.mode == "url" and not described.running
    assert "secret" not in (described.url or "")


def test_mask_password_hides_it() -> None:
    assert "hunter2" not in mask_password("postgresql://u:hunter2@h:5432/d")


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="embedded server not in use")
def test_embedded_server_is_reused(server_url: str) -> None:
    first = embedded_status()
    assert first.mode == "embedded" and first.running and first.pid
    assert database_url() == with_database(server_url, "pulse")
    assert embedded_status().pid == first.pid, "a second call reuses the running server"


def test_init_is_idempotent(empty_db: str) -> None:
    init_database(empty_db)
    with psycopg.connect(empty_db) as conn:
        before = conn.execute(SCHEMA_QUERY).fetchall()
        indexes = conn.execute("select indexdef from pg_indexes where schemaname = 'app' order by 1").fetchall()
    init_database(empty_db)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute(SCHEMA_QUERY).fetchall() == before
        assert conn.execute("select indexdef from pg_indexes where schemaname = 'app' order by 1").fetchall() == indexes
    tables = {(s, t) for s, t, *_ in before}
    assert {("app", t) for t in ("users", "categories", "tasks", "user_calendar_days", "goals")} <= tables
    assert any("updated_at" in i[0] and "tasks" in i[0] for i in indexes)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into app.tasks (task_id, user_id, status) values (gen_random_uuid(), %(u)s, 'done')",
        "insert into app.goals (user_id, name, target_type, target_value, time_period)"
        " values (%(u)s, 'g', 'hours', 5, 'daily')",
        "insert into app.goals (user_id, name, target_type, target_value, time_period)"
        " values (%(u)s, 'g', 'minutes', 0, 'daily')",
        "insert into app.goals (user_id, name, target_type, target_value, time_period)"
        " values (%(u)s, 'g', 'minutes', 5, 'yearly')",
        "insert into app.users (user_id, email) values (gen_random_uuid(), 'no-timezone@x')",
    ],
)
def test_source_constraints_refuse_bad_rows(empty_db: str, statement: str) -> None:
    init_database(empty_db)
    with psycopg.connect(empty_db) as conn:
        user = conn.execute(
            "insert into app.users (user_id, email, timezone)"
            " values (gen_random_uuid(), 'a@x', 'UTC') returning user_id"
        ).fetchone()
        assert user
        with pytest.raises(psycopg.errors.IntegrityError):
            conn.execute(statement, {"u": user[0]})


def test_analyst_reads_analytics_but_not_app(empty_db: str) -> None:
    init_database(empty_db, analyst_password="analyst-test-password")
    # What dbt builds: pulse_transform creates it, and analysts may read it by default privileges.
    with psycopg.connect(role_url(empty_db, TRANSFORM_ROLE), autocommit=True) as conn:
        conn.execute("create table if not exists analytics.probe (x int)")
        conn.execute("insert into analytics.probe values (1)")
    params = psycopg.conninfo.conninfo_to_dict(empty_db)
    params["user"] = "pulse_analyst"
    params["password"] = "analyst-test-password"
    with psycopg.connect(psycopg.conninfo.make_conninfo(**params)) as analyst:
        assert analyst.execute("select x from analytics.probe").fetchall() == [(1,)]
        analyst.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("select * from app.users")
        analyst.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("insert into analytics.probe values (2)")


def test_cli_reports_failure_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = subprocess.run(
        [sys.executable, "-m", "pulse.cli", "db", "init"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stderr.startswith("pulse: error: cannot connect to")
    assert len(done.stderr.strip().splitlines()) == 1


def _embedded(data_dir: Path) -> Settings:
    """Settings of the embedded server under ``data_dir``, whatever DATABASE_URL says (as ``_pulse`` runs)."""
    return Settings(DATABASE_URL=None, data_dir=data_dir)


def _pulse(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PULSE_DATABASE_URL")}
    env["PULSE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "pulse.cli", *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def _postgres_pids(pgdata: Path) -> list[int]:
    import psutil

    return [
        p.pid
        for p in psutil.process_iter(attrs=("name", "cmdline"))
        if p.info["name"] == "postgres" and str(pgdata) in " ".join(p.info["cmdline"] or [])
    ]


@pytest.fixture()
def private_data_dir() -> Iterator[Path]:
    """A data folder of its own inside the checkout, its server stopped and removed afterwards."""
    data_dir = REPO_ROOT / ".pulse" / f"test-{uuid.uuid4().hex[:8]}"
    yield data_dir
    _pulse(data_dir, "db", "stop")
    shutil.rmtree(data_dir, ignore_errors=True)


def test_stop_leaves_no_server_and_restart_keeps_data(private_data_dir: Path) -> None:
    assert _pulse(private_data_dir, "db", "init").returncode == 0
    url = database_url(_embedded(private_data_dir))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into app.users (user_id, email, timezone) values (gen_random_uuid(), 'keep@x', 'UTC')")
    assert _postgres_pids(private_data_dir / "pgdata")

    stopped = _pulse(private_data_dir, "db", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert _postgres_pids(private_data_dir / "pgdata") == []
    assert "stopped" in _pulse(private_data_dir, "db", "status").stdout

    assert _pulse(private_data_dir, "db", "init").returncode == 0
    url = database_url(_embedded(private_data_dir))
    with psycopg.connect(url) as conn:
        assert conn.execute("select email from app.users").fetchall() == [("keep@x",)]


def test_concurrent_starts_share_one_server(private_data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PULSE_DATABASE_URL")}
    env["PULSE_DATA_DIR"] = str(private_data_dir)
    procs = [
        subprocess.Popen([sys.executable, "-m", "pulse.cli", "db", "init"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    status_out = _pulse(private_data_dir, "db", "status").stdout
    assert "running" in status_out
    postmasters = [pid for pid in _postgres_pids(private_data_dir / "pgdata") if f"pid {pid})" in status_out]
    assert len(postmasters) == 1
