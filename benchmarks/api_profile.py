"""Where a warm cached request's time goes: CPU microseconds per part, in process, against the real app and database.

The socket benchmark (benchmarks/api.py) measures what clients see; this one takes the server apart.
It runs the real app (``benchmarks.api:bench_app``, its lifespan, pool and cache listener on the
benchmark's database) and calls it as an ASGI app directly, so only the app's own CPU time is
counted (no uvicorn, no client), for:

- the bare route with no middleware, then with the app's whole stack, and with each middleware left
  out in turn (its cost per request);
- the bare route behind the bearer-token check;
- warm quick stats, dashboard and goal progress, and their 304 answers (``If-None-Match``).

Each figure is the median of alternated rounds (this machine's speed drifts). ``--cprofile`` also
prints the functions a warm quick-stats hit spends its time in.

    python -m benchmarks.api_profile [--users 300] [--days 30] [--rounds 5] [--count 3000] [--cprofile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg

from benchmarks.api import bench_app, prepare_database

Headers = list[tuple[bytes, bytes]]


def scope_of(path: str, headers: Headers) -> dict[str, Any]:
    """The ASGI scope of ``GET path`` (query string split off) with ``headers``."""
    route, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": route, "raw_path": route.encode(), "root_path": "", "query_string": query.encode(),
        "headers": [(b"host", b"bench"), *headers], "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip


class Caller:
    """Calls one app with prepared requests and checks their status."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, scope: dict[str, Any]) -> tuple[int, dict[bytes, bytes]]:
        status = 0
        headers: dict[bytes, bytes] = {}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", []))

        await self.app(dict(scope), receive, send)
        return status, headers

    async def cpu_us(self, scopes: list[dict[str, Any]], expect: int) -> float:
        """CPU microseconds per request over ``scopes``; RuntimeError on an unexpected status."""
        began = time.process_time()
        for scope in scopes:
            status, _ = await self.call(scope)
            if status != expect:
                raise RuntimeError(f"{scope['path']}: status {status}, expected {expect}")
        return (time.process_time() - began) / len(scopes) * 1e6


# Parts of a request, each a function whose time includes everything it calls: (label, file, function).
PARTS = (
    ("request limits middleware, and all inside it", "api/core/limits.py", "__call__"),
    ("request metrics middleware, and all inside it", "api/core/metrics.py", "__call__"),
    ("cache fast path (CachedHits), and all inside it", "api/core/cached_hits.py", "__call__"),
    ("Starlette/FastAPI routing, and all inside it", "starlette/routing.py", "app"),
    ("FastAPI dependency solving (parameters, dependencies)", "fastapi/dependencies/utils.py", "solve_dependencies"),
    ("bearer scheme (Authorization header parsed)", "fastapi/security/http.py", "__call__"),
    ("token check (get_current_user)", "api/deps.py", "get_current_user"),
    ("token verifier (remembered tokens)", "api/core/security.py", "user_id"),
    ("JWT verified (PyJWT decode)", "jwt/api_jwt.py", "decode"),
    ("route function quick_stats", "api/routes/analytics.py", "quick_stats"),
    ("user's local today (cache)", "api/core/cache.py", "today"),
    ("cache lookup", "api/core/cache.py", "get"),
    ("response built from the entry", "api/core/cached_reads.py", "respond_from"),
    ("response sent (Starlette Response)", "starlette/responses.py", "__call__"),
)


def print_parts(stats: pstats.Stats, hit_us: float) -> None:
    """Each part's share of the profiled time, as microseconds of the measured (unprofiled) warm hit."""
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _, ct, _) in entries.values())
    print(f"\nParts of a warm quick-stats hit ({hit_us:,.0f} us measured; shares of cProfile's time, inclusive):\n")
    print("| part | share | ~us |")
    print("|---|---:|---:|")
    for label, file, function in PARTS:
        inclusive = sum(v[3] for (path, _, name), v in entries.items() if name == function and path.endswith(file))
        if inclusive:
            print(f"| {label} | {inclusive / total:.0%} | {inclusive / total * hit_us:,.0f} |")


def middleware_names(app: Any) -> list[str]:
    return [m.cls.__name__ for m in app.user_middleware]


def app_without(names: set[str]) -> Any:
    """``bench_app`` with the named user middleware left out (all of them: ``{"*"}``)."""
    app = bench_app()
    app.user_middleware = [m for m in app.user_middleware if "*" not in names and m.cls.__name__ not in names]
    return app


async def measure(url: str, users: int, rounds: int, count: int, profile: bool) -> None:
    from api.core.security import mint_token
    from pulse.settings import get_settings

    settings = get_settings()
    os.environ["PULSE_BENCH_URL"] = url
    os.environ["PULSE_API_CACHE_ENABLED"] = "true"
    get_settings.cache_clear()
    main = bench_app()
    names = middleware_names(main)
    variants: dict[str, Any] = {"full stack": main, "no middleware": app_without({"*"})}
    for name in names:
        variants[f"without {name}"] = app_without({name})

    with psycopg.connect(url) as conn:
        user_ids = [row[0] for row in conn.execute("select user_id from app.users order by user_id")]
    rng = random.Random(7)  # noqa: S311 - picks sample users, not secrets
    tokens = [mint_token(u, settings, expires_in=3600) for u in rng.sample(user_ids, min(users, 200))]

    def authed(path: str, extra: Headers | None = None) -> list[dict[str, Any]]:
        return [
            scope_of(path, [(b"authorization", f"Bearer {rng.choice(tokens)}".encode()), *(extra or [])])
            for _ in range(count)
        ]

    bare = [scope_of("/bare", [])] * count
    bare_auth = authed("/bare-auth")
    reads = {
        "quick stats 30d": "/api/v1/analytics/quick-stats?date_range=30d",
        "dashboard monthly": "/api/v1/analytics/dashboard?period=monthly",
        "goal progress weekly": "/api/v1/goals/progress?period=weekly",
    }

    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(main.router.lifespan_context(main))  # the bare variants need no pool
        cache = main.state.response_cache
        for _ in range(200):
            if cache.active:
                break
            await asyncio.sleep(0.05)
        if not cache.active:
            raise RuntimeError("the cache's listener did not connect within 10 s")
        caller = Caller(main)
        read_scopes: dict[str, tuple[list[dict[str, Any]], int]] = {}
        for name, path in reads.items():
            scopes = authed(path)
            etags = {}
            for scope in scopes:  # warm: every (path, token) fetched once; ETags kept for the 304 rows
                key = dict(scope["headers"])[b"authorization"]
                if key not in etags:
                    status, headers = await caller.call(scope)
                    if status != 200:
                        raise RuntimeError(f"{path}: status {status} while warming")
                    etags[key] = headers[b"etag"]
            read_scopes[f"{name}, warm hit"] = (scopes, 200)
            conditional = [
                {**s, "headers": [*s["headers"], (b"if-none-match", etags[dict(s["headers"])[b"authorization"]])]}
                for s in scopes
            ]
            read_scopes[f"{name}, warm 304"] = (conditional, 304)

        rows: dict[str, tuple[Caller, list[dict[str, Any]], int]] = {
            f"bare route, {variant}": (Caller(app), bare, 200) for variant, app in variants.items()
        }
        rows["bare route + bearer token, full stack"] = (caller, bare_auth, 200)
        rows |= {name: (caller, scopes, expect) for name, (scopes, expect) in read_scopes.items()}
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for round_ in range(rounds):
            order = list(rows) if round_ % 2 == 0 else list(reversed(rows))
            for name in order:
                each, scopes, expect = rows[name]
                samples[name].append(await each.cpu_us(scopes, expect))
        print(f"\nCPU us per request, in process (median of {rounds} alternated rounds of {count:,} requests)\n")
        print("| request | us/request | vs bare route, full stack |")
        print("|---|---:|---:|")
        floor = statistics.median(samples["bare route, full stack"])
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"| {name} | {median:,.1f} | {median - floor:+,.1f} |")
        if profile:
            profiler = cProfile.Profile()
            scopes, _ = read_scopes["quick stats 30d, warm hit"]
            profiler.enable()
            await caller.cpu_us(scopes, 200)
            profiler.disable()
            stats = pstats.Stats(profiler)
            hit_us = statistics.median(samples["quick stats 30d, warm hit"])
            print_parts(stats, hit_us)
            print(f"\ncProfile of {len(scopes):,} warm quick-stats hits (top functions by own time):\n")
            stats.strip_dirs().sort_stats("tottime").print_stats(35)


def main(argv: list[str] | None = None, after: Callable[[], None] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=3000, help="requests per round and row (3000)")
    parser.add_argument("--cprofile", action="store_true", help="also profile warm quick-stats hits")
    args = parser.parse_args(argv)
    url, _, _ = prepare_database(args.users, args.days)
    asyncio.run(measure(url, args.users, args.rounds, args.count, args.cprofile))


if __name__ == "__main__":
    main()
