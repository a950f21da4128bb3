"""A partition range materialized in process: one dbt invocation, checks passing, same rows again (idempotent)."""

from datetime import timedelta

import psycopg
from dagster import DagsterEventType, DagsterInstance, materialize

from orchestration.partitions import partition_range_tags
from tests.orchestration.conftest import Warehouse, fetch

METRICS = (
    "select user_id, date, total_scheduled_minutes, focus_minutes, focus_available_minutes, completed_tasks_count,"
    " tasks_due_count, tasks_due_completed_count, category_minutes from analytics.analytics_daily_metrics"
    " order by user_id, date"
)


def test_a_week_is_one_dbt_build_with_every_check_passing(warehouse: Warehouse, instance: DagsterInstance) -> None:
    from orchestration.assets.dbt import daily_dbt_models
    from orchestration.resources import pulse_resources

    first, last = warehouse.monday, warehouse.monday + timedelta(days=6)
    rows_before = fetch(warehouse.url, METRICS)
    with psycopg.connect(warehouse.url, autocommit=True) as conn:  # small tables: ANALYZE counts every row
        conn.execute("analyze analytics.analytics_daily_metrics")
    builds_before = fetch(warehouse.url, "select count(*) from analytics.mart_build_log")[0][0]

    result = materialize(
        [daily_dbt_models],
        instance=instance,
        resources=pulse_resources(warehouse.url),
        tags=partition_range_tags(first, last),
    )

    assert result.success
    steps = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_START]
    assert [e.step_key for e in steps] == ["daily_dbt_models"]
    # One dbt invocation: exactly one new build-log row, for the half-open range of the whole week.
    builds = fetch(
        warehouse.url,
        "select start_date, end_date from analytics.mart_build_log order by built_at desc, start_date",
    )
    assert len(builds) == builds_before + 1
    assert builds[0] == (first, last + timedelta(days=1))
    # Every daily asset got all seven partitions from that one run.
    week = {(first + timedelta(days=n)).isoformat() for n in range(7)}
    by_asset: dict[str, set[str]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        by_asset.setdefault(materialization.asset_key.to_user_string(), set()).add(materialization.partition or "")
    assert by_asset["analytics/analytics_daily_metrics"] == week
    assert all(partitions == week for partitions in by_asset.values())
    # Tables carry PostgreSQL's row estimate (exact after the ANALYZE of a small table); views carry none. A
    # daily table's is the whole table's, so not under dagster/row_count, which the UI shows as the partition's.
    materializations = [e.step_materialization_data.materialization for e in result.get_asset_materialization_events()]
    daily = [m for m in materializations if m.asset_key.to_user_string() == "analytics/analytics_daily_metrics"]
    total = fetch(warehouse.url, "select count(*) from analytics.analytics_daily_metrics")[0][0]
    assert total > 0 and [m.metadata["pulse/table_row_estimate"].value for m in daily] == [total] * 7
    assert not any("dagster/row_count" in m.metadata for m in materializations)
    # dbt tests ran as asset checks, every one of them passed.
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    expected = daily_dbt_models.check_keys
    assert {c.asset_check_key for c in checks} == set(expected)
    assert all(c.passed for c in checks)
    # Rebuilding a range gives the same rows.
    assert fetch(warehouse.url, METRICS) == rows_before
