"""Shared fixtures: one PostgreSQL server for the whole run, a fresh database per test module.

The server is the one Pulse itself would use: ``DATABASE_URL`` when set,
otherwise the embedded PostgreSQL under the checkout. Nothing is mocked.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from pulse.database import database_url, with_database
from pulse.schema import init_database
from pulse.seed import TABLES


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL of the selected server (DATABASE_URL or embedded), started if needed."""
    return database_url()


def create_database(server_url: str, label: str) -> str:
    """Create an empty database named after ``label``; return its URL."""
    name = f"pulse_t_{re.sub(r'[^a-z0-9]+', '_', label.lower())[-30:]}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database of ``url``, closing its connections."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def copy_source(source_url: str, target_url: str) -> None:
    """Copy every app table's rows, parents first, from one initialized database into the empty tables of another."""
    with psycopg.connect(source_url) as source, psycopg.connect(target_url) as target:
        for table in TABLES:
            with (
                source.cursor().copy(f"copy app.{table} to stdout") as out,
                target.cursor().copy(f"copy app.{table} from stdin") as into,
            ):
                for block in out:
                    into.write(block)


@pytest.fixture(scope="module")
def empty_db(server_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database for this test module, dropped afterwards."""
    url = create_database(server_url, request.module.__name__)
    yield url
    drop_database(server_url, url)


@pytest.fixture(scope="module")
def pulse_db(empty_db: str) -> str:
    """A database of this module's own with ``pulse db init`` applied."""
    init_database(empty_db)
    return empty_db


@pytest.fixture
def make_pulse_db(server_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """A factory of extra initialized databases (for tests that compare databases), all dropped afterwards."""
    urls: list[str] = []

    def make() -> str:
        url = create_database(server_url, request.node.name)
        urls.append(url)
        init_database(url)
        return url

    yield make
    for url in urls:
        drop_database(server_url, url)
