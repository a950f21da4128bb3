"""The definitions load and hold every asset, check, job, schedule and sensor; the instance configs are valid."""

import os
from pathlib import Path

import pytest
import yaml
from dagster import AssetCheckKey, AssetKey, Definitions, QueuedRunCoordinator, instance_for_test
from dagster._core.definitions.backfill_policy import BackfillPolicyType

from orchestration.instance import PRODUCTION_INSTANCE_YAML, local_dagster_home, local_instance_config
from pulse.database import with_database

PUBLIC_MARTS = ["analytics_daily_metrics", "daily_category_metrics", "goal_progress_snapshots", "invalid_slots"]


def test_definitions_load_with_every_piece(dbt_manifest: Path) -> None:
    import json

    from orchestration.definitions import defs

    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    for mart in PUBLIC_MARTS:
        assert f"analytics/{mart}" in keys
    manifest = json.loads(dbt_manifest.read_text())
    models = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["materialized"] != "ephemeral"
    ]
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert len(keys) == len(models)  # every dbt model is an asset
    # Every dbt test of one model is an asset check of it (a singular test over several models has no one asset).
    # the drift check (Pulse's) and dbt source freshness (orchestration/freshness.py) are not dbt tests
    checks = {key.name for key in graph.asset_check_keys} - {"marts_match_source", "source_freshness"}
    assert {t["name"] for t in tests if t.get("attached_node")} <= checks <= {t["name"] for t in tests}
    assert AssetCheckKey(AssetKey(["analytics", "analytics_daily_metrics"]), "marts_match_source") in (
        graph.asset_check_keys
    )
    from orchestration.assets.dbt import translator

    daily = {translator.get_asset_key(n).to_user_string() for n in models if "daily" in n["tags"]}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert (node.partitions_def is not None) == (key.to_user_string() in daily)
    schedules = {s.name for s in defs.schedules or []}
    assert schedules == {"nightly_closed_dates", "hourly_open_dates", "hourly_source_freshness", "nightly_drift_check"}
    assert {s.name for s in defs.sensors or []} == {"source_change_sensor", "alert_on_run_failure"}
    for job in ("daily_marts_job", "warehouse_job", "unpartitioned_job", "drift_check_job"):
        assert defs.resolve_job_def(job).tags["pulse/warehouse"] == "dbt"


def test_assets_are_grouped_by_dbt_layer_with_owners(dbt_manifest: Path) -> None:
    import json

    from orchestration.assets.dbt import LAYER_OWNERS, translator
    from orchestration.definitions import defs

    models = [n for n in json.loads(dbt_manifest.read_text())["nodes"].values() if n["resource_type"] == "model"]
    graph = defs.resolve_asset_graph()
    groups = {}
    for model in models:
        spec = graph.get(translator.get_asset_key(model)).to_asset_spec()
        layer = model["original_file_path"].split("/")[1]  # models/<layer>/<name>.sql
        assert spec.group_name == layer, model["name"]
        assert list(spec.owners) == LAYER_OWNERS[layer], model["name"]
        groups[model["name"]] = spec.group_name
    assert set(groups.values()) == {"staging", "intermediate", "marts"}
    assert groups["analytics_daily_metrics"] == "marts"


def test_daily_assets_backfill_in_one_run_and_share_one_pool(dbt_manifest: Path) -> None:
    from orchestration.assets.dbt import DBT_POOL, daily_dbt_models, unpartitioned_dbt_models

    assert daily_dbt_models.backfill_policy is not None
    assert daily_dbt_models.backfill_policy.policy_type == BackfillPolicyType.SINGLE_RUN
    assert AssetKey(["analytics", "analytics_daily_metrics"]) in daily_dbt_models.keys
    assert AssetKey(["analytics", "goal_progress_snapshots"]) in daily_dbt_models.keys  # goal snapshots are daily
    assert AssetKey(["analytics", "invalid_slots"]) in unpartitioned_dbt_models.keys
    assert {node.pool for node in (daily_dbt_models.node_def, unpartitioned_dbt_models.node_def)} == {DBT_POOL}


def test_local_instance_has_the_production_limits_without_a_server() -> None:
    production = yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())
    assert production["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_POSTGRES_URL"}
    local = local_instance_config()
    assert "storage" not in local
    assert local["concurrency"] == production["concurrency"]
    assert local["run_retries"] == production["run_retries"]
    with instance_for_test(overrides=local) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 3
        assert instance.event_log_storage.supports_global_concurrency_limits
        # Dagster's run queue, except for the CLI's runs (orchestration/run_coordinator.py)
        assert type(instance.run_coordinator).__name__ == "PulseRunCoordinator"
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    home = local_dagster_home()
    assert home.is_relative_to(Path(__file__).resolve().parents[2]) or os.environ.get("PULSE_DATA_DIR")
    assert yaml.safe_load((home / "dagster.yaml").read_text()) == local


def test_production_instance_keeps_runs_in_postgresql(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dagster.yaml as production loads it: storage in PostgreSQL through the postgresql+psycopg2 scheme."""
    import shutil
    import uuid

    import psycopg
    from dagster import DagsterInstance, job, op
    from psycopg import sql

    from pulse.database import libpq_params

    name = f"pulse_t_dagster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        params = libpq_params(server_url)
        password = f":{params['password']}" if params["password"] else ""
        location = f"{params['host']}:{params['port']}" if not params["host"].startswith("/") else ""
        query = f"?host={params['host']}&port={params['port']}" if not location else ""
        url = f"postgresql+psycopg2://{params['user']}{password}@{location}/{name}{query}"
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", url)
        shutil.copy(PRODUCTION_INSTANCE_YAML, tmp_path / "dagster.yaml")

        @op
        def hello() -> int:
            return 1

        @job
        def tiny() -> None:
            hello()

        with DagsterInstance.from_config(str(tmp_path)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            assert instance.run_retries_max_retries == 3
            result = tiny.execute_in_process(instance=instance)
            assert instance.get_run_by_id(result.run_id) is not None
        with psycopg.connect(with_database(server_url, name)) as conn:
            assert conn.execute("select count(*) from runs").fetchone() == (1,)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
