"""The jobs that schedules, the change sensor and ``pulse build`` launch, by asset selection.

Selections use the dbt tag ``daily`` (dagster-dbt turns dbt tags into asset tags
with the value ``""``), so this module needs no dbt manifest. Every job carries
``WAREHOUSE_TAG`` so the run queue (dagster.yaml) launches at most one of them
at a time; the ``dbt_warehouse`` pool on the dbt ops (assets/dbt.py) covers runs
launched any other way (a backfill from the asset graph, ``pulse build``).
The steps of a run are dbt invocations that run one after another anyway, so
the jobs execute in process: no extra Python process (and its import time) per
step.
"""

from __future__ import annotations

from dagster import AssetCheckKey, AssetKey, AssetSelection, define_asset_job, in_process_executor

WAREHOUSE_TAG = {"pulse/warehouse": "dbt"}

DAILY_SELECTION = AssetSelection.tag("daily", "")
# The drift check (assets/drift_check.py) rebuilds a week itself: it runs in drift_check_job only, never as a
# check of every job that selects its asset.
DRIFT_CHECK = AssetSelection.checks(
    AssetCheckKey(AssetKey(["analytics", "analytics_daily_metrics"]), "marts_match_source")
)

# The date-partitioned marts of a date range and what is built from them (goal snapshots).
daily_marts_job = define_asset_job(
    name="daily_marts_job",
    selection=DAILY_SELECTION.downstream() - DRIFT_CHECK,
    tags=WAREHOUSE_TAG,
    executor_def=in_process_executor,
    description="Rebuild a range of local dates of the daily marts (one dbt invocation), then what depends on them.",
)

# Every dbt model: the views, the daily marts of a date range, the unpartitioned marts.
warehouse_job = define_asset_job(
    name="warehouse_job",
    selection=AssetSelection.all() - DRIFT_CHECK,
    tags=WAREHOUSE_TAG,
    executor_def=in_process_executor,
    description="Build the whole warehouse for a range of local dates (what `pulse build` runs).",
)

# The unpartitioned models only (goal snapshots, dimensions); the sensor narrows it per change.
unpartitioned_job = define_asset_job(
    name="unpartitioned_job",
    selection=AssetSelection.all() - DAILY_SELECTION - DRIFT_CHECK,
    tags=WAREHOUSE_TAG,
    executor_def=in_process_executor,
    description="Rebuild the unpartitioned models (e.g. goal snapshots after a goal changed).",
)
