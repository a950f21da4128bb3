"""The ``pulse`` command line: database, seeding, builds, the API and tokens.

Each command is a small function that parses nothing itself; ``main`` turns any
expected failure into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from types import FrameType
from typing import TYPE_CHECKING

from pulse.database import DatabaseError

if TYPE_CHECKING:
    from pulse.settings import Settings

Handler = Callable[[argparse.Namespace], int | None]
VERBOSE_HELP = "print every Dagster event and dbt's own log (default: one line per step and a summary)"


class CommandError(RuntimeError):
    """A command failed in a way the user can fix; the message says how."""


def cmd_db_init(args: argparse.Namespace) -> None:
    """Create the source schema, the analytics schema, indexes and the analyst role."""
    from pulse.database import database_url, mask_password
    from pulse.schema import init_database
    from pulse.settings import get_settings

    url = database_url()
    init_database(url, analyst_password=get_settings().analyst_password)
    print(f"initialized schemas app and analytics in {mask_password(url)}")


def cmd_db_status(args: argparse.Namespace) -> None:
    """Say which database is in use, where, and whether it runs."""
    from pulse.database import status

    print(status().describe())


def cmd_db_stop(args: argparse.Namespace) -> None:
    """Stop the embedded PostgreSQL server."""
    from pulse.database import stop_embedded
    from pulse.settings import get_settings

    if get_settings().database_url:
        print("DATABASE_URL is set: Pulse does not manage that server, nothing to stop")
        return
    print("stopped the embedded PostgreSQL" if stop_embedded() else "the embedded PostgreSQL was not running")


def _iso_date(text: str) -> date:
    """An argparse type for YYYY-MM-DD dates."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _positive_int(text: str) -> int:
    """An argparse type for integers >= 1."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _say(line: str) -> None:
    """Print a progress line at once, even into a pipe."""
    print(line, flush=True)


def cmd_seed(args: argparse.Namespace) -> None:
    """Load deterministic synthetic users, tasks, focus slots and goals into the app tables (COPY)."""
    from pulse.database import database_url, mask_password
    from pulse.seed import SeedPlan, default_start, seed_database

    plan = SeedPlan(users=args.users, days=args.days, start=args.start or default_start(args.days), seed=args.seed)
    url = database_url()
    print(f"seeding {plan.users:,} users x {plan.days} days ({plan.start} to {plan.end}, seed {plan.seed})")
    report = seed_database(url, plan, replace=args.replace, workers=args.workers, progress=_say)
    rows = ", ".join(f"{table} {count:,}" for table, count in report.rows.items())
    print(f"seeded {report.total_rows:,} rows into {mask_password(url)} in {report.total_seconds:.1f} s: {rows}")


def cmd_demo(args: argparse.Namespace) -> int:
    """Bring the whole system up: database, demo data, marts built through Dagster, the Dagster UI and the API."""
    from pulse.demo import DemoError, options_from, run_demo

    _api_settings()  # a bad setting (e.g. the JWT secret) is one line before anything starts
    try:
        return run_demo(options_from(args), progress=_say)
    except DemoError as exc:
        raise CommandError(str(exc)) from exc


def cmd_docs(args: argparse.Namespace) -> None:
    """Generate dbt's docs site of the warehouse (models, columns, lineage, the API exposure) and serve it offline."""
    from pulse.database import database_url
    from pulse.dbt import DbtBuildError
    from pulse.docs import DEFAULT_HOST, DocsError, docs_folder, generate_docs, serve_docs
    from pulse.settings import get_settings

    try:
        index = generate_docs(database_url(), docs_folder(get_settings().data_dir), progress=_say)
        _say(f"wrote {index}")
        if not args.no_serve:
            serve_docs(index.parent, args.host or DEFAULT_HOST, args.port, progress=_say)
    except (DbtBuildError, DocsError) as exc:
        raise CommandError(str(exc)) from exc


def _build_date(option: str, text: str) -> date:
    """A YYYY-MM-DD option of ``pulse build``, or a one-line error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from exc


def _build_as_of(text: str) -> datetime:
    """The --as-of timestamp of ``pulse build`` (ISO 8601 with a UTC offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--as-of {text!r} is not an ISO timestamp (e.g. 2025-03-09T12:00:00+00:00)") from exc
    if moment.utcoffset() is None:
        raise CommandError(f"--as-of {text!r} needs a UTC offset (e.g. 2025-03-09T12:00:00+00:00)")
    return moment


def cmd_build(args: argparse.Namespace) -> None:
    """Build the warehouse in a Dagster run: rebuild local dates START..END (both inclusive) and goal progress."""
    from orchestration.project import prepare_manifest
    from pulse.database import database_url, mask_password

    start = _build_date("--start", args.start) if args.start else None
    last = _build_date("--end", args.end) if args.end else None
    if start is not None and last is not None and last < start:
        raise CommandError(f"--end {last.isoformat()} is before --start {start.isoformat()}")
    as_of = _build_as_of(args.as_of) if args.as_of else None
    url = database_url()
    _prepare_dagster(prepare_manifest)
    from orchestration.launch import RunFailed, build_range, totals
    from orchestration.partitions import first_partition_date, last_partition_date
    from orchestration.run_health import WaitTimeout

    first, final = first_partition_date(), last_partition_date()
    for option, day in (("--start", start), ("--end", last)):
        if day is not None and not first <= day <= final:
            raise CommandError(f"{option} {day.isoformat()} is outside the daily partitions {first} to {final}")
    every_date = start is None and last is None  # supersedes the change queue's rows
    if start is None or last is None:
        # Every partition (years, mostly empty) would be thousands of partition events: default to the data's dates.
        from pulse.demo import build_range_for, data_dates

        data_start, data_end = build_range_for(data_dates(url), first, final)
        start, last = start or data_start, last or data_end
    scope = f"local dates {start} to {last}"
    print(f"building the warehouse ({scope}) in {mask_password(url)}", flush=True)
    began = time.perf_counter()
    try:
        summary = build_range(
            start, last, as_of, args.full_refresh, progress=_say, supersede_queue=every_date, verbose=args.verbose
        )
    except (RunFailed, WaitTimeout, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    took = time.perf_counter() - began
    print(f"built the warehouse ({scope}) in {took:.1f} s: {totals([summary])} (Dagster run {summary.run_id})")


def _prepare_dagster(prepare_manifest: Callable[[], object]) -> None:
    """Point Dagster at Pulse's instance and make sure the dbt manifest is current, or say what failed."""
    from orchestration.instance import ensure_dagster_home

    ensure_dagster_home()
    try:
        prepare_manifest()
    except RuntimeError as exc:
        raise CommandError(str(exc)) from exc


def cmd_refresh(args: argparse.Namespace) -> None:
    """Do what the change sensor does, once: rebuild the dates changed source rows touch (Dagster runs)."""
    from orchestration.project import prepare_manifest
    from pulse.database import database_url, mask_password

    url = database_url()
    _prepare_dagster(prepare_manifest)
    from orchestration.launch import RunFailed, refresh, totals
    from orchestration.run_health import WaitTimeout

    print(f"looking for source changes in {mask_password(url)}", flush=True)
    began = time.perf_counter()
    try:
        summaries = refresh(progress=_say, verbose=args.verbose)
    except (RunFailed, WaitTimeout) as exc:
        raise CommandError(str(exc)) from exc
    print(f"refreshed in {time.perf_counter() - began:.1f} s: {totals(summaries)}")


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI (webserver and daemon) for Pulse; Ctrl-C stops both."""
    from orchestration.ui import run_ui

    try:
        return run_ui(args.host, args.port, progress=_say)
    except RuntimeError as exc:
        raise CommandError(str(exc)) from exc


def _api_settings() -> Settings:
    """The settings, or a one-line error naming the setting to fix (e.g. the JWT secret outside development)."""
    from pydantic import ValidationError

    from pulse.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in first["loc"])
        raise CommandError(f"invalid setting {where}: {message}" if where else f"invalid settings: {message}") from exc


def cmd_serve(args: argparse.Namespace) -> None:
    """Run the API (FastAPI under uvicorn) on the selected database."""
    import uvicorn

    from api.main import create_app

    settings = _api_settings()
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    print(f"serving the Pulse API on http://{host}:{port} (OpenAPI at /docs)", flush=True)
    from api.core.limits import server_options

    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="info", proxy_headers=False, **server_options(settings)
    )


def _port(text: str) -> int:
    """An argparse type for TCP ports."""
    port = _positive_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"not a port (1-65535): {text!r}")
    return port


def cmd_token(args: argparse.Namespace) -> None:
    """Print a bearer token for one user (by id or email) of the selected database; the token is the last line."""
    import uuid

    import psycopg

    from api.core.security import mint_token
    from pulse.database import connect, database_url

    settings = _api_settings()
    with connect(database_url()) as conn:
        try:
            rows = conn.execute("select user_id, email from app.users where user_id = %s", (uuid.UUID(args.user),))
        except ValueError:
            rows = conn.execute(
                "select user_id, email from app.users where lower(email) = lower(%s) order by user_id", (args.user,)
            )
        except psycopg.Error as exc:  # e.g. the schema is missing
            reason = str(exc).strip().splitlines()[0]
            raise CommandError(f"cannot look users up: {reason} (run 'pulse db init')") from exc
        users = rows.fetchall()
    if not users:
        raise CommandError(f"no user with id or email {args.user!r}")
    if len(users) > 1:
        raise CommandError(f"{len(users)} users have the email {args.user!r}: pass the user id instead")
    user_id, email = users[0]
    lifetime = args.expires_in or settings.jwt_default_expires_in
    print(f"token for {email or '(no email)'} (user id {user_id}), valid {lifetime} s:")
    print(mint_token(user_id, settings, expires_in=lifetime))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``pulse`` command."""
    parser = argparse.ArgumentParser(prog="pulse", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="the database: init, status, stop")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("init", help=cmd_db_init.__doc__).set_defaults(handler=cmd_db_init)
    db_commands.add_parser("status", help=cmd_db_status.__doc__).set_defaults(handler=cmd_db_status)
    db_commands.add_parser("stop", help=cmd_db_stop.__doc__).set_defaults(handler=cmd_db_stop)

    seed = commands.add_parser("seed", help=cmd_seed.__doc__, description=cmd_seed.__doc__)
    seed.add_argument("--users", type=_positive_int, required=True, help="number of users (the first is the demo user)")
    seed.add_argument("--days", type=_positive_int, required=True, help="number of local calendar days")
    seed.add_argument("--start", type=_iso_date, help="first date (default: the DAYS days ending tomorrow)")
    seed.add_argument("--seed", type=int, default=42, help="random seed; same seed and arguments, same rows (42)")
    seed.add_argument("--replace", action="store_true", help="empty the app tables first")
    seed.add_argument("--workers", type=_positive_int, default=2, help="generating processes (2)")
    seed.set_defaults(handler=cmd_seed)

    demo = commands.add_parser("demo", help=cmd_demo.__doc__, description=cmd_demo.__doc__)
    demo.add_argument("--users", type=_positive_int, default=300, help="users to seed into an empty database (300)")
    demo.add_argument("--days", type=_positive_int, default=90, help="days to seed (90)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (42)")
    demo.add_argument("--host", help="address the API and the Dagster UI listen on (PULSE_API_HOST, default 127.0.0.1)")
    demo.add_argument("--api-port", type=_port, help="port of the API (PULSE_API_PORT, default 8000)")
    demo.add_argument("--dagster-port", type=_port, help="port of the Dagster UI (PULSE_DAGSTER_PORT, default 3000)")
    demo.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    demo.set_defaults(handler=cmd_demo)

    build = commands.add_parser("build", help=cmd_build.__doc__, description=cmd_build.__doc__)
    build.add_argument("--start", metavar="YYYY-MM-DD", help="first local date to rebuild (default: the data's first)")
    build.add_argument(
        "--end", metavar="YYYY-MM-DD", help="last local date to rebuild, INCLUSIVE (default: the data's last)"
    )
    build.add_argument(
        "--as-of", metavar="TIMESTAMP", help='"now" for goal status, ISO 8601 with offset (default: the run start)'
    )
    build.add_argument(
        "--full-refresh", action="store_true", help="drop and rebuild the tables (parsed slots included)"
    )
    build.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    build.set_defaults(handler=cmd_build)

    refresh = commands.add_parser("refresh", help=cmd_refresh.__doc__, description=cmd_refresh.__doc__)
    refresh.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    refresh.set_defaults(handler=cmd_refresh)

    ui = commands.add_parser("ui", help=cmd_ui.__doc__, description=cmd_ui.__doc__)
    ui.add_argument("--host", default="127.0.0.1", help="address the webserver listens on (127.0.0.1)")
    ui.add_argument("--port", type=int, default=3000, help="port of the webserver (3000)")
    ui.set_defaults(handler=cmd_ui)

    serve = commands.add_parser("serve", help=cmd_serve.__doc__, description=cmd_serve.__doc__)
    serve.add_argument("--host", help="address to listen on (PULSE_API_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (PULSE_API_PORT, default 8000)")
    serve.set_defaults(handler=cmd_serve)

    docs = commands.add_parser("docs", help=cmd_docs.__doc__, description=cmd_docs.__doc__)
    docs.add_argument("--host", help="address to serve on (default 127.0.0.1)")
    docs.add_argument("--port", type=_port, default=8081, help="port to serve on (8081)")
    docs.add_argument("--no-serve", action="store_true", help="only generate the site")
    docs.set_defaults(handler=cmd_docs)

    token = commands.add_parser("token", help=cmd_token.__doc__, description=cmd_token.__doc__)
    token.add_argument("--user", required=True, metavar="ID|EMAIL", help="the user's id or email")
    token.add_argument(
        "--expires-in",
        type=_positive_int,
        metavar="SECONDS",
        help="lifetime of the token (PULSE_JWT_DEFAULT_EXPIRES_IN, default 3600)",
    )
    token.set_defaults(handler=cmd_token)

    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops a command the way Ctrl-C does: through the SIGINT handler in force (Dagster's, during a run,
    stops the run at its next safe point; Python's raises KeyboardInterrupt)."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signum, frame)
    else:
        raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``pulse`` command; expected failures print one line and exit 1; Ctrl-C or SIGTERM stop it (130)."""
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    handler: Handler = args.handler
    try:
        return handler(args) or 0
    except (CommandError, DatabaseError) as exc:
        print(f"pulse: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pulse: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
