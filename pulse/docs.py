"""``pulse docs``: dbt's documentation site of the warehouse, generated and served locally, offline.

``dbt docs generate`` writes the site (one ``index.html`` plus the manifest and the catalog it reads
from the same origin) into Pulse's data folder, for the selected database. dbt's page would load
a tracking script from a CDN when the manifest allows anonymous usage stats: Pulse generates with
them off and removes the tracker's address from the page, then checks that no script, stylesheet
or image of the page comes from another host, so the site works where nothing outside answers.
It is served by Python's own HTTP server on loopback until Ctrl-C.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pulse.dbt import DBT_PROJECT_DIR, DbtBuildError, dbt_env, dbt_executable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
# The snowplow loader dbt's page inserts when tracking is on (dbt-core's docs/index.html).
TRACKER_SCRIPT = re.compile(r'"(?:https?:)?//[a-z0-9.-]+\.cloudfront\.net/[0-9.]+/sp\.js"')
# What a browser would fetch by itself: src/href attributes and CSS url(...) with a host of their own.
LOADED_FROM_ELSEWHERE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']|url\(\s*["']?)((?:https?:)?//[^"')\s]+)""", re.IGNORECASE
)


class DocsError(RuntimeError):
    """The docs could not be generated; one line saying why."""


def docs_folder(data_dir: Path) -> Path:
    """Where the site is written: ``dbt_docs`` in Pulse's data folder."""
    return data_dir.resolve() / "dbt_docs"


LOOPBACK = re.compile(r"^(?:https?:)?//(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/]|$)", re.IGNORECASE)


def outside_resources(html: str) -> list[str]:
    """Addresses on other hosts that the page would load (scripts, stylesheets, images, fonts).

    Loopback addresses are this machine (AngularJS sets ``href="http://[::1]"`` on a detached link
    to test how the browser parses URLs; nothing is fetched).
    """
    found = set(LOADED_FROM_ELSEWHERE.findall(html)) | set(TRACKER_SCRIPT.findall(html))
    return sorted(address for address in found if not LOOPBACK.match(address))


def make_offline(index: Path) -> None:
    """Remove the tracker's address from the page; DocsError when anything else would still load from outside."""
    html = TRACKER_SCRIPT.sub('""', index.read_text())
    index.write_text(html)
    outside = outside_resources(html)
    if outside:
        raise DocsError(f"{index} loads {outside[0]} from another host: dbt's docs page changed; not served")


def generate_docs(url: str, folder: Path, progress: Callable[[str], None] = print) -> Path:
    """``dbt docs generate`` for the database of ``url`` into ``folder``; the path of its index.html."""
    if folder.exists():
        shutil.rmtree(folder)
    env = {**os.environ, **dbt_env(url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    command = [dbt_executable(), "--quiet", "docs", "generate", "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(folder), "--log-path", str(folder)]
    progress(f"generating dbt's docs of the warehouse into {folder}")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        raise DbtBuildError(f"dbt docs generate failed: {(errors or lines or ['no output'])[-1]}")
    index = folder / "index.html"
    if not index.exists():
        raise DocsError(f"dbt docs generate wrote no {index}")
    make_offline(index)
    return index


def docs_server(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server of ``folder`` on ``host:port`` (not started); OSError when the port is taken."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    handler = functools.partial(QuietHandler, directory=str(folder))
    return ThreadingHTTPServer((host, port), handler)


def serve_docs(folder: Path, host: str, port: int, progress: Callable[[str], None] = print) -> None:
    """Serve the site until Ctrl-C (KeyboardInterrupt ends it)."""
    try:
        server = docs_server(folder, host, port)
    except OSError as exc:
        reason = "already in use" if exc.errno == 98 else exc.strerror or str(exc)
        raise DocsError(f"--port {port}: port {reason} on {host} (pass another --port)") from exc
    with server:
        progress(f"dbt docs: http://{host}:{server.server_address[1]}  (offline; Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            progress("stopped the docs server")
