"""``pulse db init``: the source schema, the analytics schema and the analyst role."""

from __future__ import annotations

from importlib.resources import files

from psycopg import sql

from pulse.database import connect


def init_sql() -> str:
    """The idempotent DDL of SPEC section 1 plus Pulse's indexes and analyst role."""
    return files("pulse").joinpath("sql/init.sql").read_text()


def init_database(url: str, analyst_password: str | None = None) -> None:
    """Create (or leave as they are) the schemas, tables, indexes and grants in ``url``."""
    with connect(url, autocommit=True) as conn:
        # One init at a time per server: role creation and grants race otherwise.
        conn.execute("select pg_advisory_lock(hashtext('pulse db init'))")
        try:
            with conn.transaction():
                conn.execute(init_sql().encode())
                if analyst_password is not None:
                    conn.execute(sql.SQL("alter role pulse_analyst password {}").format(sql.Literal(analyst_password)))
        finally:
            conn.execute("select pg_advisory_unlock(hashtext('pulse db init'))")
