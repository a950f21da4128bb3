"""Builds the front end (``web/`` -> ``web/dist``) when it is missing or older than its sources: ``npm ci`` when
the installed packages do not match ``package-lock.json``, then ``npm run build``. ``pulse demo`` calls it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from pulse import REPO_ROOT

WEB_DIR = REPO_ROOT / "web"
SOURCES = ("src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")
BUILD_TIMEOUT_SECONDS = 600


class WebBuildError(RuntimeError):
    """The front end could not be built; the message is one line saying why."""


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
        elif path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def is_stale(web_dir: Path = WEB_DIR, dist: Path | None = None) -> bool:
    """Whether ``dist/index.html`` is missing or older than a source file of the front end."""
    index = (dist or web_dir / "dist") / "index.html"
    if not index.is_file():
        return True
    return _newest_mtime([web_dir / name for name in SOURCES]) > index.stat().st_mtime


def _packages_stale(web_dir: Path) -> bool:
    installed = web_dir / "node_modules" / ".package-lock.json"
    return not installed.is_file() or (web_dir / "package-lock.json").stat().st_mtime > installed.stat().st_mtime


def _npm(args: list[str], web_dir: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise WebBuildError("npm not found: install Node.js 20 and npm to build the front end (web/)")
    try:
        done = subprocess.run(
            [npm, *args], cwd=web_dir, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WebBuildError(f"'npm {' '.join(args)}' took over {BUILD_TIMEOUT_SECONDS} s in {web_dir}") from exc
    if done.returncode != 0:
        last = next((line for line in reversed((done.stderr + done.stdout).splitlines()) if line.strip()), "")
        raise WebBuildError(f"'npm {' '.join(args)}' failed in {web_dir}: {last.strip()}")


def ensure_built(progress: Callable[[str], None], web_dir: Path = WEB_DIR) -> bool:
    """Build the front end when it is missing or stale; True when it built."""
    if not is_stale(web_dir):
        return False
    if _packages_stale(web_dir):
        progress("installing the front end's packages (npm ci)")
        _npm(["ci", "--no-audit", "--no-fund"], web_dir)
    progress("building the front end (npm run build)")
    _npm(["run", "build"], web_dir)
    return True
