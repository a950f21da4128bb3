"""Benchmark of the API: latency percentiles and throughput of its main reads, the response cache and the metrics.

Prepares a database of its own (``pulse_bench_api_<users>u_<days>d``: ``pulse db init``,
``pulse seed`` of 10,000 users x 90 days, one ``dbt build`` as of now), reused
when it is already there. Starts the real app under uvicorn on loopback twice, with the
response cache off and on (each with one extra bare FastAPI route, ``/bare``, as the floor of
the stack), then drives each endpoint with 32 keep-alive connections, and again with 1, from a
small asyncio HTTP/1.1 client (bounded by a request count and a time limit) and prints one table
per client count: per endpoint a "cache off" row (every request runs its SQL) and a "warm cache"
row (every user's response was fetched once before the measured requests), with throughput and p95
as multiples of the bare route's measured right after that row (this machine's speed drifts within
minutes), a row of an authenticated route that reads nothing, and the ratio targets of the cache
(issue 22: warm quick stats and dashboard >= 0.5x the bare route's throughput with 32 clients and
a p95 within 2x of its p95; with 1 client a p95 within 1.5x). Then the cost of the request metrics
(issue 23: <= 5 % of throughput): the same rows on servers with and without the metrics middleware,
alternated round by round. One run does all of it and ends with a summary of every target.

    python -m benchmarks.api [--users 10000] [--days 90] [--requests 4000] [--workers 1]
    python -m benchmarks.api --metrics-cost [--rounds 5]       # only the metrics cost
    python -m benchmarks.api --skip-metrics-cost               # only the load tables
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

BENCH_DATABASE_PREFIX = "pulse_bench_api"
CONCURRENCY = 32
SLOW_SECONDS = 1.0  # an endpoint slower than this on one idle request is reported, not load-tested
READY_SECONDS = 300  # a starting server may wait for CPU on a busy machine
PROBES = 20  # idle requests (different users) tried before a load run
TARGETS_MS = {"quick stats (30 days)": 10.0, "dashboard (monthly)": 20.0, "export (90 days CSV)": 30.0}


def prepare_database(users: int, days: int) -> tuple[str, date, date]:
    """The benchmark database's URL and seeded date range, seeding and building it unless already done."""
    from pulse.database import database_url, with_database
    from pulse.dbt import build_warehouse
    from pulse.schema import init_database
    from pulse.seed import SeedPlan, default_start, seed_database

    bench_database = f"{BENCH_DATABASE_PREFIX}_{users}u_{days}d"  # one per size: a small run keeps the big one
    server = database_url()
    url = with_database(server, bench_database)
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (bench_database,)).fetchone()
    if exists:
        with psycopg.connect(url) as conn:
            try:
                row = conn.execute(
                    "select (select count(*) from app.users), (select min(date) from app.user_calendar_days),"
                    " (select max(date) from app.user_calendar_days), (select count(*) from analytics.mart_build_log)"
                ).fetchone()
            except psycopg.Error:
                row = None
        if row is not None and row[0] == users and row[3]:
            print(f"reusing {bench_database}: {row[0]:,} users, {row[1]} to {row[2]}, built", flush=True)
            return url, row[1], row[2]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(bench_database)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(bench_database)))
    init_database(url)
    plan = SeedPlan(users=users, days=days, start=default_start(days))
    print(f"seeding {users:,} users x {days} days into {bench_database}", flush=True)
    seed_database(url, plan, progress=lambda line: print(line, flush=True))
    print("building the warehouse (dbt build, as of now)", flush=True)
    seconds = build_warehouse(url, as_of=datetime.now(UTC), progress=None)
    print(f"built in {seconds:.0f} s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    return url, plan.start, plan.end


def bench_app() -> Any:
    """The app under test (its database from PULSE_BENCH_URL) plus the bare route ``/bare``."""
    from fastapi import Depends

    from api.deps import get_current_user
    from api.main import create_app
    from pulse.settings import get_settings

    app = create_app(get_settings(), os.environ["PULSE_BENCH_URL"])
    if os.environ.get("PULSE_BENCH_METRICS") == "off":
        # The same app without the request metrics (the only per-request cost of /metrics): the baseline.
        from api.core.metrics import RequestMetrics

        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestMetrics]

    @app.get("/bare", include_in_schema=False)
    async def bare() -> dict[str, bool]:
        """The floor: FastAPI and uvicorn with no database and no auth."""
        return {"ok": True}

    @app.get("/bare-auth", include_in_schema=False, dependencies=[Depends(get_current_user)])
    async def bare_auth() -> dict[str, bool]:
        """The floor of an authenticated route: the bearer token checked, no database."""
        return {"ok": True}

    # Ahead of the front end's catch-all ``/{path:path}`` (mount_web), which would otherwise answer them:
    # with a built web/dist, /bare served index.html from disk, a floor far above FastAPI's own.
    routes = app.router.routes
    routes[:0] = [routes.pop(), routes.pop()]
    return app


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(url: str, port: int, workers: int, cache: bool, metrics: bool = True) -> subprocess.Popen[bytes]:
    """uvicorn serving ``bench_app`` on loopback, with the response cache and the request metrics on or off;
    returns once it answers."""
    env = {
        **os.environ,
        "PULSE_BENCH_URL": url,
        "PULSE_API_CACHE_ENABLED": "true" if cache else "false",
        "PULSE_BENCH_METRICS": "on" if metrics else "off",
    }
    command = [sys.executable, "-m", "uvicorn", "benchmarks.api:bench_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    command += ["--timeout-keep-alive", "120"]  # the clients keep their connections between rows
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"the API did not become ready within {READY_SECONDS} s")


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads whole responses (length or chunked)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def get(self, path: str, token: str | None, etag: str | None = None) -> tuple[int, int, str]:
        """Status, body length and ETag of ``GET path`` (with ``If-None-Match: etag`` when given)."""
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        if etag:
            auth += f"If-None-Match: {etag}\r\n"
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        etag = headers.get("etag", "")
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
            return status, len(body), etag
        size = 0
        if headers.get("transfer-encoding") == "chunked":
            while True:
                chunk_size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(chunk_size + 2)
                size += chunk_size
                if chunk_size == 0:
                    return status, size, etag
        return status, size, etag

    def close(self) -> None:
        self.writer.close()


Request = tuple[str, str | None, str | None]  # path, token, If-None-Match


@dataclass
class Scenario:
    """One row: an endpoint on the server with the cache on or off, warmed first or not."""

    name: str
    server: str  # "cache" (response cache on) or "off"
    requests: list[Request]
    warm: bool = False  # fetch every (path, token) once before measuring
    expect: int = 200


@dataclass
class Result:
    """Latencies (seconds) and outcome of one scenario."""

    name: str
    latencies: list[float]
    seconds: float
    errors: int
    server_cpu: float = 0.0  # CPU seconds the server processes spent on the measured requests

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def row(self, bare: Result | None, concurrency: int) -> tuple[str, str | None]:
        """The table row, and the verdict on the cache's ratio target when this row has one."""
        target = next((ms for prefix, ms in TARGETS_MS.items() if self.name.startswith(prefix)), None)
        verdict = "" if target is None else ("meets" if self.percentile(95) <= target else "misses") + f" {target:g}"
        p50, p95, p99 = (self.percentile(p) for p in (50, 95, 99))
        mean = statistics.fmean(self.latencies) * 1000
        rps_ratio = p95_ratio = None
        if bare is not None and bare.rps and bare.percentile(95):
            rps_ratio, p95_ratio = self.rps / bare.rps, p95 / bare.percentile(95)
        vs_bare = (
            f" {rps_ratio:>5.2f}x | {p95_ratio:>5.2f}x |"
            if rps_ratio is not None and p95_ratio is not None
            else "        |        |"
        )
        ratio = ratio_verdict(self.name, concurrency, rps_ratio, p95_ratio)
        cpu = self.server_cpu / len(self.latencies) * 1e6 if self.latencies else 0.0
        line = (
            f"| {self.name:<38} | {len(self.latencies):>8,} | {p50:>7.2f} | {p95:>7.2f} | {p99:>7.2f} | {mean:>7.2f} |"
            f" {self.rps:>8,.0f} | {self.errors:>6} |{vs_bare} {cpu:>6,.0f} | {verdict:<12} | {ratio or '':<31} |"
        )
        return line, ratio


# The cache's targets (issue 22), as multiples of the bare route's figures measured right after the row:
# (least throughput, most p95) with 32 clients, (None, most p95) with one client.
RATIO_TARGETS = {CONCURRENCY: (0.5, 2.0), 1: (None, 1.5)}
RATIO_TARGET_ROWS = ("quick stats (30 days), warm cache", "dashboard (monthly), warm cache")
METRICS_MAX_COST = 0.05  # issue 23: the request metrics cost at most 5 % of throughput


def ratio_verdict(name: str, concurrency: int, rps_ratio: float | None, p95_ratio: float | None) -> str | None:
    """'meets'/'misses' and the targets, for a row the cache's ratio targets apply to (None for the others)."""
    if name not in RATIO_TARGET_ROWS or concurrency not in RATIO_TARGETS or rps_ratio is None or p95_ratio is None:
        return None
    least_rps, most_p95 = RATIO_TARGETS[concurrency]
    met = (least_rps is None or rps_ratio >= least_rps) and p95_ratio <= most_p95
    wanted = ([f"req/s >= {least_rps:g}x"] if least_rps is not None else []) + [f"p95 <= {most_p95:g}x"]
    return f"{'meets' if met else 'MISSES'} {', '.join(wanted)}"


async def probe(port: int, requests: list[Request]) -> float:
    """The slowest of a few requests (different users) on an idle connection, stopping at the first slow one."""
    connection = await HttpConnection.open(port)
    slowest = 0.0
    for request in requests[:PROBES]:
        began = time.perf_counter()
        await connection.get(*request)
        slowest = max(slowest, time.perf_counter() - began)
        if slowest > SLOW_SECONDS:
            break
    connection.close()
    return slowest


async def warm_up(port: int, requests: list[Request], concurrency: int) -> None:
    """GET every distinct (path, token) of ``requests`` once, so the server's cache holds them all."""
    distinct = iter(sorted({(path, token) for path, token, _ in requests}, key=str))
    connections = [await HttpConnection.open(port) for _ in range(concurrency)]

    async def client(connection: HttpConnection) -> None:
        for path, token in distinct:
            await connection.get(path, token)

    await asyncio.gather(*(client(connection) for connection in connections))
    for connection in connections:
        connection.close()


async def with_etags(port: int, requests: list[Request]) -> list[Request]:
    """``requests`` carrying, as If-None-Match, the ETag a first GET of each (path, token) returned."""
    connection = await HttpConnection.open(port)
    etags: dict[tuple[str, str | None], str] = {}
    for path, token, _ in requests:
        if (path, token) not in etags:
            etags[path, token] = (await connection.get(path, token))[2]
    connection.close()
    return [(path, token, etags[path, token]) for path, token, _ in requests]


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server process ``pid`` and its worker processes so far."""
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        times = each.cpu_times()
        total += times.user + times.system
    return total


async def run_scenario(
    scenario: Scenario,
    port: int,
    server: int,
    requests: list[Request],
    max_seconds: float,
    warmup: int,
    concurrency: int,
) -> Result:
    """Send ``requests`` over ``concurrency`` connections after ``warmup`` unmeasured ones; stop at ``max_seconds``."""
    if scenario.warm:
        await warm_up(port, requests, CONCURRENCY)
    connections = [await HttpConnection.open(port) for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0
    for index, request in enumerate(requests[:warmup]):
        await connections[index % concurrency].get(*request)
    queue = iter(requests[warmup:])
    cpu_before = server_cpu_seconds(server)
    began = time.perf_counter()
    deadline = began + max_seconds

    async def client(connection: HttpConnection) -> None:
        nonlocal errors
        for request in queue:
            if time.perf_counter() > deadline:
                return
            sent = time.perf_counter()
            status, _, _ = await connection.get(*request)
            latencies.append(time.perf_counter() - sent)
            if status != scenario.expect:
                errors += 1

    await asyncio.gather(*(client(connection) for connection in connections))
    seconds = time.perf_counter() - began
    cpu = server_cpu_seconds(server) - cpu_before
    for connection in connections:
        connection.close()
    return Result(scenario.name, latencies, seconds, errors, cpu)


def scenarios(url: str, first: date, last: date, users: int) -> list[Scenario]:
    """Every row: the bare route, then each endpoint with the cache off and warm (tokens of random seeded users)."""
    from api.core.security import mint_token
    from pulse.settings import get_settings

    settings = get_settings()
    with psycopg.connect(url) as conn:
        user_ids = [row[0] for row in conn.execute("select user_id from app.users order by user_id")]
    rng = random.Random(7)  # noqa: S311 - picks sample users, not secrets
    tokens = [mint_token(user_id, settings, expires_in=3600) for user_id in rng.sample(user_ids, min(users, 2000))]
    export_end = min(last, first + timedelta(days=89))
    export = f"/api/v1/analytics/export?format=csv&start_date={first}&end_date={export_end}"
    paths = {
        "quick stats (30 days)": "/api/v1/analytics/quick-stats?date_range=30d",
        "dashboard (monthly)": "/api/v1/analytics/dashboard?period=monthly",
        "goal progress (weekly)": "/api/v1/goals/progress?period=weekly",
        "export (90 days CSV)": export,
        "export 304 (If-None-Match)": export,
    }

    def requests(path: str) -> list[Request]:
        return [(path, rng.choice(tokens), None) for _ in range(100_000)]

    rows = [
        Scenario("bare FastAPI", "cache", [("/bare", None, None)] * 100_000),
        Scenario("bare route + bearer token", "cache", requests("/bare-auth")),
    ]
    for name, path in paths.items():
        expect = 304 if "304" in name else 200
        shared = requests(path)  # both rows send the same requests
        rows.append(Scenario(f"{name}, cache off", "off", shared, expect=expect))
        rows.append(Scenario(f"{name}, warm cache", "cache", shared, warm=True, expect=expect))
    return rows


# Rows of the metrics cost: the floor and the cache's two reads, warm (the fastest, where a fixed cost per
# request weighs most) and cold (every request runs its SQL).
METRICS_COST_ROWS = (
    "bare FastAPI",
    "quick stats (30 days), warm cache",
    "dashboard (monthly), warm cache",
    "quick stats (30 days), cache off",
    "dashboard (monthly), cache off",
)


def metrics_cost(url: str, first: date, last: date, args: argparse.Namespace) -> list[str]:
    """Throughput of each row with and without the request metrics, alternating servers round by round.

    Servers with the metrics middleware and without it run side by side (for the cache on and off);
    each round drives a row on one then the other (the order alternating), and the table gives the
    median req/s of each and the median of the rounds' ratios (this machine's speed drifts within
    minutes). Returns the summary lines.
    """
    kinds = ("cache", "off")
    ports = {(kind, on): free_port() for kind in kinds for on in (True, False)}
    servers: dict[tuple[str, bool], subprocess.Popen[bytes]] = {}
    summary = []
    try:
        for kind, on in ports:
            servers[kind, on] = start_server(url, ports[kind, on], args.workers, cache=kind == "cache", metrics=on)
        runs = [s for s in scenarios(url, first, last, args.users) if s.name in METRICS_COST_ROWS]
        count, seconds = min(args.requests, args.cost_requests), min(args.seconds, args.cost_seconds)
        print(
            f"\nCost of the request metrics: {args.users:,} users x {args.days} days, {CONCURRENCY} concurrent"
            f" keep-alive clients, up to {count:,} requests or {seconds:g} s per run, {args.rounds} alternated"
            f" rounds; target: at most {METRICS_MAX_COST:.0%} of throughput\n"
        )
        print(
            "| row | req/s with metrics | req/s without | with/without (median of rounds) | cost | target |"
            " server CPU us/req with | without | CPU cost |"
        )
        print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
        for scenario in runs:
            if args.only and scenario.name != "bare FastAPI" and not any(w in scenario.name for w in args.only):
                continue
            rates: dict[bool, list[float]] = {True: [], False: []}
            cpus: dict[bool, list[float]] = {True: [], False: []}
            ratios, cpu_ratios = [], []
            measured = scenario.requests[: 200 + count]
            for round_ in range(args.rounds):
                order = (True, False) if round_ % 2 == 0 else (False, True)
                rate, cpu = {}, {}
                for on in order:
                    key = (scenario.server, on)
                    result = asyncio.run(
                        run_scenario(scenario, ports[key], servers[key].pid, measured, seconds, 200, CONCURRENCY)
                    )
                    rate[on] = result.rps
                    rates[on].append(rate[on])
                    cpu[on] = result.server_cpu / max(len(result.latencies), 1) * 1e6
                    cpus[on].append(cpu[on])
                ratios.append(rate[True] / rate[False])
                cpu_ratios.append(cpu[True] / cpu[False] if cpu[False] else 1.0)
            with_rate, without_rate = statistics.median(rates[True]), statistics.median(rates[False])
            ratio, cpu_cost = statistics.median(ratios), statistics.median(cpu_ratios) - 1
            verdict = f"{'meets' if 1 - ratio <= METRICS_MAX_COST else 'MISSES'} <= {METRICS_MAX_COST:.0%}"
            print(
                f"| {scenario.name:<34} | {with_rate:>18,.0f} | {without_rate:>13,.0f} | {ratio:>31.3f} |"
                f" {1 - ratio:>6.1%} | {verdict} | {statistics.median(cpus[True]):,.0f} |"
                f" {statistics.median(cpus[False]):,.0f} | {cpu_cost:+.1%} |",
                flush=True,
            )
            summary.append(
                f"metrics cost, {scenario.name}: {1 - ratio:.1%} of throughput ({verdict}),"
                f" {cpu_cost:+.1%} server CPU per request"
            )
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    return summary


async def _cpu_per_request(app: Any, path: str, count: int) -> float:
    """CPU seconds this process spends per ``GET path`` called on the ASGI app directly (no socket, no client)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [(b"host", b"b")],
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    began = time.process_time()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.process_time() - began) / count


def metrics_cpu_cost(rounds: int, count: int = 5000) -> tuple[float, float]:
    """Median CPU microseconds per request of the bare route, with and without the request metrics.

    CPU time of this process alone: on a loaded machine the throughput of a socket benchmark drifts by more
    than the few microseconds measured here.
    """
    os.environ.setdefault("PULSE_BENCH_URL", "postgresql://unused@127.0.0.1:1/unused")  # the bare route needs none
    apps = {}
    for on in (True, False):
        os.environ["PULSE_BENCH_METRICS"] = "on" if on else "off"
        apps[on] = bench_app()
    samples: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(rounds):
        for on in (True, False) if round_ % 2 == 0 else (False, True):
            samples[on].append(asyncio.run(_cpu_per_request(apps[on], "/bare", count)) * 1e6)
    return statistics.median(samples[True]), statistics.median(samples[False])


def load_tables(url: str, first: date, last: date, args: argparse.Namespace) -> list[str]:
    """Serve the API with the cache off and on, drive every row with 32 clients then 1, print the tables.

    Returns the summary lines of the cache's ratio targets.
    """
    ports = {"cache": free_port(), "off": free_port()}
    servers = [start_server(url, ports["cache"], args.workers, cache=True)]
    summary = []
    try:
        servers.append(start_server(url, ports["off"], args.workers, cache=False))
        runs = scenarios(url, first, last, args.users)
        for concurrency, count in ((CONCURRENCY, args.requests), (1, min(args.requests, args.single_requests))):
            print(
                f"\n{args.users:,} users x {args.days} days, uvicorn with {args.workers} worker(s) on loopback,"
                f" {concurrency} concurrent keep-alive client(s), up to {count:,} requests or"
                f" {args.seconds:g} s per row; {os.cpu_count()} CPU cores shared with the database and the client;"
                " 'vs bare': throughput and p95 as multiples of the bare route's, measured right after each row;"
                " server CPU: the API process's CPU time per request, steadier than wall times here\n"
            )
            print(
                "| endpoint                           | requests |  p50 ms |  p95 ms |  p99 ms | mean ms |"
                "    req/s | errors | req/s vs bare | p95 vs bare | server CPU us/req | p95 target   |"
                " cache target (issue 22)         |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
            bare_scenario = runs[0]
            for scenario in runs:
                if args.only and scenario.name != "bare FastAPI" and not any(w in scenario.name for w in args.only):
                    continue
                port = ports[scenario.server]
                warmup = 200 if concurrency > 1 else 20
                measured = scenario.requests[: warmup + count]
                if scenario.expect == 304:
                    measured = asyncio.run(with_etags(port, measured))
                single = asyncio.run(probe(port, measured))
                if single > SLOW_SECONDS:
                    print(f"| {scenario.name:<34} | (a single request took {single:.1f} s: not load-tested) |")
                    continue
                pid = servers[0 if scenario.server == "cache" else 1].pid
                result = asyncio.run(run_scenario(scenario, port, pid, measured, args.seconds, warmup, concurrency))
                if scenario is bare_scenario:
                    print(result.row(None, concurrency)[0], flush=True)
                    continue
                # The machine's speed drifts within minutes: compare with the bare route measured just after.
                bare_requests = bare_scenario.requests[: warmup + count]
                bare = asyncio.run(
                    run_scenario(
                        bare_scenario, ports["cache"], servers[0].pid, bare_requests, args.seconds, warmup, concurrency
                    )
                )
                line, verdict = result.row(bare, concurrency)
                print(line, flush=True)
                if verdict is not None:
                    p95_ratio = result.percentile(95) / bare.percentile(95)
                    summary.append(
                        f"{scenario.name}, {concurrency} client(s): {result.rps / bare.rps:.2f}x the bare route's"
                        f" req/s, p95 {p95_ratio:.2f}x its p95: {verdict}"
                    )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    return summary


def main() -> None:
    """Prepare the data, then the load tables and the metrics cost (or one of them), and a summary of the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=4000, help="measured requests per row, 32 clients (4000)")
    parser.add_argument("--single-requests", type=int, default=500, help="measured requests per row, 1 client (500)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per row (20)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    parser.add_argument("--only", nargs="*", metavar="WORD", help="run only the rows whose name contains a WORD")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--metrics-cost", action="store_true", help="only the cost of the request metrics")
    only.add_argument("--skip-metrics-cost", action="store_true", help="only the load tables")
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds of the metrics cost (5)")
    parser.add_argument("--cost-requests", type=int, default=2000, help="requests per metrics-cost run (2000)")
    parser.add_argument("--cost-seconds", type=float, default=5.0, help="time limit per metrics-cost run (5)")
    args = parser.parse_args()

    began = time.monotonic()
    url, first, last = prepare_database(args.users, args.days)
    prepared = time.monotonic()
    summary = []
    if not args.metrics_cost:
        summary += load_tables(url, first, last, args)
    if not args.skip_metrics_cost:
        with_us, without_us = metrics_cpu_cost(max(args.rounds, 5))
        print(
            f"\nbare route, CPU per request in process: {with_us:.1f} us with the request metrics,"
            f" {without_us:.1f} us without ({with_us / without_us:.3f}x)",
            flush=True,
        )
        summary += metrics_cost(url, first, last, args)
    finished = time.monotonic()
    print(f"\nSummary ({args.users:,} users x {args.days} days; load average {os.getloadavg()[0]:.1f} at the end):")
    for line in summary:
        print(f"- {line}")
    print(
        f"- took {finished - began:.0f} s: {prepared - began:.0f} s preparing the database,"
        f" {finished - prepared:.0f} s measuring",
        flush=True,
    )


if __name__ == "__main__":
    main()
