"""Prometheus metrics at ``/metrics``: requests, the connection pool and the last build of the marts.

- ``http_request_duration_seconds{handler,method,status}``: a latency histogram per route template
  (``/api/v1/goals/{goal_id}``, not the raw path; ``other`` for a path no API route serves: a 404, a
  docs asset), method and status. Its ``_count`` series is the request count per template and status
  (there is no separate ``http_requests_total``: it would count the same requests again). A small ASGI
  middleware reads the template of the route the router already matched (``scope["route"]``, whose full
  path ``fastapi.routing.iter_route_contexts`` gives once): prometheus-fastapi-instrumentator matches
  every route a second time and cost the bare FastAPI route of benchmarks/api.py 23 % of its throughput.
  The middleware tallies each request in plain Python (a bucket found by bisection, a sum; the template
  looked up once per route, method and status) and the registry reads the tallies at scrape time through
  a custom collector, ``RequestLatency``: prometheus_client's own Counter and Histogram (checks and a lock
  for each value they change) cost the cheapest routes about 10 % of their throughput; the middleware
  now costs 3-5 % of their instructions (docs/benchmarks.md, session 13).
- ``pulse_api_pool_*``: psycopg_pool's ``get_stats()`` read at scrape time (connections open, idle,
  requests waiting now).
- ``pulse_build_*``: read at scrape time from what the orchestration's builds write to the database:
  ``analytics.mart_build_log`` (one row per successful build of the daily marts, appended after the
  marts and their tests pass; dbt's on-run-end hook records when the invocation ended) gives the time
  of the last successful build, the dates it covered, its duration and the marts' rows in its range, and
  PostgreSQL's own statistics give each public mart's row count (an estimate kept by the server, not a
  ``count(*)`` of big tables). Reading at scrape time keeps one source of truth (the database every
  build writes) and works whoever launched the build (schedule, sensor, CLI, backfill).

Every metric goes to prometheus_client's default registry, so counters other modules define (e.g. the
cache's hits and misses) appear too. Each uvicorn worker process has its own registry (and tallies), as
with any prometheus_client metric outside its multiprocess mode.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from time import perf_counter
from typing import Any

import psycopg
from fastapi import FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
# Seconds; the API's reads take milliseconds, an export of a long range up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PUBLIC_MARTS = ("analytics_daily_metrics", "daily_category_metrics", "goal_progress_snapshots", "invalid_slots")

POOL_SIZE = Gauge("pulse_api_pool_size", "Connections the API's pool holds (in use or idle).")
POOL_AVAILABLE = Gauge("pulse_api_pool_available", "Idle connections in the API's pool.")
POOL_WAITING = Gauge("pulse_api_pool_requests_waiting", "Requests waiting for a pooled connection now.")
POOL_MAX = Gauge("pulse_api_pool_max_size", "Most connections the API's pool opens.")
BUILD_LAST_SUCCESS = Gauge(
    "pulse_build_last_success_timestamp_seconds",
    "Start time (Unix seconds) of the last successful build of the daily marts (analytics.mart_build_log).",
)
BUILD_LAST_RANGE_DAYS = Gauge("pulse_build_last_range_days", "Local dates the last successful build rebuilt.")
BUILDS_TOTAL = Gauge("pulse_builds_recorded", "Successful builds of the daily marts recorded in mart_build_log.")
BUILD_LAST_DURATION = Gauge(
    "pulse_build_last_duration_seconds",
    "Seconds the last successful build of the daily marts took, its dbt invocation's start to end (mart_build_log).",
)
BUILD_LAST_ROWS = Gauge(
    "pulse_build_last_rows",
    "Rows of each date-partitioned mart in the date range the last successful build rebuilt (mart_build_log).",
    ["mart"],
)
BUILD_LOG_MARTS = ("analytics_daily_metrics", "daily_category_metrics", "fct_task_dates")
MART_ROWS = Gauge("pulse_mart_rows", "Rows of a public mart (PostgreSQL's estimate, no count(*)).", ["mart"])

OTHER = "other"
REQUEST_LABELS = ("handler", "method", "status")
LATENCY_NAME = "http_request_duration_seconds"
LATENCY_HELP = (
    "Seconds from receiving an HTTP request to the end of its response, by route template, method and status."
)
# The "le" labels, as prometheus_client's Histogram writes these bounds (tests/api/test_request_latency.py compares)
BUCKET_NAMES = [*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"]


@dataclass(slots=True)
class Tally:
    """One series' requests: how many fell in each bucket (not cumulative; the last is +Inf), their seconds."""

    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKET_NAMES))
    seconds: float = 0.0
    created: float = field(default_factory=time.time)

    def add(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # the first bucket whose bound >= seconds
        self.seconds += seconds


class RequestLatency(Collector):
    """``http_request_duration_seconds``: requests tallied in plain Python, read by the registry at scrape time.

    A prometheus_client custom collector (``collect`` yields a ``HistogramMetricFamily``) with the names,
    labels, buckets and samples its Histogram would give (``_bucket``, ``_count``, ``_sum``, ``_created``).
    Tallies take no lock: the middleware adds to them on the event loop's thread, and the scrape
    (``/metrics``) runs there too.
    """

    def __init__(self) -> None:
        self.series: dict[tuple[str, str, int], Tally] = {}  # (template, method, status) -> its tally

    def tally(self, template: str, method: str, status: int) -> Tally:
        """The tally of one series, started empty the first time."""
        key = (template, method, status)
        found = self.series.get(key)
        if found is None:
            found = self.series[key] = Tally()
        return found

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(LATENCY_NAME, LATENCY_HELP, labels=REQUEST_LABELS)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(LATENCY_NAME, LATENCY_HELP, labels=REQUEST_LABELS)
        for (handler, method, status), tally in list(self.series.items()):
            labels = (handler, method, str(status))
            family.add_metric(labels, list(zip(BUCKET_NAMES, accumulate(tally.counts), strict=True)), tally.seconds)
            family.add_sample(f"{LATENCY_NAME}_created", dict(zip(REQUEST_LABELS, labels, strict=True)), tally.created)
        yield family


LATENCY = RequestLatency()
REGISTRY.register(LATENCY)

BUILD_QUERY = """
select extract(epoch from last.built_at)::float8, last.end_date - last.start_date, last.duration_seconds,
       last.daily_rows, last.category_rows, last.task_date_rows,
       (select count(*) from analytics.mart_build_log)
from (select * from analytics.mart_build_log order by built_at desc limit 1) as last
"""
ROWS_QUERY = """
select c.relname, greatest(c.reltuples, 0)::float8
from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
where n.nspname = 'analytics' and c.relname = any(%s)
"""


class RequestMetrics:
    """ASGI middleware: count and time each HTTP request under its route template, method and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.templates: dict[int, str] | None = None  # id of an API route -> its full path template
        # (id of the route that served the request, method, status) -> the tally of its series, found once;
        # /metrics' own requests go to a tally no collector reads
        self.tallies: dict[tuple[int, str, int], Tally] = {}

    def template(self, scope: Scope) -> str:
        """The full path template of the route that served the request (``other`` when none did)."""
        route = scope.get("route")
        if route is None:
            return OTHER
        if self.templates is None:
            routes = scope["app"].routes
            self.templates = {id(ctx.original_route): ctx.path_format or OTHER for ctx in iter_route_contexts(routes)}
        return self.templates.get(id(route), OTHER)

    def new_tally(self, scope: Scope, status: int) -> Tally:
        """The tally of the series of a request whose route, method and status were not seen before."""
        handler = self.template(scope)
        return Tally() if handler == METRICS_PATH else LATENCY.tally(handler, scope["method"], status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = perf_counter()
        status = 500  # what the client gets when the app raises before starting a response

        def send_and_note_status(message: Message) -> Awaitable[None]:
            # Not a coroutine itself: it hands back send's, so a message costs no extra coroutine.
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            # The series by the route object's id: the route's template is looked up once per series.
            key = (id(scope.get("route")), scope["method"], status)
            tally = self.tallies.get(key)
            if tally is None:
                tally = self.tallies[key] = self.new_tally(scope, status)
            tally.add(perf_counter() - began)


def install_metrics(app: FastAPI) -> None:
    """Count and time every request, and serve ``/metrics`` (no token: scrapers reach it on the inside)."""
    app.add_middleware(RequestMetrics)
    app.add_api_route(METRICS_PATH, metrics_endpoint, methods=["GET"], include_in_schema=False)


async def read_database_metrics(pool: AsyncConnectionPool[Any]) -> None:
    """Set the pool gauges, and the build gauges from the database (left as they were when it does not answer)."""
    stats = pool.get_stats()
    POOL_SIZE.set(stats.get("pool_size", 0))
    POOL_AVAILABLE.set(stats.get("pool_available", 0))
    POOL_WAITING.set(stats.get("requests_waiting", 0))
    POOL_MAX.set(pool.max_size)
    try:
        async with pool.connection(timeout=2.0) as conn:
            rows = await (await conn.execute(ROWS_QUERY, (list(PUBLIC_MARTS),))).fetchall()
            for mart, count in rows:
                MART_ROWS.labels(mart=mart).set(count)
            build = await (await conn.execute(BUILD_QUERY)).fetchone()
    except (psycopg.Error, TimeoutError, OSError):
        return  # no database or no build yet: the request metrics are still worth serving
    if build is None:
        BUILDS_TOTAL.set(0)
        return
    BUILD_LAST_SUCCESS.set(build[0])
    BUILD_LAST_RANGE_DAYS.set(build[1] or 0)
    if build[2] is not None:  # null for a build logged before the log recorded durations
        BUILD_LAST_DURATION.set(build[2])
    for mart, rows in zip(BUILD_LOG_MARTS, build[3:6], strict=True):
        BUILD_LAST_ROWS.labels(mart=mart).set(rows)
    BUILDS_TOTAL.set(build[6])


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus' text format of every registered metric."""
    pool = getattr(request.app.state, "pool", None)
    if pool is not None:
        await read_database_metrics(pool)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
