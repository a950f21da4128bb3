"""Pulse's database roles: which role each service connects as, and how its connection is derived.

``pulse db init`` (a superuser) creates three login roles (pulse/sql/init.sql):

- ``pulse_api``: the API. Reads the public marts and views in ``analytics`` and the app tables it
  shows (users, categories, goals); writes only ``app.goals``.
- ``pulse_transform``: dbt and Dagster. Owns the warehouse schemas (``staging``, ``intermediate``,
  ``analytics``) and everything in them, reads ``app``, reads and writes ``pulse_state``.
- ``pulse_analyst``: people. Reads ``analytics`` only, with statement, lock and idle-in-transaction
  timeouts and a connection limit.

Services are given one URL (``DATABASE_URL`` or the embedded server's, which names a superuser) and
derive their role's connection from it: the same host, port and database with the role's user and
password. A real login (rather than ``SET ROLE`` on a superuser's connection) is the point: a session
that logged in as ``pulse_api`` cannot ``RESET ROLE`` back to the superuser, whatever SQL reaches it.
Passwords come from the settings (``PULSE_API_DB_PASSWORD``, ``PULSE_TRANSFORM_DB_PASSWORD``); for the
embedded server, unset ones are generated once and kept in ``<data_dir>/role-passwords.json`` (mode
0600). Only where ``DATABASE_URL`` is set and no password is configured does a service fall back to
``SET ROLE`` per connection (libpq ``options=-c role=...``), which needs a superuser (or member) URL.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pulse.settings import Settings, get_settings

ServiceRole = Literal["pulse_api", "pulse_transform"]
API_ROLE: ServiceRole = "pulse_api"
TRANSFORM_ROLE: ServiceRole = "pulse_transform"
ANALYST_ROLE = "pulse_analyst"

PASSWORD_FILE = "role-passwords.json"  # noqa: S105 - a file name


def _configured_password(role: ServiceRole, settings: Settings) -> str | None:
    return settings.api_db_password if role == API_ROLE else settings.transform_db_password


def role_password(role: ServiceRole, settings: Settings | None = None) -> str | None:
    """The login password of ``role``: the setting, else (embedded server) one generated and kept under data_dir."""
    settings = settings or get_settings()
    configured = _configured_password(role, settings)
    if configured:
        return configured
    if settings.database_url:
        return None
    import fasteners

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / PASSWORD_FILE
    with fasteners.InterProcessLock(str(settings.data_dir / f"{PASSWORD_FILE}.lock")):
        stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        if role not in stored:
            stored[role] = secrets.token_urlsafe(24)
            staged = path.with_suffix(".tmp")
            staged.write_text(json.dumps(stored, indent=2))
            os.chmod(staged, 0o600)
            os.replace(staged, path)
        return stored[role]


def role_url(url: str, role: ServiceRole, settings: Settings | None = None) -> str:
    """The connection of ``role`` on the server and database of ``url`` (``url`` itself when it is that role's)."""
    params = conninfo_to_dict(url)
    if params.get("user") == role:
        return url
    password = role_password(role, settings)
    if password is not None:
        params["user"] = role
        params["password"] = password
        return make_conninfo("", **params)
    # No password known for a DATABASE_URL: keep its login and switch role per connection.
    options = str(params.get("options") or "")
    params["options"] = f"{options} -c role={role}".strip()
    return make_conninfo("", **params)


def configure_roles(conn: psycopg.Connection[Any], settings: Settings, analyst_password: str | None) -> None:
    """Passwords of the login roles and the analyst's limits (role settings), as ``pulse db init`` sets them."""
    for role in (API_ROLE, TRANSFORM_ROLE):
        password = role_password(role, settings)
        if password is not None:
            conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(password)))
    if analyst_password is not None:
        conn.execute(
            sql.SQL("alter role {} password {}").format(sql.Identifier(ANALYST_ROLE), sql.Literal(analyst_password))
        )
    analyst = sql.Identifier(ANALYST_ROLE)
    limits = {
        "statement_timeout": settings.analyst_statement_timeout_ms,
        "lock_timeout": settings.analyst_lock_timeout_ms,
        "idle_in_transaction_session_timeout": settings.analyst_idle_in_transaction_timeout_ms,
    }
    for name, milliseconds in limits.items():
        conn.execute(
            sql.SQL("alter role {} set {} = {}").format(analyst, sql.Identifier(name), sql.Literal(f"{milliseconds}ms"))
        )
    conn.execute(
        sql.SQL("alter role {} connection limit {}").format(analyst, sql.Literal(settings.analyst_connection_limit))
    )
