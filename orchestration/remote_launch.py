"""Launch a run of Pulse's code location the way the Dagster UI does, from the command line.

A run made by ``execute_in_process`` has no code location (no remote job
origin): the UI's job page, which asks for the runs of the job in its
repository (tag ``.dagster/repository``), says "No runs found", and the
overview timeline, which groups runs by their repository origin, leaves them
out (dagster issue 17707). A run made through the GraphQL API's ``launchRun``
mutation against the code location has both. So ``pulse build`` and ``pulse
refresh`` run dagster-graphql's documented command line (``dagster-graphql -m
orchestration.definitions``: the same location name as ``dagster dev``, the
webserver and the daemon), which loads the location in a code server, creates
the run there and submits it; the run is tagged ``pulse/launch=now``, which
the instance's run coordinator (orchestration/run_coordinator.py) hands to the
run launcher at once, so it runs whether a daemon runs or not. The run
executes in a run worker process of that code server; the command follows it
through the instance (orchestration/launch.py) and stops it on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil
from dagster import AssetKey, DagsterInstance, RunsFilter

from orchestration.run_coordinator import LAUNCH_NOW, LAUNCH_TAG
from pulse import REPO_ROOT

LOCATION_MODULE = "orchestration.definitions"
LOCATION_NAME = LOCATION_MODULE  # what `dagster dev -m orchestration.definitions` names the location
REPOSITORY_NAME = "__repository__"  # Dagster's name for the repository of a Definitions object
LAUNCH_ID_TAG = "pulse/launch_id"  # finds the run when the launching command was interrupted
GRPC_INFO_TAG = ".dagster/grpc_info"  # where the run launcher says which code server runs the run
LAUNCH_MUTATION = """
mutation PulseLaunch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
  }
}
"""
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class LaunchFailed(RuntimeError):
    """The run could not be created or launched; the message is one line saying why."""


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor codes."""
    return ANSI_ESCAPE.sub("", text)


def launch_variables(
    job_name: str, tags: Mapping[str, str], asset_selection: Sequence[AssetKey] | None
) -> dict[str, Any]:
    """The ``launchRun`` variables: the job in Pulse's location, its asset selection and the run's tags."""
    selector: dict[str, Any] = {
        "repositoryLocationName": LOCATION_NAME,
        "repositoryName": REPOSITORY_NAME,
        "jobName": job_name,
    }
    if asset_selection:
        selector["assetSelection"] = [{"path": list(key.path)} for key in asset_selection]
    return {
        "executionParams": {
            "selector": selector,
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
    }


class RunWorkerOutput:
    """Reads what the launcher, its code server and the run worker print (one pipe they share).

    ``echo`` gets each line (colour codes stripped unless it goes to a terminal), for ``--verbose``; the last
    lines are kept to explain a launch that failed.
    """

    def __init__(self, pipe: Any, echo: Callable[[str], None] | None) -> None:
        self.tail: list[str] = []
        self._pipe = pipe
        self._echo = echo
        self._keep_colour = sys.stdout.isatty()
        self._thread = threading.Thread(target=self._read, daemon=True)  # the pipe closes when the worker exits
        self._thread.start()

    def _read(self) -> None:
        for raw in self._pipe:
            line = raw.rstrip("\n")
            plain = strip_ansi(line)
            self.tail = [*self.tail[-30:], plain]
            if self._echo is not None and plain.strip():
                self._echo(line if self._keep_colour else plain)

    def wait_closed(self, timeout: float) -> bool:
        """Wait until every process holding the pipe (launcher, code server, run worker) has exited."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def reason(self) -> str:
        """The last line that looks like an error, else the last line."""
        errors = [line for line in self.tail if "error" in line.lower() or "exception" in line.lower()]
        chosen = errors[-1] if errors else (self.tail[-1] if self.tail else "no output")
        return " ".join(chosen.split())[:400]


def stop_code_server(instance: DagsterInstance, run_id: str, output: RunWorkerOutput, timeout: float = 15.0) -> None:
    """Stop the code server the launcher started for a run that has ended, rather than let it linger.

    The launcher leaves its code server running until the run it started ends and the server next looks (up
    to a minute later); the server's socket is in the run's tags (``GRPC_INFO_TAG``, set by the run launcher).
    """
    run = instance.get_run_by_id(run_id)
    socket_path = json.loads(run.tags.get(GRPC_INFO_TAG, "{}")).get("socket") if run is not None else None
    if socket_path:
        for process in psutil.process_iter(attrs=("cmdline",)):
            words = process.info["cmdline"] or []
            if "grpc" in words and socket_path in words:
                with contextlib.suppress(psutil.Error):
                    process.terminate()
    output.wait_closed(timeout)


def find_launched_run(instance: DagsterInstance, launch_id: str) -> str | None:
    """The id of the run a launch created (None: none yet), by its ``LAUNCH_ID_TAG``."""
    records = instance.get_run_records(RunsFilter(tags={LAUNCH_ID_TAG: launch_id}), limit=1)
    return records[0].dagster_run.run_id if records else None


def launch_run(
    instance: DagsterInstance,
    job_name: str,
    tags: Mapping[str, str],
    launch_id: str,
    asset_selection: Sequence[AssetKey] | None = None,
    database_url: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> tuple[str, RunWorkerOutput]:
    """Create and launch a run of ``job_name`` in Pulse's code location on ``instance``; its id and its output.

    ``database_url`` (tests' own databases) reaches the run worker as ``DATABASE_URL``. Raises LaunchFailed
    with one line; on KeyboardInterrupt the launcher is stopped, and the caller finds a run it already created
    by ``launch_id`` (``find_launched_run``).
    """
    run_tags = {**tags, LAUNCH_TAG: LAUNCH_NOW, LAUNCH_ID_TAG: launch_id}
    env = {**os.environ, "DAGSTER_HOME": str(instance.root_directory), "NO_COLOR": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    graphql = Path(sys.executable).parent / "dagster-graphql"
    with tempfile.TemporaryDirectory(prefix="pulse-launch-") as scratch:
        answer = Path(scratch) / "launch.json"
        command = [
            str(graphql),
            "-m",
            LOCATION_MODULE,
            "-t",
            LAUNCH_MUTATION,
            "-v",
            json.dumps(launch_variables(job_name, run_tags, asset_selection)),
            "-o",
            str(answer),
        ]
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        output = RunWorkerOutput(process.stdout, echo)
        try:
            process.wait()
        except BaseException:
            process.terminate()
            process.wait()
            raise
        result = json.loads(answer.read_text()) if answer.exists() and answer.stat().st_size else None
    launched = (result or {}).get("data", {}).get("launchRun") or {}
    if launched.get("__typename") == "LaunchRunSuccess":
        return str(launched["run"]["runId"]), output
    run_id = find_launched_run(instance, launch_id)  # created, then refused by the launcher
    why = launched.get("message") or (result or {}).get("errors") or output.reason()
    why = " ".join(str(why).split())[:400]
    raise LaunchFailed(f"could not launch {job_name}{f' (run {run_id})' if run_id else ''}: {why}")
