"""The ``pulse`` command line: database, seeding, builds, the API and tokens.

Each command is a small function that parses nothing itself; ``main`` turns any
expected failure into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pulse.database import DatabaseError

Handler = Callable[[argparse.Namespace], int | None]


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``pulse`` command."""
    parser = argparse.ArgumentParser(prog="pulse", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="the database: init, status, stop")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("init", help=cmd_db_init.__doc__).set_defaults(handler=cmd_db_init)
    db_commands.add_parser("status", help=cmd_db_status.__doc__).set_defaults(handler=cmd_db_status)
    db_commands.add_parser("stop", help=cmd_db_stop.__doc__).set_defaults(handler=cmd_db_stop)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``pulse`` command; expected failures print one line and exit 1."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args) or 0
    except (CommandError, DatabaseError) as exc:
        print(f"pulse: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pulse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
