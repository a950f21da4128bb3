"""Benchmark of the 2-day build against an older checkout's code, side by side on the same data.

Seeds one database (``pulse_bench_base_<users>u_<days>d``) and copies it (``CREATE DATABASE ... TEMPLATE``,
a file-level copy: same rows, same physical order) into a second one, on which the older checkout's
``pulse db init`` runs; the two checkouts cannot share one database, since both write the same mart
names. Each database gets a full build by its own code and a ``VACUUM ANALYZE``; then the 2-day builds
(the last two seeded local dates, as ``benchmarks.warehouse`` times them) alternate, this checkout's
then the older one's, ``--runs`` pairs. Both builds run the same way: a Python subprocess with the
checkout first on ``sys.path`` calling its ``pulse.dbt.build_warehouse`` (so each pays one interpreter
start), with this environment's dbt.

    python -m benchmarks.warehouse_baseline --baseline /path/to/old/checkout [--users 10000] [--days 90] [--runs 5]

Make the older checkout with ``git worktree add --detach ../old <commit>``; it needs no environment of
its own when its dependencies are a subset of this one's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.warehouse import Row, drop, print_table, say, seeded_database, settle, timed_once

REPO = Path(__file__).resolve().parent.parent
BUILD_SNIPPET = """
import sys
from datetime import date
from pulse.dbt import build_warehouse
url, start, end, full = sys.argv[1:5]
build_warehouse(url, date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None,
                full_refresh=full == "full", progress=None)
"""
INIT_SNIPPET = "import sys; from pulse.schema import init_database; init_database(sys.argv[1])"


def run_in(checkout: Path, snippet: str, *args: str) -> None:
    """Run ``snippet`` with ``checkout``'s ``pulse`` package first on the path; raise with its stderr on failure."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [sys.executable, "-c", snippet, *args], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {snippet.strip().splitlines()[0]} failed:\n{done.stderr[-3000:]}")


def copy_database(server: str, url: str, name: str) -> str:
    """A file-level copy of the database of ``url`` named ``name`` (its URL)."""
    from pulse.database import with_database

    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(str(source)))
        )
    return with_database(server, name)


def main() -> None:
    """Seed, copy, build both, alternate the 2-day builds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="checkout of the older code")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5, help="alternated pairs of 2-day builds (median)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    baseline = args.baseline.resolve()
    if not (baseline / "pulse" / "dbt.py").exists():
        raise SystemExit(f"--baseline {baseline} is not a Pulse checkout (no pulse/dbt.py)")
    commit = subprocess.run(
        ["git", "-C", str(baseline), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    here = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()

    from pulse.database import database_url

    server = database_url()
    last_day = date.today()
    start, end = (last_day - timedelta(days=1)).isoformat(), (last_day + timedelta(days=1)).isoformat()
    url = seeded_database(server, args.users, args.days, last_day)
    old_url = copy_database(server, url, f"pulse_bench_base_{args.users}u_{args.days}d")
    try:
        run_in(baseline, INIT_SNIPPET, old_url)
        for label, checkout, target in (("this checkout", REPO, url), (f"baseline {commit}", baseline, old_url)):
            say(f"full build by {label} ...")
            row = Row("full")
            timed_once(lambda c=checkout, t=target: run_in(c, BUILD_SNIPPET, t, "", "", "full"), None, row)
            settle(target)
            say(f"full build by {label}: {row.median:.1f} s")
        new, old = Row(f"2-day build, {here} (this checkout)"), Row(f"2-day build, {commit} (baseline)")
        ratios = []
        for pair in range(1, args.runs + 1):
            n = timed_once(lambda: run_in(REPO, BUILD_SNIPPET, url, start, end, "range"), None, new)
            o = timed_once(lambda: run_in(baseline, BUILD_SNIPPET, old_url, start, end, "range"), None, old)
            ratios.append(n / o)
            say(f"pair {pair} of {args.runs}: this checkout {n:.1f} s, baseline {o:.1f} s ({ratios[-1]:.2f} x)")
        pairs = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        new.note = f"{statistics.median(ratios):.2f} x baseline, median of pairs {pairs} (target <= 1.0)"
    finally:
        if not args.keep:
            drop(server, url)
            drop(server, old_url)

    title = f"2-day build ({start} to {end}, end exclusive), {args.users:,} users x {args.days} days, alternated pairs"
    print_table(title, [new, old])


if __name__ == "__main__":
    main()
