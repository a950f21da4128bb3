"""Fixtures of the API tests: the real app over a real database, and tokens minted like ``pulse token`` mints them.

``goals_db`` is this module's database with the fixed dataset (no marts);
``warehouse_db`` is one database for the whole package with the dataset and
the marts built by dbt (``pulse.dbt.build_warehouse``, as of now).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from uuid import UUID

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql

from api.core.security import mint_token
from api.main import create_app
from pulse.database import with_database
from pulse.schema import init_database
from pulse.settings import Settings
from tests.api import dataset

TEST_SECRET = "api-tests-secret-" + "x" * 32

Auth = Callable[[UUID], dict[str, str]]


@pytest.fixture(scope="session")
def api_settings() -> Settings:
    """Settings of a non-development deployment with a real secret (the placeholder would be refused)."""
    return Settings(env="test", jwt_secret=TEST_SECRET, api_pool_min_size=1, api_pool_max_size=4)


@pytest.fixture(scope="session")
def auth(api_settings: Settings) -> Auth:
    """Headers with a token for a user, minted by the code ``pulse token`` uses."""

    def headers(user_id: UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(user_id, api_settings)}"}

    return headers


def make_client(settings: Settings, url: str) -> tuple[FastAPI, TestClient]:
    """The real app on ``url`` and a client that runs its lifespan."""
    app = create_app(settings, url)
    return app, TestClient(app)


def wait_for_cache_listener(app: FastAPI, seconds: float = 30.0) -> None:
    """Wait until the app's response cache holds its LISTEN connection (it caches nothing before)."""
    deadline = time.monotonic() + seconds
    while not app.state.response_cache.active:
        assert time.monotonic() < deadline, "the cache listener did not connect"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def goals_db(pulse_db: str) -> str:
    """This module's database with ``pulse db init`` and the fixed dataset (no marts)."""
    dataset.load(pulse_db)
    return pulse_db


@pytest.fixture(scope="module")
def goals_client(api_settings: Settings, goals_db: str) -> Iterator[TestClient]:
    """A client of the app on ``goals_db``."""
    _, client = make_client(api_settings, goals_db)
    with client:
        yield client


@pytest.fixture(scope="package")
def warehouse_db(server_url: str) -> Iterator[str]:
    """One database for tests/api with the dataset and the marts built as of now; dropped afterwards."""
    from pulse.dbt import build_warehouse

    name = f"pulse_t_api_warehouse_{uuid.uuid4().hex[:8]}"
    assert re.fullmatch(r"[a-z0-9_]+", name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    try:
        init_database(url)
        dataset.load(url)
        build_warehouse(url, as_of=datetime.now(UTC), progress=None)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="package")
def warehouse_app(api_settings: Settings, warehouse_db: str) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app on ``warehouse_db`` and its client (lifespan running)."""
    app, client = make_client(api_settings, warehouse_db)
    with client:
        yield app, client


@pytest.fixture(scope="package")
def client(warehouse_app: tuple[FastAPI, TestClient]) -> TestClient:
    """A client of the app on the built warehouse."""
    return warehouse_app[1]
