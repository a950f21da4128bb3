"""Benchmark of ``pulse seed``: how fast synthetic data is generated and COPYed into PostgreSQL.

Seeds a database of its own (``pulse_bench_seed`` on the server of
``database_url()``, re-created with ``pulse db init``; or ``--url``) and prints
one table: rows per table, generation seconds, COPY seconds, total and rows/s.
Generation and COPY seconds are summed over the worker processes, so with two
workers they can add up to more than the wall-clock total.

    python -m benchmarks.seed --users 10000 --days 90
"""

from __future__ import annotations

import argparse
from datetime import date

import psycopg
from psycopg import sql

from pulse.database import database_url, mask_password, with_database
from pulse.schema import init_database
from pulse.seed import SeedPlan, seed_database

BENCH_DATABASE = "pulse_bench_seed"


def fresh_database(name: str) -> str:
    """(Re)create database ``name`` on the server of database_url(), initialized; return its URL."""
    server = database_url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    init_database(url)
    return url


def main() -> None:
    """Run one seed into the benchmark database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 8, 27))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="an initialized database to seed with --replace (default: a fresh one)")
    args = parser.parse_args()

    url = args.url or fresh_database(BENCH_DATABASE)
    plan = SeedPlan(users=args.users, days=args.days, start=args.start, seed=args.seed)
    print(f"seeding {plan.users:,} users x {plan.days} days into {mask_password(url)} with {args.workers} workers")
    report = seed_database(url, plan, replace=True, workers=args.workers, progress=print)
    print()
    print(
        f"| {'users':>7} | {'days':>4} | " + " | ".join(f"{t:>18}" for t in report.rows) + " | total rows |"
        " generate s | COPY s | total s | rows/s |"
    )
    print(
        f"| {plan.users:>7,} | {plan.days:>4} | "
        + " | ".join(f"{n:>18,}" for n in report.rows.values())
        + f" | {report.total_rows:>10,} | {report.generate_seconds:>10.1f} | {report.copy_seconds:>6.1f}"
        f" | {report.total_seconds:>7.1f} | {report.total_rows / report.total_seconds:>6,.0f} |"
    )


if __name__ == "__main__":
    main()
