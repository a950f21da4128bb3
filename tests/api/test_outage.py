"""Outages: while the database is down the API answers 503 with Retry-After within 1 s, and it answers
again within 2 s of the database coming back, after a 10 s and after a 60 s outage.

The database is an embedded server of this module's own (its own data_dir), so stopping it disturbs no
other test; the app is the real one, its pool logging in as pulse_api.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from pulse.database import ensure_database_exists, start_embedded, stop_embedded, with_database
from pulse.schema import init_database
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import TEST_SECRET, Auth

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="stops an embedded server of its own")

FAIL_WITHIN = 1.0
BACK_WITHIN = 2.0
GOALS = "/api/v1/goals"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    """A private embedded server with an initialized database holding the dataset; stopped afterwards."""
    data_dir: Path = tmp_path_factory.mktemp("outage")
    settings = Settings.model_validate(
        {"DATABASE_URL": None, "data_dir": data_dir, "env": "test", "jwt_secret": TEST_SECRET}
    )
    server = start_embedded(settings)
    try:
        ensure_database_exists(server, "pulse_outage")
        url = with_database(server, "pulse_outage")
        init_database(url, settings=settings)
        dataset.load(url)
        yield settings, url
    finally:
        stop_embedded(settings)


def outage(client: TestClient, headers: dict[str, str], settings: Settings, seconds: float) -> tuple[float, float]:
    """Stop the server for ``seconds`` while asking every 0.2 s; (slowest 503, seconds from restart to a 200)."""
    assert client.get(GOALS, headers=headers).status_code == 200
    stop_embedded(settings)
    slowest = 0.0
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        began = time.perf_counter()
        response = client.get(GOALS, headers=headers)
        took = time.perf_counter() - began
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) >= 1
        slowest = max(slowest, took)
        time.sleep(0.2)
    start_embedded(settings)
    back = time.monotonic()
    while (status := client.get(GOALS, headers=headers).status_code) != 200:
        assert status == 503
        assert time.monotonic() - back < 10, "the API did not come back within 10 s"
        time.sleep(0.05)
    return slowest, time.monotonic() - back


@pytest.mark.parametrize("seconds", [10, 60])
def test_the_api_fails_fast_and_comes_back_at_once(
    own_server: tuple[Settings, str], auth: Auth, seconds: int, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url = own_server
    with TestClient(create_app(settings, url)) as client:
        slowest, recovery = outage(client, auth(dataset.NY), settings, seconds)
        assert client.get("/readyz").status_code == 200
    with capsys.disabled():
        print(f"\n{seconds} s outage: slowest 503 {slowest:.3f} s, answering again {recovery:.3f} s after restart")
    assert slowest < FAIL_WITHIN
    assert recovery < BACK_WITHIN
