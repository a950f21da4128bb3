"""Pulse's Dagster definitions: only assembles assets, checks, jobs, schedules, the sensor and resources.

Load with ``dagster dev -m orchestration.definitions`` (what ``pulse ui`` runs)
after ``dbt parse`` has written dbt_project/target/manifest.json.
"""

from __future__ import annotations

from dagster import Definitions

from orchestration.alerts import alert_on_run_failure
from orchestration.assets.dbt import daily_dbt_models, unpartitioned_dbt_models
from orchestration.assets.drift_check import drift_check_job, marts_match_source, nightly_drift_check
from orchestration.freshness import dbt_source_freshness, source_freshness_job, source_freshness_schedule
from orchestration.jobs import daily_marts_job, unpartitioned_job, warehouse_job
from orchestration.resources import pulse_resources
from orchestration.schedules import hourly_open_dates, nightly_closed_dates
from orchestration.sensors import source_change_sensor


def build_definitions(database_url: str | None = None) -> Definitions:
    """The definitions; ``database_url`` only for tests that build a database of their own."""
    return Definitions(
        assets=[daily_dbt_models, unpartitioned_dbt_models],
        asset_checks=[dbt_source_freshness, marts_match_source],
        jobs=[daily_marts_job, warehouse_job, unpartitioned_job, source_freshness_job, drift_check_job],
        schedules=[nightly_closed_dates, hourly_open_dates, source_freshness_schedule, nightly_drift_check],
        sensors=[source_change_sensor, alert_on_run_failure],
        resources=pulse_resources(database_url),
    )


defs = build_definitions()
