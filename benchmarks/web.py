"""Benchmark of the front end: gzipped JavaScript of the first page (every script the dashboard loads, lazy
chunks included), and the time from navigation to the
dashboard's figures on the demo data, median of 10 cold loads in headless Chromium (Debian's /usr/bin/chromium).

Prepares (or reuses) a database of the demo's size (``pulse demo``'s 300 users x 90 days, seeded and built
as ``benchmarks.api`` does), builds web/dist when stale, serves the real app under uvicorn on a free loopback
port, and loads ``/`` as the demo user in a fresh browser context each time (empty cache, token in
sessionStorage). The time is the page's own ``performance.now()`` (ms since navigation started) when the
quick stats and the trend table are on screen. Targets: <= 250 KB of gzipped JS, <= 1 s.

    python -m benchmarks.web [--users 300] [--days 90] [--loads 10]
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import threading
import time
from pathlib import Path
from uuid import UUID

JS_TARGET_KB = 250.0
FIGURES_TARGET_MS = 1000.0
FIGURES = '[data-testid="quick-stats-total-minutes"]'
# Notes, in the page, the moment the figures and the trend table are both in the DOM (a MutationObserver),
# so the driver's own latency in noticing them is not counted.
SEEN_SCRIPT = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-testid="quick-stats-total-minutes"]')
      && document.querySelector('[data-testid="trend-row"]')) {
    window.__figuresSeenAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def first_page_js(dist: Path) -> list[Path]:
    """The scripts index.html loads (entry and module preloads): the JavaScript of the first page."""
    html = (dist / "index.html").read_text()
    sources = re.findall(r'<script[^>]+src="/([^"]+\.js)"', html) + re.findall(
        r'<link[^>]+rel="modulepreload"[^>]+href="/([^"]+\.js)"', html
    )
    return [dist / source for source in sources]


def gzipped_kb(paths: list[Path]) -> float:
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in paths) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args()

    import uvicorn
    from playwright.sync_api import Response, sync_playwright

    from api.core.security import mint_token
    from api.main import create_app
    from benchmarks.api import free_port, prepare_database
    from pulse.seed import DEMO_USER_ID
    from pulse.settings import Settings
    from pulse.web import WEB_DIR, ensure_built
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    ensure_built(progress=lambda line: print(line, flush=True))
    dist = WEB_DIR / "dist"
    entry = first_page_js(dist)

    url, _, _ = prepare_database(args.users, args.days)
    settings = Settings(jwt_secret="bench-web-secret-" + "x" * 32, web_dist_dir=dist)
    token = mint_token(UUID(DEMO_USER_ID), settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    times: list[float] = []
    scripts_loaded: list[set[str]] = []
    breakdown: list[dict[str, str]] = []
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(args.loads + 1):  # the first load warms the server and the database's cache
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                context.add_init_script(f"sessionStorage.setItem('pulse.token', {token!r})")
                context.add_init_script(SEEN_SCRIPT)
                page = context.new_page()
                loaded: set[str] = set()

                def count(response: Response, loaded: set[str] = loaded) -> None:
                    if response.url.endswith(".js"):
                        loaded.add(response.url.rsplit("/", 1)[-1])

                page.on("response", count)
                page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
                page.wait_for_selector(FIGURES)
                page.wait_for_selector('[data-testid="trend-row"]', state="attached")
                page.wait_for_function("window.__figuresSeenAt !== undefined")
                times.append(float(page.evaluate("window.__figuresSeenAt")))
                # Where the time went: when the script and the dashboard's answer had arrived (ms since navigation).
                ends = page.evaluate(
                    "Object.fromEntries(performance.getEntriesByType('resource').map(e => "
                    "[e.name.replace(/^.*\\/(assets\\/|api\\/v1\\/)/, '').replace(/\\?.*$/, ''), "
                    "Math.round(e.fetchStart) + '-' + Math.round(e.responseEnd)]))"
                )
                breakdown.append(ends)
                page.wait_for_selector("canvas")  # the lazy chart chunk too
                scripts_loaded.append(loaded)
                context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    loads = times[1:]
    median = statistics.median(loads)
    scripts = sorted(dist / "assets" / name for name in scripts_loaded[-1])
    assert {p.name for p in entry} <= {p.name for p in scripts}
    js_kb = gzipped_kb(scripts)
    raw_kb = sum(p.stat().st_size for p in scripts) / 1024
    print(f"\nfirst page scripts: {', '.join(p.name for p in scripts)} ({raw_kb:.0f} KB uncompressed)")
    print(f"navigation to figures, ms, {len(loads)} cold loads: {', '.join(f'{t:.0f}' for t in loads)}")
    median_load = breakdown[1 + loads.index(sorted(loads)[len(loads) // 2])]
    print(f"fetch start-end (ms) of the median load's requests: {median_load}")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| gzipped JS of the first page | {js_kb:.1f} KB | <= {JS_TARGET_KB:.0f} KB |")
    print(
        f"| navigation to dashboard figures (median of {len(loads)}) | {median:.0f} ms"
        f" | <= {FIGURES_TARGET_MS:.0f} ms |"
    )


if __name__ == "__main__":
    main()
