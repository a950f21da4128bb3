"""``pulse ui``: the Dagster webserver and daemon for Pulse's definitions, stopped cleanly on Ctrl-C.

``dagster dev`` runs both (and the code server) in one process group. Started
from a script it ignores SIGINT unless SIGINT is reset to its default in the
child first, so the child resets it before exec; it runs in a session of its own,
and on Ctrl-C Pulse signals that group (by the PID of the process it started),
waits, and kills what is left.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from orchestration.instance import ensure_dagster_home
from orchestration.project import prepare_manifest
from pulse import REPO_ROOT

STOP_TIMEOUT_SECONDS = 30.0


def _reset_sigint() -> None:
    """Run in the child before exec: let SIGINT stop ``dagster dev`` again."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def dagster_dev_command(host: str, port: int, log_format: str = "colored") -> list[str]:
    """The ``dagster dev`` command line for Pulse's definitions.

    ``log_format`` is that of the webserver's and daemon's own logs: ``colored`` for a terminal; ``json`` for a
    file (Dagster's colored format writes colour codes whatever its output is).
    """
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "dev", "-m", "orchestration.definitions", "-h", host, "-p", str(port)]
    return [*command, "--log-format", log_format]


def stop_group(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """Stop the process group Pulse started (SIGINT, then SIGTERM, then SIGKILL) and wait for its leader."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)  # the group of the child started with start_new_session: its id is its PID
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            try:  # the leader is gone; make sure nothing it started is left in the group
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
        except subprocess.TimeoutExpired:
            continue


def run_ui(host: str, port: int, progress: Callable[[str], None] = print) -> int:
    """Start the webserver and daemon, print the address, stop everything on Ctrl-C; the exit code."""
    # Ctrl-C or SIGTERM stops everything, even when Pulse itself was started where SIGINT is ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    home = ensure_dagster_home()
    prepare_manifest()
    command = dagster_dev_command(host, port)
    process = subprocess.Popen(command, cwd=REPO_ROOT, preexec_fn=_reset_sigint, start_new_session=True)
    progress(f"Dagster UI: http://{host}:{port}  (webserver and daemon, pid {process.pid}, DAGSTER_HOME {home})")
    progress("press Ctrl-C to stop")
    try:
        while process.poll() is None:
            time.sleep(0.5)
        return process.returncode or 0
    except KeyboardInterrupt:
        progress("stopping the Dagster webserver and daemon ...")
        stop_group(process)
        progress("stopped")
        return 0
