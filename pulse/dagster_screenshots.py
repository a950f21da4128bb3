"""Screenshots of the Dagster UI for the docs: the asset catalog, a daily mart's partitions, warehouse_job's runs.

Run against a running webserver (``make demo``, ``pulse ui``), e.g. ``make screenshots DAGSTER_PORT=3001``
or ``python -m pulse.dagster_screenshots --url http://127.0.0.1:3001``. The code location's name comes from
the webserver's GraphQL API; each page is captured once its data has rendered (the catalog's asset rows, the
partition health bar, the runs table or its empty state), never after a fixed sleep. Headless Debian Chromium
(pulse.browser), 1440x900.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulse import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

Progress = Callable[[str], None]

IMAGES = REPO_ROOT / "docs" / "images"
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
JOB = "warehouse_job"
# The main daily mart, as its asset key path shows in the catalog (schema / model).
PARTITIONED_ASSET = ("analytics", "analytics_daily_metrics")
POLL_SECONDS = 1.0
# Local-address pages open Dagster's "Join the Dagster community" dialog once per browser; a dismissed one is
# remembered in localStorage (the dialog's own "Skip" writes the same), so the browser starts with it set.
SKIP_COMMUNITY_DIALOG = "window.localStorage.setItem('communityNux', JSON.stringify('1'))"

REPOSITORIES_QUERY = """
query PulseScreenshotsRepositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
  }
}
"""


LATEST_PARTITION_QUERY = """
query PulseScreenshotsLatestPartition($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset { assetMaterializations(limit: 1) { partition } }
  }
}
"""


class ScreenshotError(RuntimeError):
    """The screenshots cannot be taken; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Shot:
    """One page of the UI: where it is, what shows it has rendered its data, and the PNG it becomes."""

    name: str
    path: str
    ready: Callable[[Page], None]
    file: str


def graphql(
    base_url: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """The ``data`` of a GraphQL query to the webserver; ScreenshotError when it does not answer."""
    request = urllib.request.Request(  # noqa: S310 - the webserver's own http URL
        f"{base_url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ScreenshotError(
            f"the Dagster webserver at {base_url} is not reachable ({reason}): start it with"
            " 'make demo' (or 'pulse ui') and give its address (--url URL; make screenshots DAGSTER_PORT=PORT)"
        ) from exc
    if body.get("errors"):
        raise ScreenshotError(f"the webserver's GraphQL API refused the query: {body['errors'][0].get('message')}")
    data: dict[str, Any] = body.get("data") or {}
    return data


def find_location(base_url: str, job: str, timeout: float, progress: Progress) -> str:
    """``repository@location`` of the code location that defines ``job``, waiting while the location loads."""
    deadline = time.monotonic() + timeout
    said = False
    while True:
        found = graphql(base_url, REPOSITORIES_QUERY)["repositoriesOrError"]
        if found["__typename"] == "PythonError":
            raise ScreenshotError(f"the webserver could not list its code locations: {found['message']}")
        for repository in found.get("nodes", []):
            if any(j["name"] == job for j in repository["jobs"]):
                return f"{repository['name']}@{repository['location']['name']}"
        if time.monotonic() > deadline:
            raise ScreenshotError(
                f"no code location of the webserver at {base_url} defines {job} after {timeout:.0f} s"
                " (is it Pulse's webserver, and did its code location load? see the Dagster UI's Deployment page)"
            )
        if not said:
            progress(f"waiting for a code location that defines {job} ...")
            said = True
        time.sleep(POLL_SECONDS)


def _nothing_loading(page: Page) -> None:
    """No cell of the page still says "Loading..." (the catalog fills its status column row by row)."""
    page.wait_for_function("() => !document.body.innerText.includes('Loading...')")


def latest_partition(base_url: str, asset_path: tuple[str, ...]) -> str:
    """The partition of the asset's latest materialization (the one the partition view shows opened)."""
    found = graphql(base_url, LATEST_PARTITION_QUERY, {"path": list(asset_path)})["assetOrError"]
    events = found.get("assetMaterializations") or []
    if found["__typename"] != "Asset" or not events or not events[0].get("partition"):
        raise ScreenshotError(
            f"{'/'.join(asset_path)} has no materialized partition in this Dagster instance:"
            " build the marts first ('make demo' builds them)"
        )
    partition: str = events[0]["partition"]
    return partition


def _catalog_ready(page: Page) -> None:
    """The catalog lists the marts (the daily mart's row is there) and every row shown has its status."""
    page.get_by_role("link", name=PARTITIONED_ASSET[-1]).first.wait_for()
    _nothing_loading(page)


def _partitions_ready(page: Page) -> None:
    """The health bar's counts are in, and the opened partition shows its latest materialization's run."""
    page.get_by_text(re.compile(r"^Materialized \(\d+\)$")).first.wait_for()
    page.get_by_text("Latest materialization").first.wait_for()
    page.locator("a[href^='/runs/']").first.wait_for()
    _nothing_loading(page)


def _runs_ready(page: Page) -> None:
    """The runs table shows a run (a link to /runs/<id>), or says it has none."""
    page.locator("a[href^='/runs/']").or_(page.get_by_text("No runs found")).first.wait_for()
    _nothing_loading(page)


def shots(location: str, partition: str) -> list[Shot]:
    """The three pages, in the order they are taken; the partition view opened on ``partition``."""
    asset_path = "/".join(PARTITIONED_ASSET)
    return [
        Shot("asset catalog", "/assets", _catalog_ready, "dagster-asset-catalog.png"),
        Shot(
            f"partitions of {asset_path}",
            f"/assets/{asset_path}?view=partitions&partition={partition}",
            _partitions_ready,
            "dagster-partitions.png",
        ),
        Shot(f"runs of {JOB}", f"/locations/{location}/jobs/{JOB}/runs", _runs_ready, "dagster-job-runs.png"),
    ]


def _capture(page: Page, base_url: str, shot: Shot, out_dir: Path) -> Path:
    """Open the shot's page, wait for its data, write its PNG; ScreenshotError naming the page if it won't render."""
    from playwright.sync_api import Error as PlaywrightError

    target = out_dir / shot.file
    try:
        page.goto(f"{base_url}{shot.path}")
        shot.ready(page)
        page.screenshot(path=str(target))
    except PlaywrightError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ScreenshotError(f"the {shot.name} page ({base_url}{shot.path}) did not render: {first}") from exc
    return target


def take_screenshots(base_url: str, out_dir: Path, timeout: float, progress: Progress = print) -> list[Path]:
    """Find the code location, then capture each page once it has rendered its data; the PNGs written."""
    from playwright.sync_api import sync_playwright

    from pulse.browser import NoChromium, launch_chromium

    base_url = base_url.rstrip("/")
    location = find_location(base_url, JOB, timeout, progress)
    partition = latest_partition(base_url, PARTITIONED_ASSET)
    progress(f"code location {location} at {base_url}; latest materialized partition {partition}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as driver:
        try:
            browser = launch_chromium(driver)
        except NoChromium as exc:
            raise ScreenshotError(str(exc)) from exc
        try:
            # Times shown in UTC and a light theme, whatever the machine's zone and settings: the same page each run.
            context = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-US", color_scheme="light")
            context.set_default_timeout(timeout * 1000)
            context.add_init_script(SKIP_COMMUNITY_DIALOG)
            page = context.new_page()
            for shot in shots(location, partition):
                began = time.monotonic()
                target = _capture(page, base_url, shot, out_dir)
                progress(f"{shot.name}: {target} ({time.monotonic() - began:.1f} s)")
                written.append(target)
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m pulse.dagster_screenshots``: the exit code (1 with one line on stderr when it cannot)."""
    from pulse.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m pulse.dagster_screenshots", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=f"http://127.0.0.1:{settings.dagster_port}",
        help="the Dagster webserver's base URL (default: port PULSE_DAGSTER_PORT, else 3000, on 127.0.0.1)",
    )
    parser.add_argument("--out", type=Path, default=IMAGES, help=f"folder of the PNGs (default {IMAGES})")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the code location and each page (120)"
    )
    args = parser.parse_args(argv)
    try:
        take_screenshots(args.url, args.out, args.timeout, progress=lambda line: print(line, flush=True))
    except ScreenshotError as exc:
        print(f"dagster screenshots: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
