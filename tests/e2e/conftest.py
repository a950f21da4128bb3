"""Fixtures of the end-to-end tests: the real app (API + built front end) on a free port, over a database with
the API tests' dataset and marts built by a real dbt build, and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (pulse.browser; ``make test`` installs the
Debian package when it is missing). The front end is built first when web/dist is missing or stale (``pulse.web``).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
import uvicorn
from playwright.sync_api import Browser, Playwright, sync_playwright

from api.core.security import mint_token
from api.main import create_app
from pulse.browser import NoChromium, launch_chromium
from pulse.dbt import build_warehouse
from pulse.schema import init_database
from pulse.settings import Settings
from pulse.web import WEB_DIR, ensure_built
from tests.api import dataset
from tests.conftest import create_database, drop_database

SECRET = "e2e-tests-secret-" + "x" * 32
# The README's screenshots: taken by every run, written over docs/images/ only with PULSE_UPDATE_SCREENSHOTS=1
# (their clock and toasts differ each run, so an ordinary `make test` would leave the checkout changed).
IMAGES = (
    Path(__file__).resolve().parents[2] / "docs" / "images"
    if os.environ.get("PULSE_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "pulse-e2e-screenshots"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Site:
    """The running app: its base URL, the database behind it and the settings tokens are minted with."""

    base_url: str
    database_url: str
    settings: Settings

    def token(self, user_id: UUID) -> str:
        return mint_token(user_id, self.settings)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """web/dist, built now when missing or older than its sources."""
    ensure_built(progress=lambda line: print(line))
    return WEB_DIR / "dist"


@pytest.fixture(scope="session")
def e2e_db(server_url: str) -> Iterator[str]:
    """A database with the dataset of tests/api and the marts built by dbt, as of now."""
    url = create_database(server_url, "e2e")
    try:
        init_database(url)
        dataset.load(url)
        build_warehouse(url, as_of=datetime.now(UTC), progress=None)
        yield url
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="session")
def site(e2e_db: str, web_dist: Path) -> Iterator[Site]:
    """The real app (API and front end) served by uvicorn on a free port, stopped afterwards."""
    settings = Settings(env="test", jwt_secret=SECRET, web_dist_dir=web_dist, api_pool_min_size=1)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, e2e_db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", e2e_db, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        browser = launch_chromium(playwright)
    except NoChromium as exc:
        pytest.fail(str(exc))
    yield browser
    browser.close()
