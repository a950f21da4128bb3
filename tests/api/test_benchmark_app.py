"""The benchmark's app (benchmarks/api.py): its floor routes answer themselves, not the front end's catch-all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pulse import REPO_ROOT
from pulse.settings import get_settings
from tests.api import dataset
from tests.api.conftest import TEST_SECRET, Auth


@pytest.fixture
def built_front_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A built web/dist (an index.html the catch-all would serve) and the settings that point at it."""
    (tmp_path / "index.html").write_text("<!doctype html><title>Pulse</title>")
    monkeypatch.setenv("PULSE_WEB_DIST_DIR", str(tmp_path))
    monkeypatch.setenv("PULSE_ENV", "test")
    monkeypatch.setenv("PULSE_JWT_SECRET", TEST_SECRET)
    monkeypatch.setenv("PULSE_BENCH_URL", "postgresql://unused@127.0.0.1:1/unused")  # no request reads it
    monkeypatch.syspath_prepend(str(REPO_ROOT))  # benchmarks/ is run from the checkout, not installed
    get_settings.cache_clear()
    try:
        yield tmp_path
    finally:
        get_settings.cache_clear()


def test_the_bare_routes_are_the_floor_even_with_a_built_front_end(built_front_end: Path, auth: Auth) -> None:
    from benchmarks.api import bench_app

    client = TestClient(bench_app())  # no lifespan: neither route touches the database
    assert client.get("/some-page").text.startswith("<!doctype html>")  # the catch-all is there
    bare = client.get("/bare")
    assert bare.status_code == 200 and bare.json() == {"ok": True}
    assert client.get("/bare-auth").status_code == 401
    authed = client.get("/bare-auth", headers=auth(dataset.NY))
    assert authed.status_code == 200 and authed.json() == {"ok": True}
