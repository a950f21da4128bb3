"""Benchmark of the warehouse build: full build, ranged builds against history, and the engine's floor.

Seeds databases of its own (``pulse_bench_wh_<users>u_<days>d``, dropped afterwards unless
``--keep``) with ``pulse seed`` (10,000 users by default) and prints one table:

- the full build of ``--days`` days of history (``dbt build --full-refresh``, all history), each run
  after a ``VACUUM ANALYZE`` (as are the floor's), so no run shares the machine with autovacuum of the
  tables the previous one wrote;
- a 2-day ranged build after it (the last two seeded local dates, incremental), once
  ``VACUUM ANALYZE`` has run over the freshly built tables (as autovacuum would), so the
  ranged builds are not timed against it;
- the same 2-day build on databases seeded with each ``--histories`` length, with
  ``--history-users`` users (default ``--users``): it should not grow with history, as
  every step of a ranged build reads what changed through an index (docs/architecture.md);
- the floor: one hand-written SQL statement (``benchmarks/sql/daily_metrics_floor.sql``)
  computing the same daily metrics from the app tables, whose rows are checked equal
  to ``analytics.analytics_daily_metrics``.

Figures are medians of ``--runs`` runs (the full build and the floor: of ``--full-runs``). The full
builds and the floor runs alternate (build, floor, build, floor, ...), and the ratio is the median of
each pair's ratio: this machine drifts by a fifth within minutes, so a block of builds followed by a
block of floor runs can show a ratio that no pair shows. "CPU s" is the busy CPU time of the whole
machine during a run (``/proc/stat``; all cores added up), which tells work from waiting.

    python -m benchmarks.warehouse [--users 10000] [--days 90] [--histories 30,365] [--history-users N] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

FLOOR_SQL = Path(__file__).parent / "sql" / "daily_metrics_floor.sql"
MART_COLUMNS = (
    "user_id, date, total_scheduled_minutes, focus_minutes, focus_available_minutes, completed_tasks_count,"
    " tasks_due_count, tasks_due_completed_count, category_minutes"
)


@dataclass
class Row:
    """One line of the result table."""

    label: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        """Median of the runs."""
        return statistics.median(self.seconds)

    @property
    def cpu(self) -> str:
        """Median busy CPU-seconds of the runs, or '-' where /proc/stat was not there to read."""
        return f"{statistics.median(self.cpu_seconds):.0f}" if self.cpu_seconds else "-"


def say(line: str) -> None:
    """A progress line, at once."""
    print(line, flush=True)


def busy_cpu_seconds() -> float | None:
    """CPU-seconds the machine's cores have spent busy since boot (``/proc/stat``); None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def timed_once(action: Callable[[], object], before: Callable[[], object] | None, row: Row) -> float:
    """Seconds of one run of ``action`` (``before`` untimed ahead of it), added to ``row`` with its CPU time."""
    if before is not None:
        before()
    cpu_before = busy_cpu_seconds()
    began = time.perf_counter()
    action()
    seconds = time.perf_counter() - began
    cpu_after = busy_cpu_seconds()
    row.seconds.append(seconds)
    if cpu_before is not None and cpu_after is not None:
        row.cpu_seconds.append(cpu_after - cpu_before)
    return seconds


def seeded_database(server: str, users: int, days: int, end: date) -> str:
    """A new database ``pulse_bench_wh_<users>u_<days>d`` with ``users`` users x ``days`` days ending at ``end``."""
    from pulse.database import with_database
    from pulse.schema import init_database
    from pulse.seed import SeedPlan, seed_database

    name = f"pulse_bench_wh_{users}u_{days}d"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    init_database(url)
    plan = SeedPlan(users=users, days=days, start=end - timedelta(days=days - 1), seed=42)
    say(f"seeding {name}: {users:,} users x {days} days ({plan.start} to {plan.end})")
    report = seed_database(url, plan, replace=True, workers=2)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    rows = ", ".join(f"{table} {count:,}" for table, count in report.rows.items())
    say(f"seeded {name} in {report.total_seconds:.0f} s: {rows}")
    return url


def drop(server: str, url: str) -> None:
    """Drop the database of ``url``."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def build(url: str, start: date | None = None, end: date | None = None, full_refresh: bool = False) -> None:
    """One warehouse build (quiet)."""
    from pulse.dbt import build_warehouse

    build_warehouse(url, start, end, full_refresh=full_refresh, progress=None)


def floor_query(url: str) -> None:
    """The hand-written statement, materialized (as the marts are), then dropped."""
    with psycopg.connect(url) as conn:
        conn.execute("drop table if exists daily_metrics_floor")
        conn.execute(sql.SQL("create temp table daily_metrics_floor as {}").format(sql.SQL(FLOOR_SQL.read_text())))


def floor_matches_mart(url: str) -> str:
    """'rows equal' when the floor statement's rows are the mart's, else how many differ."""
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("create temp table daily_metrics_floor as {}").format(sql.SQL(FLOOR_SQL.read_text())))
        only_floor = conn.execute(
            f"select count(*) from (select * from daily_metrics_floor"
            f" except select {MART_COLUMNS} from analytics.analytics_daily_metrics) as d"
        ).fetchone()
        only_mart = conn.execute(
            f"select count(*) from (select {MART_COLUMNS} from analytics.analytics_daily_metrics"
            f" except select * from daily_metrics_floor) as d"
        ).fetchone()
        total = conn.execute("select count(*) from daily_metrics_floor").fetchone()
    differing = (only_floor[0] if only_floor else 0) + (only_mart[0] if only_mart else 0)
    count = total[0] if total else 0
    return f"{count:,} rows, equal to the mart" if differing == 0 else f"{differing:,} rows differ from the mart!"


def settle(url: str) -> None:
    """VACUUM ANALYZE after a full build, as autovacuum would, so the ranged builds are not timed against it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")


def ranged_builds(url: str, last_day: date, runs: int, row: Row) -> None:
    """``runs`` builds of the last two local dates, timed into ``row``."""
    start = last_day - timedelta(days=1)
    for _ in range(runs):
        timed_once(lambda: build(url, start, last_day + timedelta(days=1)), None, row)


def print_table(title: str, rows: list[Row]) -> None:
    """The result table: one line per row, its median, CPU, runs and note."""
    width = max(len(row.label) for row in rows)
    runs = [", ".join(f"{s:.1f}" for s in row.seconds) for row in rows]
    runs_width = max(24, *(len(text) for text in runs))
    print()
    print(title)
    print(f"{'measure':<{width}}  {'median s':>9}  {'CPU s':>6}  {'runs s':<{runs_width}}  note")
    for row, text in zip(rows, runs, strict=True):
        print(f"{row.label:<{width}}  {row.median:>9.1f}  {row.cpu:>6}  {text:<{runs_width}}  {row.note}")


def main() -> None:
    """Seed, build, time and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90, help="history of the main database (90)")
    parser.add_argument("--histories", default="30,365", help="other history lengths for the 2-day build")
    parser.add_argument("--history-users", type=int, help="users of the history databases (default --users)")
    parser.add_argument("--runs", type=int, default=3, help="runs per ranged build (median)")
    parser.add_argument(
        "--full-runs", type=int, default=3, help="alternated pairs of a full build and a floor run (median)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()

    from pulse.database import database_url

    server = database_url()
    last_day = date.today()
    histories = [int(days) for days in args.histories.split(",") if days.strip()]
    rows: list[Row] = []

    url = seeded_database(server, args.users, args.days, last_day)
    try:
        full = Row(f"full build, {args.days} days (dbt build --full-refresh)")
        floor = Row(f"floor: one SQL statement, {args.days} days")
        ratios = []
        # build and floor alternate; each run starts settled, not against autovacuum of the previous one's tables
        for pair in range(1, args.full_runs + 1):
            say(f"pair {pair} of {args.full_runs}: full build (parses every slot) ...")
            built = timed_once(lambda: build(url, full_refresh=True), lambda: settle(url), full)
            if pair == 1:
                floor.note = floor_matches_mart(url)  # untimed: it also compares the rows with the mart's
            floored = timed_once(lambda: floor_query(url), lambda: settle(url), floor)
            ratios.append(built / floored)
            say(f"pair {pair}: full build {built:.1f} s, floor {floored:.1f} s ({floor.note}): {ratios[-1]:.2f} x")
        settle(url)
        pairs = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        full.note = f"{statistics.median(ratios):.2f} x floor, median of pairs {pairs} (target <= 2.5)"
        ranged = Row(f"2-day build, {args.days} days of history ({args.users:,} users)")
        ranged_builds(url, last_day, args.runs, ranged)
        say(f"2-day build: {ranged.median:.1f} s")
        rows += [full, floor, ranged]
    finally:
        if not args.keep:
            drop(server, url)

    history_users = args.history_users or args.users
    for days in histories:
        history_url = seeded_database(server, history_users, days, last_day)
        try:
            say(f"full build of {days} days (to fill the incremental tables) ...")
            began = time.perf_counter()
            build(history_url, full_refresh=True)
            say(f"full build of {days} days: {time.perf_counter() - began:.1f} s")
            settle(history_url)
            row = Row(f"2-day build, {days} days of history ({history_users:,} users)")
            ranged_builds(history_url, last_day, args.runs, row)
            say(f"2-day build with {days} days of history: {row.median:.1f} s")
            rows.append(row)
        finally:
            if not args.keep:
                drop(server, history_url)

    history_rows = rows[3:]
    if len(history_rows) >= 2:  # flat in history: the longest history's 2-day build against the shortest's
        by_history = list(zip(histories, history_rows, strict=True))
        shortest, longest = min(by_history, key=lambda pair: pair[0]), max(by_history, key=lambda pair: pair[0])
        ratio = longest[1].median / shortest[1].median
        longest[1].note = f"{ratio:.2f} x the {shortest[0]}-day history's (target <= 1.25)"

    print_table(
        f"warehouse benchmark: medians of {args.runs} runs (full build and floor: {args.full_runs}, alternated)", rows
    )


if __name__ == "__main__":
    main()
