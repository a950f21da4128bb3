"""Debian's Chromium driven by Playwright: the one browser setup of the e2e tests and the Dagster screenshots.

No browser is downloaded: Playwright launches /usr/bin/chromium (``make chromium`` installs the Debian
package when it is missing). Playwright is a dev dependency (``make install`` installs it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# --disable-background-networking and friends: Chromium's own connections are refused on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = "no /usr/bin/chromium: install Debian's chromium package (make chromium: apt-get install chromium)"


class NoChromium(RuntimeError):
    """Debian's Chromium is not installed."""


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium; NoChromium (one line saying what to install) when it is missing."""
    if not CHROMIUM.exists():
        raise NoChromium(MISSING_CHROMIUM)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
