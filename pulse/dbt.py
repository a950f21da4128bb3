"""The one place Pulse invokes dbt from Python: connection environment, build vars and ``dbt build``.

``pulse build``, the tests and the benchmark call :func:`build_warehouse`; the
orchestration code reuses :func:`dbt_env` and :func:`build_vars` so that every
caller passes the same connection variables and the same half-open date range.
Each invocation writes into a target folder of its own, so concurrent builds
(other tests, Dagster runs) never share ``target/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from pulse import REPO_ROOT
from pulse.database import libpq_params
from pulse.roles import TRANSFORM_ROLE, role_url
from pulse.settings import get_settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# Tag of the date-partitioned models (and the helper tables they read); Dagster partitions them.
DAILY_TAG = "daily"


class DbtBuildError(RuntimeError):
    """A dbt invocation failed; the message is one line naming what failed."""


def dbt_env(url: str) -> dict[str, str]:
    """The ``PULSE_DB_*`` variables ``dbt_project/profiles.yml`` reads, for the database of ``url``.

    dbt connects as the transformation role ``pulse_transform`` (pulse/roles.py), derived from ``url``.
    """
    transform_url = role_url(url, TRANSFORM_ROLE)
    params = libpq_params(transform_url)
    # A build waits at most build_lock_timeout_ms for a lock (a reader holding a relation the build
    # replaces): requests queued behind the build's lock wait no longer; run_dbt then tries again.
    lock_timeout = f"-c lock_timeout={get_settings().build_lock_timeout_ms}"
    options = f"{conninfo_to_dict(transform_url).get('options') or ''} {lock_timeout}".strip()
    return {
        "PULSE_DB_HOST": params["host"],
        "PULSE_DB_PORT": params["port"],
        "PULSE_DB_USER": params["user"],
        "PULSE_DB_PASSWORD": params["password"],
        "PULSE_DB_NAME": params["dbname"],
        # libpq reads it: the lock timeout, and the SET ROLE fallback of pulse/roles.py
        "PGOPTIONS": options,
    }


def build_vars(start: date | None = None, end: date | None = None, as_of: datetime | None = None) -> dict[str, str]:
    """The dbt vars of a build of local dates ``[start, end)`` (end exclusive) with "now" = ``as_of``.

    They reach dbt as environment variables (:func:`build_env`, read by the macro ``build_var``), not ``--vars``.

    A missing bound keeps the project's default (all history); a missing ``as_of``
    lets dbt use the run's start time.
    """
    if start is not None and end is not None and end <= start:
        raise ValueError(f"end {end.isoformat()} must be after start {start.isoformat()} (the range is half-open)")
    if as_of is not None and as_of.utcoffset() is None:
        raise ValueError(f"as_of {as_of.isoformat()} needs a UTC offset")
    build: dict[str, str] = {}
    if start is not None:
        build["start_date"] = start.isoformat()
    if end is not None:
        build["end_date"] = end.isoformat()
    if as_of is not None:
        build["as_of"] = as_of.isoformat()
    return build


# The environment variables that carry a build's vars to dbt (macro build_var): not --vars, which dbt hashes
# into its saved parse state, so that every new range parsed the whole project again (about 5 CPU-s).
BUILD_ENV = {"start_date": "PULSE_BUILD_START_DATE", "end_date": "PULSE_BUILD_END_DATE", "as_of": "PULSE_BUILD_AS_OF"}


def build_env(dbt_vars: dict[str, str]) -> dict[str, str]:
    """The ``PULSE_BUILD_*`` variables of ``build_vars`` output: all of them, empty for a var left at its default.

    Always all three, so that a variable of the calling environment never leaks into a build.
    """
    return {env: dbt_vars.get(name, "") for name, env in BUILD_ENV.items()}


def dbt_executable() -> str:
    """The ``dbt`` program installed beside this Python (the virtual environment's)."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise DbtBuildError("dbt is not installed: install Pulse with its dependencies (make install)")
    return found


def _first_failure(target_path: Path) -> str | None:
    """'<kind> <name>: <first line of message>' for the first failed node of a run, from run_results.json."""
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return None
    results: list[dict[str, Any]] = json.loads(results_file.read_text()).get("results", [])
    for result in results:
        if result.get("status") in ("error", "fail", "runtime error"):
            unique_id = str(result.get("unique_id", "?"))
            kind, _, rest = unique_id.partition(".")
            name = rest.split(".", 1)[-1] if "." in rest else rest
            message = " ".join(str(result.get("message") or result.get("status")).split())
            return f"{kind} {name} failed: {message[:300]}"
    return None


LOCK_TIMEOUT_MESSAGE = "lock timeout"


def run_dbt(
    args: Sequence[str],
    url: str,
    dbt_vars: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = print,
) -> None:
    """Run one dbt command (e.g. ``["build"]``) against ``url`` in a target folder of its own.

    Prints dbt's progress lines through ``progress``; raises :class:`DbtBuildError`
    with one line naming the failed model or test. A run that gave up waiting for a lock
    (``build_lock_timeout_ms``) runs again after a pause that doubles, up to ``build_lock_retries`` times.
    """
    retries = get_settings().build_lock_retries
    for attempt in range(retries + 1):
        try:
            _run_dbt_once(args, url, dbt_vars, progress)
            return
        except DbtBuildError as exc:
            if LOCK_TIMEOUT_MESSAGE not in str(exc) or attempt == retries:
                raise
            pause = min(2.0**attempt, 16.0)
            if progress is not None:
                progress(f"dbt {args[0]} waited too long for a lock ({exc}); trying again in {pause:.0f} s")
            time.sleep(pause)


def _run_dbt_once(
    args: Sequence[str],
    url: str,
    dbt_vars: dict[str, str] | None,
    progress: Callable[[str], None] | None,
) -> None:
    connection = dbt_env(url)
    dbt_vars = dbt_vars or {}
    env = {**os.environ, **connection, **build_env(dbt_vars), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    other_vars = {name: value for name, value in dbt_vars.items() if name not in BUILD_ENV}
    target_path = Path(tempfile.mkdtemp(prefix="pulse-dbt-"))
    reuse_parse(target_path, connection)
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
    ]
    if other_vars:
        command += ["--vars", json.dumps(other_vars)]
    try:
        tail: list[str] = []
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                line = line.rstrip()
                tail = [*tail[-20:], line]
                if progress is not None and line:
                    progress(line)
        if process.returncode != 0:
            failure = _first_failure(target_path)
            if failure is None:
                errors = [line for line in tail if "error" in line.lower()]
                failure = " ".join((errors[-1] if errors else tail[-1] if tail else "no output").split())
                failure = _explained(failure, tail)
            raise DbtBuildError(f"dbt {args[0]} failed: {failure}")
    finally:
        keep_parse(target_path, connection)
        shutil.rmtree(target_path, ignore_errors=True)


def _explained(failure: str, tail: list[str]) -> str:
    """A failure outside any node with dbt's own explanation (the lines after 'Encountered an error:')."""
    marks = [n for n, line in enumerate(tail) if line.rstrip().endswith("Encountered an error:")]
    if marks:
        failure = " ".join(" ".join(tail[marks[-1] + 1 :]).split()) or failure
    if "permission denied for database" in failure or f'role "{TRANSFORM_ROLE}" does not exist' in failure:
        failure += f" (dbt logs in as {TRANSFORM_ROLE}: run `pulse db init` on this database first)"
    return failure


# The parse state `dbt parse` leaves in the project (orchestration/project.py prepare_manifest): for the
# profile of that parse only.
PARSE_STATE = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
# dbt's saved parse state per connection profile, shared by the invocations on one database (run_dbt and the
# Dagster resource): dbt keeps a parse only for the profile it was made with, so with one file for all, a
# build on another database (the tests build dozens) parsed the whole project again, and so did the next
# build on the first. dbt parses again whatever changed since (files, profile, env vars, --vars): a stale
# copy costs a parse and is never wrong.
PARSE_STATES = DBT_PROJECT_DIR / "target" / "parse_states"
# The most recently used parse states kept (about 0.8 MB each); older ones are deleted.
PARSE_STATES_KEPT = 40


def profile_stamp(connection: dict[str, str]) -> str:
    """What of a connection (``dbt_env``) dbt's parse state depends on: not the password, which dbt does not hash."""
    return "|".join(connection[name] for name in ("PULSE_DB_HOST", "PULSE_DB_PORT", "PULSE_DB_USER", "PULSE_DB_NAME"))


def parse_state_path(connection: dict[str, str]) -> Path:
    """The saved parse state of the profile of ``connection`` (``dbt_env``)."""
    return PARSE_STATES / f"{hashlib.sha256(profile_stamp(connection).encode()).hexdigest()[:20]}.msgpack"


def reuse_parse(target_path: Path, connection: dict[str, str]) -> None:
    """Start an invocation from the parse state saved for its profile (else the project's): no parse when it holds."""
    for saved in (parse_state_path(connection), PARSE_STATE):
        with contextlib.suppress(OSError):  # none saved yet: try the next, or dbt parses everything
            target_path.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved, target_path / PARSE_STATE.name)
            return


def keep_parse(target_path: Path, connection: dict[str, str]) -> None:
    """Save an invocation's parse state for its profile (an atomic rename: others never read half a file).

    Also when dbt failed: its parse state is written before any model runs, and holds.
    """
    produced = target_path / PARSE_STATE.name
    if not produced.exists():
        return
    state = parse_state_path(connection)
    try:
        PARSE_STATES.mkdir(parents=True, exist_ok=True)
        staged = state.with_name(f"{state.name}.{os.getpid()}.{time.monotonic_ns()}")
        shutil.copyfile(produced, staged)
        os.replace(staged, state)
        saved = sorted(PARSE_STATES.glob("*.msgpack"), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in saved[PARSE_STATES_KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only checkout, or another process pruned the same file: the next build parses again


def build_warehouse(
    url: str,
    start: date | None = None,
    end: date | None = None,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    progress: Callable[[str], None] | None = print,
) -> float:
    """One ``dbt build`` of local dates ``[start, end)`` (default all history) against ``url``; seconds taken.

    dbt's unit tests check the SQL logic, not the data, so routine builds skip them
    (tests/warehouse/test_build.py runs them); data tests run on every build.
    """
    try:
        dbt_vars = build_vars(start, end, as_of)
    except ValueError as exc:
        raise DbtBuildError(str(exc)) from exc
    args = ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if full_refresh else [])]
    began = time.perf_counter()
    run_dbt(args, url, dbt_vars, progress)
    return time.perf_counter() - began


def main() -> None:
    """Print ``export PULSE_DB_...`` lines for the selected database (``eval "$(python -m pulse.dbt)"`` before dbt)."""
    import shlex

    from pulse.database import database_url
    from pulse.schema import init_database

    url = database_url()
    init_database(url)  # dbt logs in as pulse_transform, which init creates (idempotent, a fraction of a second)
    for name, value in dbt_env(url).items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
