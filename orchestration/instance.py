"""Which Dagster instance Pulse's commands use: ``DAGSTER_HOME`` when set, else one inside the checkout.

See the comment at the top of dagster.yaml: that file is the production
instance (PostgreSQL storage); without ``DAGSTER_HOME`` Pulse uses
``.pulse/dagster_home`` with the same file minus its ``storage`` section, so
runs, events and schedules are kept in SQLite there and need no server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]
from dagster import DagsterInstance

from pulse import REPO_ROOT
from pulse.settings import get_settings

PRODUCTION_INSTANCE_YAML = REPO_ROOT / "dagster.yaml"
LOCAL_HEADER = (
    "# Written by Pulse (orchestration/instance.py) from the checkout's dagster.yaml without its\n"
    "# `storage` section: runs, events and schedules are kept in SQLite files in this folder.\n"
)


def local_instance_config() -> dict[str, Any]:
    """The production instance settings without PostgreSQL storage (Dagster's SQLite default)."""
    config: dict[str, Any] = yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())
    config.pop("storage", None)
    return config


def local_dagster_home() -> Path:
    """``.pulse/dagster_home`` (under Pulse's data folder), with an up-to-date local dagster.yaml in it."""
    home = get_settings().data_dir.resolve() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    text = LOCAL_HEADER + yaml.safe_dump(local_instance_config(), sort_keys=False)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return home


def ensure_dagster_home() -> Path:
    """Set ``DAGSTER_HOME`` for this process and its children when unset; return the folder in use."""
    configured = os.environ.get("DAGSTER_HOME")
    if configured:
        return Path(configured)
    home = local_dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def get_instance() -> DagsterInstance:
    """The persistent Dagster instance the CLI records its runs in (the UI shows the same one)."""
    ensure_dagster_home()
    return DagsterInstance.get()
