"""``pulse db init``: the source schema, the warehouse schemas and the roles of least privilege."""

from __future__ import annotations

from importlib.resources import files

from pulse.database import connect
from pulse.roles import configure_roles
from pulse.settings import Settings, get_settings


def init_sql() -> str:
    """The idempotent DDL of SPEC section 1 plus Pulse's indexes and analyst role."""
    return files("pulse").joinpath("sql/init.sql").read_text()


def init_database(url: str, analyst_password: str | None = None, settings: Settings | None = None) -> None:
    """Create (or leave as they are) the schemas, tables, indexes and grants in ``url``."""
    with connect(url, autocommit=True) as conn:
        # One init at a time per server: role creation and grants race otherwise.
        conn.execute("select pg_advisory_lock(hashtext('pulse db init'))")
        try:
            with conn.transaction():
                conn.execute(init_sql().encode())
                configure_roles(conn, settings or get_settings(), analyst_password)
        finally:
            conn.execute("select pg_advisory_unlock(hashtext('pulse db init'))")
