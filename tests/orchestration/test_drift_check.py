"""The drift check: a mart row the incremental path left wrong fails the check loudly, and is repaired."""

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from dagster import AssetCheckEvaluation, DagsterInstance

from tests.orchestration.conftest import Warehouse, fetch


def run_check(warehouse: Warehouse, instance: DagsterInstance) -> AssetCheckEvaluation:
    """One run of ``drift_check_job`` against the warehouse; the check's evaluation."""
    from orchestration.definitions import build_definitions

    defs = build_definitions(warehouse.url)
    result = defs.resolve_job_def("drift_check_job").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success, result.all_events[-1].message
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "marts_match_source"
    return evaluation


def metadata(evaluation: AssetCheckEvaluation) -> dict[str, Any]:
    return {key: value.value for key, value in evaluation.metadata.items()}


def test_a_mart_row_out_of_step_with_the_source_fails_the_check_and_is_repaired(
    warehouse: Warehouse, instance: DagsterInstance
) -> None:
    day = datetime.now(UTC).date() - timedelta(days=3)  # inside the check's window (the last closed dates)
    with psycopg.connect(warehouse.url) as conn:
        conn.execute("delete from pulse_state.source_changes")  # nothing waits to be built
        row = conn.execute(
            "select user_id, total_scheduled_minutes from analytics.analytics_daily_metrics"
            " where date = %s order by user_id limit 1",
            (day,),
        ).fetchone()
        assert row is not None, "the seed gives every user rows on recent dates"
        user_id, minutes = row
        conn.execute(  # drift: what a lost change would leave behind
            "update analytics.analytics_daily_metrics set total_scheduled_minutes = total_scheduled_minutes + 7"
            " where user_id = %s and date = %s",
            (user_id, day),
        )
    failed = run_check(warehouse, instance)
    assert not failed.passed
    assert failed.severity.value == "ERROR"
    found = metadata(failed)
    assert found["drifted_user_days"] == 1 and found["drifted_users"] == 1
    assert f"{user_id} {day}" in found["sample"]
    repaired = fetch(
        warehouse.url,
        "select total_scheduled_minutes from analytics.analytics_daily_metrics where user_id = %s and date = %s",
        (user_id, day),
    )
    assert repaired == [(minutes,)]  # the check's rebuild put the row right
    again = run_check(warehouse, instance)
    assert again.passed and metadata(again)["drifted_user_days"] == 0
