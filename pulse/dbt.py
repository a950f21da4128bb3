"""The one place Pulse invokes dbt from Python: connection environment, build vars and ``dbt build``.

``pulse build``, the tests and the benchmark call :func:`build_warehouse`; the
orchestration code reuses :func:`dbt_env` and :func:`build_vars` so that every
caller passes the same connection variables and the same half-open date range.
Each invocation writes into a target folder of its own, so concurrent builds
(other tests, Dagster runs) never share ``target/``.
"""

from __future__ import annotations

import contextlib
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
    """The dbt ``--vars`` of a build of local dates ``[start, end)`` (end exclusive) with "now" = ``as_of``.

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
    env = {**os.environ, **dbt_env(url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    target_path = Path(tempfile.mkdtemp(prefix="pulse-dbt-"))
    _reuse_parse(target_path)
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
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
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
        _keep_parse(target_path)
    finally:
        shutil.rmtree(target_path, ignore_errors=True)


def _explained(failure: str, tail: list[str]) -> str:
    """A failure outside any node with dbt's own explanation (the lines after 'Encountered an error:')."""
    marks = [n for n, line in enumerate(tail) if line.rstrip().endswith("Encountered an error:")]
    if marks:
        failure = " ".join(" ".join(tail[marks[-1] + 1 :]).split()) or failure
    if "permission denied for database" in failure or f'role "{TRANSFORM_ROLE}" does not exist' in failure:
        failure += f" (dbt logs in as {TRANSFORM_ROLE}: run `pulse db init` on this database first)"
    return failure


# dbt's saved parse state, shared by invocations as dagster-dbt shares it: dbt parses again whatever
# changed since (files, vars, profile, env vars), so a stale copy costs a parse and is never wrong.
PARSE_STATE = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"


def _reuse_parse(target_path: Path) -> None:
    """Start an invocation from the last saved parse state: a build with the same vars skips parsing (3 s here)."""
    with contextlib.suppress(OSError):  # none saved yet: dbt parses everything
        shutil.copyfile(PARSE_STATE, target_path / PARSE_STATE.name)


def _keep_parse(target_path: Path) -> None:
    """Save an invocation's parse state for the next one (an atomic rename: concurrent builds never see half a file)."""
    produced = target_path / PARSE_STATE.name
    if not produced.exists():
        return
    try:
        PARSE_STATE.parent.mkdir(exist_ok=True)
        staged = PARSE_STATE.with_name(f"{PARSE_STATE.name}.{os.getpid()}.{time.monotonic_ns()}")
        shutil.copyfile(produced, staged)
        os.replace(staged, PARSE_STATE)
    except OSError:
        pass  # a read-only checkout: the next build parses again


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
