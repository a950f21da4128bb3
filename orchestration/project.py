"""The dbt project as Dagster sees it: dbt_project/ with its profiles.yml beside it.

The manifest (dbt_project/target/manifest.json) is built ahead by ``dbt parse``:
``prepare_manifest`` below, called by ``pulse build``, ``pulse refresh`` and
``pulse ui`` when it is missing or older than the dbt sources, by the test
session fixture, and by the image build. Nothing parses on import, not even
under ``dagster dev`` (dagster-dbt's ``prepare_if_dev`` would re-parse in every
run worker, adding seconds to each sensor run): after editing models while
``pulse ui`` runs, restart it.

The parse runs with the connection of the database the builds will use: dbt keeps
its parse state (target/partial_parse.msgpack, which every build starts from) only
for the profile it was made with, so a parse with another connection made every
later dbt call print "Unable to do partial parsing because profile has changed"
and parse the whole project again.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from pulse.dbt import DBT_PROJECT_DIR, dbt_env, dbt_executable, profile_stamp

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _sources_newer_than(path: Path) -> bool:
    """Whether any dbt source file (SQL, YAML, the project file) changed after ``path`` was written."""
    if not path.exists():
        return True
    built = path.stat().st_mtime
    folders = [DBT_PROJECT_DIR / name for name in ("models", "macros", "tests", "seeds", "snapshots")]
    files = [DBT_PROJECT_DIR / "dbt_project.yml", *(f for d in folders if d.exists() for f in d.rglob("*"))]
    return any(f.is_file() and f.stat().st_mtime > built for f in files)


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest is missing, older than the dbt sources or parsed for another database."""
    from pulse.database import database_url

    manifest = Path(dbt_project.manifest_path)
    env = dbt_env(database_url())
    stamp_file = manifest.with_name("pulse_parse_profile.txt")
    stamp = profile_stamp(env)
    parsed_for = stamp_file.read_text() if stamp_file.exists() else None
    if force or parsed_for != stamp or _sources_newer_than(manifest):
        completed = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
        if completed.returncode != 0:
            detail = " ".join((completed.stdout + completed.stderr).split())[-300:]
            raise RuntimeError(f"dbt parse failed: {detail}")
        stamp_file.write_text(stamp)
    return manifest
