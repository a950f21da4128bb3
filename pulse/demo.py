"""``pulse demo``: the whole system in one command, for a first look on a fresh checkout.

Uses the selected database (``DATABASE_URL`` or the embedded PostgreSQL, which
keeps running afterwards), runs ``pulse db init``, seeds a demo dataset into an
empty database, builds the marts through Dagster the first time (a run of
``warehouse_job``, as ``pulse build`` does) and otherwise does what ``pulse
refresh`` does; then runs the Dagster webserver and daemon (``dagster dev``, as
``pulse ui``) and the API (``pulse serve``) as child processes, each in a
session of its own, and prints where to look. Ctrl-C or SIGTERM stops both
process groups by their PIDs; a child that dies stops the demo with one line.
Everything it writes (logs, the Dagster instance) stays in Pulse's data folder.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Any
from uuid import UUID

from pulse import REPO_ROOT

Progress = Callable[[str], None]

READY_TIMEOUT_SECONDS = 240.0
POLL_SECONDS = 0.5
TOKEN_LIFETIME_SECONDS = 12 * 3600
QUICK_STATS_PATH = "/api/v1/analytics/quick-stats?date_range=30d"
# The demo builds the local dates its data touches, plus this margin on each side
# (slots can cross midnight; tasks are scheduled a little ahead).
BUILD_MARGIN_DAYS = 2


class DemoError(RuntimeError):
    """The demo cannot go on; the message is one line saying why and what to do."""


class StopDemo(BaseException):
    """Raised by the demo's waiting loops once SIGINT or SIGTERM asked to stop (a BaseException, as Ctrl-C's is)."""


@dataclass
class DemoOptions:
    """What ``pulse demo`` was asked for."""

    users: int
    days: int
    seed: int
    host: str
    api_port: int
    dagster_port: int
    verbose: bool = False


@dataclass
class Child:
    """A service the demo runs: its process (leader of its own process group), log file and probe URL."""

    name: str
    command: list[str]
    probe_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, preexec: Callable[[], None] | None = None) -> None:
        """Start the process in a new session, its output going to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,
            start_new_session=True,
        )

    def exited(self) -> int | None:
        """The exit code when the process has ended, else None."""
        return None if self.process is None else self.process.poll()

    def answers(self) -> bool:
        """Whether the probe URL answers 200."""
        try:
            with urllib.request.urlopen(self.probe_url, timeout=2) as response:  # noqa: S310 - our own http URL
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def last_log_line(self) -> str:
        """The last non-empty line of the child's output (why it stopped, usually)."""
        try:
            lines = [line.strip() for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no output"
        return lines[-1][:300] if lines else "no output"

    def why_stopped(self, code: int) -> str:
        """Why the process ended, in a few words: the signal that killed it, or its exit code and last line."""
        if code < 0:
            return f"killed by {signal.Signals(-code).name}; its log: {self.log_path}"
        return f"exit code {code}: {self.last_log_line()}; its log: {self.log_path}"

    def stop(self) -> None:
        """Stop the child's whole process group (SIGINT, then SIGTERM, then SIGKILL) and close its log."""
        from orchestration.ui import stop_group

        if self.process is not None:
            stop_group(self.process)
        if self.log is not None:
            self.log.close()


def ensure_port_free(host: str, port: int, option: str) -> None:
    """Fail with one line naming ``option`` when ``host:port`` cannot be bound (another process has it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and the webserver bind
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "already in use" if exc.errno == 98 else exc.strerror or str(exc)
            raise DemoError(f"{option} {port}: port {reason} on {host} (pass another {option})") from exc


def keep_temporary_files_in(folder: Path) -> None:
    """Point this process and its children (Dagster's code-server sockets, dbt) at a temporary folder of Pulse's."""
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # the next tempfile call reads TMPDIR again


def _probe_host(host: str) -> str:
    """The address to reach a server listening on ``host`` from this machine."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - comparing, not binding


def prepare_data(options: DemoOptions, url: str, progress: Progress) -> bool:
    """``pulse db init``, then seed an empty database; True when it seeded."""
    from pulse.database import connect, mask_password
    from pulse.schema import init_database
    from pulse.seed import SeedPlan, default_start, seed_database
    from pulse.settings import get_settings

    init_database(url, analyst_password=get_settings().analyst_password)
    progress(f"initialized schemas app and analytics in {mask_password(url)}")
    with connect(url) as conn:
        row = conn.execute("select count(*) from app.users").fetchone()
    users = row[0] if row else 0
    if users:
        progress(f"reusing the data: the database holds {users:,} users (no seeding)")
        return False
    plan = SeedPlan(users=options.users, days=options.days, start=default_start(options.days), seed=options.seed)
    progress(f"seeding {plan.users:,} users x {plan.days} days ({plan.start} to {plan.end})")
    report = seed_database(url, plan, progress=progress)
    progress(f"seeded {report.total_rows:,} rows in {report.total_seconds:.1f} s")
    return True


def marts_built(url: str) -> bool:
    """Whether the date-partitioned marts were ever built in this database (``analytics.mart_build_log``)."""
    from pulse.database import connect

    with connect(url) as conn:
        row = conn.execute("select to_regclass('analytics.mart_build_log') is not null").fetchone()
        if not row or not row[0]:
            return False
        built = conn.execute("select exists (select from analytics.mart_build_log)").fetchone()
    return bool(built and built[0])


def data_dates(url: str) -> tuple[date, date] | None:
    """The first and last local dates the source data touches (calendar days, task creation), or None."""
    from pulse.database import connect

    with connect(url) as conn:
        row = conn.execute(
            "select least(min(d.first), min(t.first)), greatest(max(d.last), max(t.last)) from"
            " (select min(date) as first, max(date) as last from app.user_calendar_days) as d,"
            " (select min(created_at)::date as first,"
            "  max(greatest(updated_at, completed_at, created_at))::date as last from app.tasks) as t"
        ).fetchone()
    if not row or row[0] is None:
        return None
    return row[0], row[1]


def build_range_for(dates: tuple[date, date] | None, first: date, last: date) -> tuple[date, date]:
    """The local dates the first build covers: the data's dates with a margin, within the daily partitions."""
    if dates is None:
        today = date.today()
        dates = (today - timedelta(days=1), today + timedelta(days=1))
    start = max(first, dates[0] - timedelta(days=BUILD_MARGIN_DAYS))
    end = min(last, max(dates[1], date.today()) + timedelta(days=BUILD_MARGIN_DAYS))
    return start, end


def start_partitions_at_the_data(url: str) -> None:
    """Let the daily partitions start where the demo's data does (unless PULSE_PARTITIONS_START says otherwise).

    Set before anything loads orchestration.partitions, and inherited by the Dagster processes the demo
    starts, so the UI lists the demo's dates, not years of "missing" partitions before them.
    """
    from pulse.settings import get_settings

    dates = data_dates(url)
    if "PULSE_PARTITIONS_START" in os.environ or dates is None:
        return
    os.environ["PULSE_PARTITIONS_START"] = (dates[0] - timedelta(days=BUILD_MARGIN_DAYS)).isoformat()
    get_settings.cache_clear()


def build_marts(url: str, progress: Progress, verbose: bool = False) -> None:
    """The first time a Dagster run of ``warehouse_job`` over the data's dates; afterwards ``pulse refresh``.

    One line per step and a summary; ``verbose`` adds every Dagster event and dbt's own log.
    """
    from orchestration.launch import RunFailed, build_range, refresh, totals
    from orchestration.partitions import first_partition_date, last_partition_date
    from orchestration.run_health import WaitTimeout

    if marts_built(url):
        progress("the marts are built: building the queued source changes (what 'pulse refresh' does)")
        try:
            summaries = refresh(progress=progress, verbose=verbose)
        except (RunFailed, WaitTimeout) as exc:
            raise DemoError(str(exc)) from exc
        progress(f"refreshed: {totals(summaries)}")
        return
    start, end = build_range_for(data_dates(url), first_partition_date(), last_partition_date())
    progress(f"building the marts through Dagster (as 'pulse build --start {start} --end {end}')")
    began = time.perf_counter()
    try:
        summary = build_range(start, end, progress=progress, supersede_queue=True, verbose=verbose)
    except (RunFailed, WaitTimeout) as exc:
        raise DemoError(str(exc)) from exc
    took = time.perf_counter() - began
    progress(f"built the marts in {took:.1f} s: {totals([summary])} (Dagster run {summary.run_id})")


def build_front_end(progress: Progress) -> None:
    """Build web/dist when missing or stale; without npm the demo goes on (/ then says how to build it)."""
    from pulse.web import WebBuildError, ensure_built

    try:
        if not ensure_built(progress):
            progress("the front end is built and current (web/dist)")
    except WebBuildError as exc:
        progress(f"the front end was not built: {exc}")


def app_address(api_url: str, token: str | None) -> str:
    """The front end's address, signed in as the demo user through the URL fragment when there is a token."""
    return f"{api_url}/#token={token}" if token else f"{api_url}/"


def demo_token(url: str) -> str | None:
    """A token for the demo user, minted as ``pulse token`` does; None when the database has no demo user."""
    from api.core.security import mint_token
    from pulse.database import connect
    from pulse.seed import DEMO_USER_ID
    from pulse.settings import get_settings

    with connect(url) as conn:
        found = conn.execute("select 1 from app.users where user_id = %s", (DEMO_USER_ID,)).fetchone()
    if not found:
        return None
    return mint_token(UUID(DEMO_USER_ID), get_settings(), expires_in=TOKEN_LIFETIME_SECONDS)


def curl_line(api_base: str, token: str) -> str:
    """The curl command that returns the demo user's quick stats of the last 30 days."""
    return shlex.join(["curl", "-s", "-H", f"Authorization: Bearer {token}", f"{api_base}{QUICK_STATS_PATH}"])


class StopSignals:
    """SIGINT and SIGTERM only ask the demo to stop: the handler sets an event and never raises.

    The waiting loops check the event and raise StopDemo themselves, at a point of their choosing,
    so a signal can never land inside the stopping code (a second SIGTERM once raised StopDemo inside
    ``_stop_all`` and left the webserver and the API on their ports). Any further signal, of either
    kind and in any number, finds the event already set and changes nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.received: list[str] = []
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signal.Signals(signum).name)
        self.requested.set()

    def install(self) -> None:
        """From now on SIGINT and SIGTERM set the event."""
        self._previous = {sig: signal.signal(sig, self._handler) for sig in self.SIGNALS}

    def restore(self) -> None:
        """Put the previous handlers back, unless a stop was asked for (the process is about to exit 0 then)."""
        if not self.requested.is_set():
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)

    def check(self) -> None:
        """StopDemo when a signal asked to stop."""
        if self.requested.is_set():
            raise StopDemo

    def pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``, returning at once when a signal arrives; then check."""
        self.requested.wait(seconds)
        self.check()


def _stop_all(children: list[Child], progress: Progress) -> None:
    """Stop every started child at once (each by its process group) and wait for all.

    Called with StopSignals installed, so signals arriving meanwhile only set an event that is already set.
    """
    started = [c for c in children if c.process is not None]
    if not started:
        return
    progress("stopping " + " and ".join(f"{c.name} (pid {c.process.pid})" for c in started if c.process) + " ...")
    threads = [threading.Thread(target=child.stop) for child in started]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _wait_ready(children: list[Child], timeout: float, progress: Progress, signals: StopSignals) -> None:
    """Wait until every child answers its probe; DemoError when one exits or the time runs out, StopDemo on a signal."""
    began = time.monotonic()
    deadline = began + timeout
    waiting = list(children)
    while waiting:
        signals.check()
        for child in list(waiting):
            code = child.exited()
            if code is not None:
                raise DemoError(f"the {child.name} stopped while starting ({child.why_stopped(code)})")
            if child.answers():
                progress(f"the {child.name}: up after {time.monotonic() - began:.0f} s ({child.probe_url} answers)")
                waiting.remove(child)
        if waiting and time.monotonic() > deadline:
            names = " and ".join(c.name for c in waiting)
            raise DemoError(f"the {names} did not answer within {timeout:.0f} s (logs: {waiting[0].log_path})")
        if waiting:
            signals.pause(POLL_SECONDS)


def _watch(children: list[Child], signals: StopSignals) -> None:
    """Block until a child exits (DemoError naming it) or a signal asks to stop (StopDemo)."""
    while True:
        for child in children:
            code = child.exited()
            if code is not None:
                raise DemoError(f"the {child.name} stopped ({child.why_stopped(code)})")
        signals.pause(POLL_SECONDS)


def run_demo(options: DemoOptions, progress: Progress = print) -> int:
    """Bring the whole system up, print where to look, and stop what it started on Ctrl-C; the exit code."""
    from orchestration.instance import ensure_dagster_home
    from orchestration.project import prepare_manifest
    from orchestration.ui import _reset_sigint, dagster_dev_command
    from pulse.database import database_url
    from pulse.settings import get_settings

    began = time.perf_counter()
    ensure_port_free(options.host, options.api_port, "--api-port")
    ensure_port_free(options.host, options.dagster_port, "--dagster-port")
    settings = get_settings()
    keep_temporary_files_in(settings.data_dir.resolve() / "tmp")
    url = database_url()
    embedded = not settings.database_url
    home = ensure_dagster_home()
    try:
        prepare_manifest()
    except RuntimeError as exc:
        raise DemoError(str(exc)) from exc
    prepare_data(options, url, progress)
    start_partitions_at_the_data(url)
    build_marts(url, progress, options.verbose)
    build_front_end(progress)

    logs = settings.data_dir.resolve() / "demo"
    probe = _probe_host(options.host)
    dagster_url = f"http://{probe}:{options.dagster_port}"
    api_url = f"http://{probe}:{options.api_port}"
    serve = [sys.executable, "-m", "pulse.cli", "serve", "--host", options.host, "--port", str(options.api_port)]
    children = [
        Child(
            "Dagster webserver and daemon",
            dagster_dev_command(options.host, options.dagster_port, log_format="json"),  # a file: no colour codes
            f"{dagster_url}/server_info",
            logs / "dagster.log",
        ),
        Child("API", serve, f"{api_url}/readyz", logs / "api.log"),
    ]
    signals = StopSignals()
    signals.install()
    stopped_by_signal = False
    try:
        # A signal during these starts only sets the event: the Popen returns and its process is recorded first.
        children[0].start(preexec=_reset_sigint)  # dagster dev ignores SIGINT from a script unless reset
        children[1].start()
        progress(
            "started "
            + " and ".join(f"the {c.name} (pid {c.process.pid})" for c in children if c.process)
            + f"; their logs are in {logs}"
        )
        _wait_ready(children, READY_TIMEOUT_SECONDS, progress, signals)
        token = demo_token(url)
        _print_where_to_look(options, dagster_url, api_url, token, home, embedded, progress)
        progress(f"the demo is up in {time.perf_counter() - began:.1f} s; press Ctrl-C to stop it")
        _watch(children, signals)
    except StopDemo:
        stopped_by_signal = True
    finally:
        # Reached however the block ends (a signal, a child that died, any error): nothing in here raises on
        # a signal, since the handlers only set an event.
        _stop_all(children, progress)
        signals.restore()
    if stopped_by_signal:
        progress("stopped the Dagster webserver and daemon and the API")
        return 0
    return 0  # pragma: no cover - _watch only returns by raising


def _print_where_to_look(
    options: DemoOptions,
    dagster_url: str,
    api_url: str,
    token: str | None,
    dagster_home: Path,
    embedded: bool,
    progress: Progress,
) -> None:
    """The addresses, the demo user's token and the curl line."""
    from pulse.seed import DEMO_EMAIL, DEMO_USER_ID

    lines = [
        "",
        f"Pulse app:    {app_address(api_url, token)}",
        f"Dagster UI:   {dagster_url}   (runs, asset graph, backfills; instance {dagster_home})",
        f"API docs:     {api_url}/docs",
    ]
    if token is None:
        lines.append(f"no demo user {DEMO_EMAIL} in this database: 'pulse token --user ID|EMAIL' mints a token")
    else:
        hours = TOKEN_LIFETIME_SECONDS // 3600
        lines += [
            f"demo user:    {DEMO_EMAIL} (user id {DEMO_USER_ID}); token valid {hours} h:",
            token,
            "the demo user's quick stats (last 30 days):",
            curl_line(api_url, token),
        ]
    if embedded:
        lines.append("the embedded PostgreSQL keeps running after the demo (shared); 'pulse db stop' stops it")
    lines.append("")
    for line in lines:
        progress(line)


def options_from(args: Any) -> DemoOptions:
    """The demo's options from parsed ``pulse demo`` arguments, ports defaulting to the settings."""
    from pulse.settings import get_settings

    settings = get_settings()
    return DemoOptions(
        users=args.users,
        days=args.days,
        seed=args.seed,
        host=args.host or settings.api_host,
        api_port=args.api_port or settings.api_port,
        dagster_port=args.dagster_port or settings.dagster_port,
        verbose=bool(getattr(args, "verbose", False)),
    )
