"""Cost of the request metrics in instructions per request, counted by valgrind: independent of the machine's load.

The throughput benchmark (``python -m benchmarks.api --metrics-cost``) cannot resolve a 5 % cost on a
shared, busy machine. This one calls the app of benchmarks/api.py (``bench_app``) directly, in process
(no socket, no uvicorn), with the request metrics on and off, under ``valgrind --tool=callgrind``, and
counts only the measured loop (it runs inside a ctypes callback: ``--toggle-collect=ffi_call``). Rows:
the bare route, and a warm cache hit of quick stats (answered by the cache's fast path). Uses the
database of benchmarks/api.py (prepared by it when missing). Needs valgrind (Debian: ``apt-get install
valgrind``); each count takes a minute or two.

    python -m benchmarks.metrics_instructions [--requests 1000] [--users 10000] [--days 90]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import psycopg

ROWS = {
    "bare FastAPI": ("/bare", b""),
    "quick stats (30 days), warm cache": ("/api/v1/analytics/quick-stats", b"date_range=30d"),
}
WARMUP = 200


def count_requests(url: str, path: str, query: bytes, metrics: bool, count: int) -> None:
    """Answer ``count`` requests in process, the measured ones inside a ctypes callback (callgrind's toggle)."""
    os.environ.update(
        PULSE_BENCH_URL=url, PULSE_API_CACHE_ENABLED="true", PULSE_BENCH_METRICS="on" if metrics else "off"
    )
    from fastapi.testclient import TestClient

    from api.core.security import mint_token
    from benchmarks.api import bench_app
    from pulse.settings import get_settings

    with psycopg.connect(url) as conn:
        row = conn.execute("select user_id from app.users order by user_id limit 1").fetchone()
    assert row is not None, "the benchmark database has no users"
    authorization = f"Bearer {mint_token(row[0], get_settings(), expires_in=3600)}"
    app = bench_app()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
        "headers": [(b"host", b"bench"), (b"authorization", authorization.encode())],
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def answer(requests: int) -> None:
        for _ in range(requests):
            await app(dict(scope), receive, send)

    with TestClient(app) as client:  # runs the lifespan: the pool and the cache's listener
        cache = app.state.response_cache
        target = f"{path}?{query.decode()}" if query else path
        for _ in range(100):  # until the cache's listener is up and a repeat is a hit
            hits = cache.hits
            assert client.get(target, headers={"Authorization": authorization}).status_code == 200
            if path == "/bare" or cache.hits > hits:
                break
            time.sleep(0.2)
        hits = cache.hits
        asyncio.run(answer(WARMUP))
        ctypes.CFUNCTYPE(None)(lambda: asyncio.run(answer(count)))()
        assert statuses == [200] * (WARMUP + count), sorted(set(statuses))
        if path != "/bare":
            assert cache.hits == hits + WARMUP + count, "a request missed the cache's fast path"


def instructions(url: str, row: str, metrics: bool, count: int) -> float:
    """Instructions per request of ``row`` (callgrind's Ir over the measured loop / ``count``)."""
    command = ["valgrind", "--tool=callgrind", "--toggle-collect=ffi_call", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-m", "benchmarks.metrics_instructions", "--child", row, "on" if metrics else "off"]
    command += [str(count), url]
    done = subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"the count of {row!r} failed (exit {done.returncode}): {tail[0]}")
    return int(found.group(1)) / count


def main() -> None:
    """Count each row with the metrics on and off, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per count (1000)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--child", nargs=4, metavar=("ROW", "METRICS", "COUNT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row, metrics, count, url = args.child
        count_requests(url, *ROWS[row], metrics == "on", int(count))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    from benchmarks.api import prepare_database

    url = prepare_database(args.users, args.days)[0]
    print(f"\nInstructions per request in process (callgrind), {args.requests:,} requests after {WARMUP} of warm-up\n")
    print("| row | with the request metrics | without | cost |")
    print("|---|---:|---:|---:|")
    for row in ROWS:
        counted = {}
        for metrics in (True, False):
            print(f"counting {row}, metrics {'on' if metrics else 'off'}", file=sys.stderr, flush=True)
            counted[metrics] = instructions(url, row, metrics, args.requests)
        cost = counted[True] / counted[False] - 1
        print(f"| {row} | {counted[True]:,.0f} | {counted[False]:,.0f} | {cost:+.1%} |", flush=True)


if __name__ == "__main__":
    main()
