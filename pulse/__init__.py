"""Pulse: analytics and goals back end of a task-scheduling app.

This package holds what the dbt project, the Dagster code and the API share:
settings, database selection (``DATABASE_URL`` or an embedded PostgreSQL), the
source DDL, the synthetic data generator and the ``pulse`` command line.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
