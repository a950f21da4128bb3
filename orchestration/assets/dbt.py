"""The dbt models as Dagster assets: the ``daily``-tagged models partitioned by local date, the rest not.

- ``daily_dbt_models``: every model tagged ``daily`` (pulse.dbt.DAILY_TAG), one
  partitioned multi-asset with ``BackfillPolicy.single_run()``, so a run or a
  backfill of any date range is ONE ``dbt build`` with ``start_date``/``end_date``
  from the range (orchestration.dbt_vars).
- ``unpartitioned_dbt_models``: everything else (views, goal snapshots, ...).
- dbt tests become asset checks (dagster-dbt's default, set explicitly below)
  and run in the same ``dbt build``.
- "now" for goal status: the op config ``as_of`` or the run tag ``pulse/as_of``
  (an ISO timestamp with offset); neither means the run's start time.
- Each op records its process in the run's tags when the run has none
  (orchestration/run_health.py reaps runs whose process died).
- Both ops take a slot of the ``dbt_warehouse`` pool (limit 1 in dagster.yaml),
  so no two dbt invocations ever build at the same time, however launched.
- The asset catalog groups the models by dbt layer (the folder under models/:
  staging, intermediate, marts), each with its owners (``LAYER_OWNERS``), and
  the tables of every run carry PostgreSQL's estimate of their rows
  (``pg_class.reltuples``, kept by ANALYZE), read with one catalog query per
  table instead of a ``count(*)`` of tables with millions of rows: as
  ``dagster/row_count`` on unpartitioned tables, and as
  ``pulse/table_row_estimate`` on the daily ones, where Dagster would show
  ``dagster/row_count`` as the rows of each date partition (it is the whole table's).
"""

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, Config, Failure, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets
from pydantic import Field

from orchestration.dbt_vars import dbt_vars_for_partition_range
from orchestration.partitions import daily_partitions
from orchestration.project import dbt_project
from orchestration.resources import PulseDbtCliResource
from orchestration.run_health import PID_TAG, process_tags
from pulse.database import connect, database_url
from pulse.dbt import DAILY_TAG, build_vars

DBT_POOL = "dbt_warehouse"
AS_OF_TAG = "pulse/as_of"
FULL_REFRESH_TAG = "pulse/full_refresh"

# Who answers for each layer's assets (Dagster shows them in the catalog and on each asset's page).
LAYER_OWNERS: dict[str, list[str]] = {
    "staging": ["team:pulse-warehouse"],
    "intermediate": ["team:pulse-warehouse"],
    "marts": ["team:pulse-warehouse", "team:pulse-analytics"],
}


class LayeredTranslator(DagsterDbtTranslator):
    """dagster-dbt's translator, with each model in the group of its dbt layer and that layer's owners."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The model's layer, the folder under models/ (staging, intermediate, marts); sources keep the default."""
        fqn: list[str] = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "model" and len(fqn) > 2:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """The owners of the model's layer."""
        return LAYER_OWNERS.get(self.get_group_name(dbt_resource_props) or "") or super().get_owners(dbt_resource_props)


translator = LayeredTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

# By schema and name, not the manifest's relation_name: that names the database the manifest was parsed
# against, and PostgreSQL refuses a reference to another database even inside to_regclass.
ROW_ESTIMATE_SQL = """
select greatest(c.reltuples, 0)::bigint
from pg_class as c
inner join pg_namespace as n on c.relnamespace = n.oid
where n.nspname = %(schema)s and c.relname = %(name)s and c.relkind in ('r', 'p', 'm') and c.reltuples >= 0
"""


ROW_COUNT_KEY = "dagster/row_count"  # the catalog's row count column: right for an unpartitioned table
TABLE_ESTIMATE_KEY = "pulse/table_row_estimate"  # a daily table's rows, every date: not one partition's


def with_row_estimates(events: Iterable[Any], dbt: PulseDbtCliResource) -> Iterator[Any]:
    """The run's events as they come, each table's Output carrying PostgreSQL's estimate of the table's rows.

    One catalog lookup per table built, on one connection: no ``count(*)`` over tables of millions of rows.
    A daily table's estimate is the whole table's, not its date partitions': it goes under its own key.
    """
    nodes: dict[str, dict[str, Any]] = _manifest()["nodes"]
    with contextlib.ExitStack() as stack:
        conn = None
        for event in events:
            unique_id = event.metadata.get("unique_id") if isinstance(event, Output) else None
            node = nodes.get(str(unique_id.value)) if unique_id is not None else None
            if node is None or node.get("config", {}).get("materialized") in ("view", "ephemeral"):
                yield event
                continue
            if conn is None:
                conn = stack.enter_context(connect(dbt.database_url or database_url(), autocommit=True))
            relation = {"schema": node["schema"], "name": node.get("alias") or node["name"]}
            row = conn.execute(ROW_ESTIMATE_SQL, relation).fetchone()
            key = TABLE_ESTIMATE_KEY if DAILY_TAG in node.get("tags", []) else ROW_COUNT_KEY
            yield event if row is None else event.with_metadata({**event.metadata, key: row[0]})


class DbtBuildConfig(Config):
    """Options of one dbt build (the launchpad shows them; tags can set them too)."""

    as_of: str | None = Field(
        default=None,
        description="'now' for goal status, ISO timestamp with offset (default: tag pulse/as_of, else now)",
    )
    full_refresh: bool = Field(default=False, description="rebuild incremental models from scratch (--full-refresh)")


def build_options(context: AssetExecutionContext, config: DbtBuildConfig) -> tuple[datetime | None, bool]:
    """The ``as_of`` instant and the full-refresh flag of this run, from the op config or the run tags.

    Also records the process executing the run (a daemon-launched one), so a later command or sensor tick can
    tell when it died (orchestration/run_health.py).
    """
    if PID_TAG not in context.run.tags:
        context.instance.add_run_tags(context.run.run_id, process_tags())
    text = config.as_of or context.run.tags.get(AS_OF_TAG)
    full_refresh = config.full_refresh or context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"
    if not text:
        return None, full_refresh
    try:
        as_of = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Failure(f"as_of {text!r} is not an ISO timestamp (e.g. 2026-03-08T12:00:00+00:00)") from exc
    if as_of.utcoffset() is None:
        raise Failure(f"as_of {text!r} needs a UTC offset (e.g. +00:00)")
    return as_of, full_refresh


def dbt_build_args(full_refresh: bool) -> list[str]:
    """``dbt build`` arguments (with ``--full-refresh`` when asked); the vars go by PulseDbtCliResource.build.

    dbt unit tests check the SQL, not the data: CI runs them (tests/warehouse), every build need not.
    """
    args = ["build", "--exclude-resource-type", "unit_test"]
    return [*args, "--full-refresh"] if full_refresh else args


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=f"tag:{DAILY_TAG}",
    name="daily_dbt_models",
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    pool=DBT_POOL,
)
def daily_dbt_models(context: AssetExecutionContext, dbt: PulseDbtCliResource, config: DbtBuildConfig) -> Iterator[Any]:
    """One ``dbt build`` of the daily models over the run's whole partition range."""
    as_of, full_refresh = build_options(context, config)
    key_range = context.partition_key_range
    dbt_vars = dbt_vars_for_partition_range(key_range, as_of)
    context.log.info(f"building local dates {key_range.start} to {key_range.end} with vars {dbt_vars}")
    invocation = dbt.build(dbt_build_args(full_refresh), dbt_vars, context=context)
    try:
        yield from with_row_estimates(invocation.stream(), dbt)
    finally:
        dbt.keep_parse(invocation)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=f"tag:{DAILY_TAG}",
    name="unpartitioned_dbt_models",
    dagster_dbt_translator=translator,
    pool=DBT_POOL,
)
def unpartitioned_dbt_models(
    context: AssetExecutionContext, dbt: PulseDbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """One ``dbt build`` of the selected unpartitioned models (all history; ``as_of`` for goal status)."""
    as_of, full_refresh = build_options(context, config)
    invocation = dbt.build(dbt_build_args(full_refresh), build_vars(None, None, as_of), context=context)
    try:
        yield from with_row_estimates(invocation.stream(), dbt)
    finally:
        dbt.keep_parse(invocation)


@lru_cache
def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(Path(dbt_project.manifest_path).read_text())
    return manifest


def _descendants(unique_ids: Iterable[str]) -> set[str]:
    """Every dbt node downstream of ``unique_ids`` (not including them)."""
    child_map: dict[str, list[str]] = _manifest()["child_map"]
    seen: set[str] = set()
    todo = [child for uid in unique_ids for child in child_map.get(uid, [])]
    while todo:
        uid = todo.pop()
        if uid not in seen:
            seen.add(uid)
            todo.extend(child_map.get(uid, []))
    return seen


def _model_key(unique_id: str) -> AssetKey:
    return translator.get_asset_key(_manifest()["nodes"][unique_id])


def rebuilt_tables_downstream(source_tables: Iterable[str], skip_daily_descendants: bool) -> set[AssetKey]:
    """The unpartitioned, non-view models a change of these ``app`` tables makes stale.

    Views read the source live and need no rebuild. With ``skip_daily_descendants``
    the models downstream of the daily models are left out: a ranged run of
    ``daily_marts_job`` rebuilds them already.
    """
    nodes: dict[str, dict[str, Any]] = _manifest()["nodes"]
    sources = [f"source.{_manifest()['metadata'].get('project_name', 'pulse')}.app.{table}" for table in source_tables]
    stale = {
        uid
        for uid in _descendants(sources)
        if uid.startswith("model.")
        and DAILY_TAG not in nodes[uid].get("tags", [])
        and nodes[uid].get("config", {}).get("materialized") not in ("view", "ephemeral")
    }
    if skip_daily_descendants:
        daily = [uid for uid, node in nodes.items() if uid.startswith("model.") and DAILY_TAG in node.get("tags", [])]
        stale -= _descendants(daily)
    return {_model_key(uid) for uid in stale}
