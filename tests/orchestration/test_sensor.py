"""The change sensor through build_sensor_context against built marts: exactly the dates that changed."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from dagster import DagsterInstance, RunRequest, SensorResult, SkipReason, build_sensor_context, job, op

from orchestration.partitions import partition_range_tags
from tests.orchestration.conftest import (
    BURST_TASKS,
    TASK_MONDAY,
    TASK_TUESDAY,
    USER_MOVER,
    Warehouse,
    _slot,
    fetch,
)

START = "dagster/asset_partition_range_start"
END = "dagster/asset_partition_range_end"


@pytest.fixture
def tick(warehouse: Warehouse, instance: DagsterInstance) -> Iterator[Any]:
    """Evaluate a sensor (bound 3 changes per tick, no settling delay) once with a given cursor."""
    from orchestration.resources import PulseDatabase
    from orchestration.sensors import build_change_sensor

    sensor_def = build_change_sensor(
        name="test_change_sensor", max_changes_per_tick=3, settle_seconds=0, retry_grace_seconds=0, merge_gap_days=0
    )

    def evaluate(cursor: str | None) -> SensorResult | SkipReason:
        with build_sensor_context(
            instance=instance, cursor=cursor, resources={"database": PulseDatabase(url=warehouse.url)}
        ) as context:
            outcome = sensor_def(context)
        assert isinstance(outcome, SensorResult | SkipReason)
        return outcome

    yield evaluate


def cursor_now(url: str) -> str:
    """A cursor just before any change made from now on."""
    from orchestration.sensors import ChangePosition

    return ChangePosition(fetch(url, "select now() - interval '1 millisecond'")[0][0]).to_cursor()


def execute(url: str, statement: str, params: Any = None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement, params)


def requested_dates(requests: list[RunRequest]) -> set[date]:
    """Every date the ranged requests cover."""
    dates = set()
    for request in requests:
        if START in request.tags:
            first, last = date.fromisoformat(request.tags[START]), date.fromisoformat(request.tags[END])
            dates |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
    return dates


def ranged(result: SensorResult | SkipReason) -> list[RunRequest]:
    assert isinstance(result, SensorResult), result
    return [r for r in result.run_requests or [] if START in r.tags]


def rebuild(warehouse: Warehouse, dates: set[date]) -> None:
    """Run what the sensor asked for, so the marts record where the tasks are now."""
    from dagster import materialize

    from orchestration.assets.dbt import daily_dbt_models
    from orchestration.resources import pulse_resources

    result = materialize(
        [daily_dbt_models],
        resources=pulse_resources(warehouse.url),
        tags=partition_range_tags(min(dates), max(dates)),
    )
    assert result.success


def test_a_slot_moved_from_monday_to_wednesday_rebuilds_both_dates(warehouse: Warehouse, tick: Any) -> None:
    monday, wednesday = warehouse.monday, warehouse.monday + timedelta(days=2)
    cursor = cursor_now(warehouse.url)
    execute(
        warehouse.url,
        "update app.tasks set scheduled_slots = jsonb_build_array(%s::jsonb), updated_at = now() where task_id = %s",
        (psycopg.types.json.Jsonb(_slot(wednesday, 10)), TASK_MONDAY),
    )
    result = tick(cursor)
    requests = ranged(result)
    assert requested_dates(requests) == {monday, wednesday}
    # Two separate dates: two ranged runs, not the three days between them.
    assert sorted((r.tags[START], r.tags[END]) for r in requests) == [
        (monday.isoformat(), monday.isoformat()),
        (wednesday.isoformat(), wednesday.isoformat()),
    ]
    assert all(r.job_name == "daily_marts_job" and r.run_key for r in requests)
    # Once the marts are rebuilt, the task is only on Wednesday: the left date is no longer in fct_task_dates.
    rebuild(warehouse, {monday, wednesday})
    placed = fetch(warehouse.url, "select date from analytics.fct_task_dates where task_id = %s", (TASK_MONDAY,))
    assert placed == [(wednesday,)]


def test_a_deleted_task_rebuilds_the_dates_it_was_on(warehouse: Warehouse, tick: Any) -> None:
    tuesday = warehouse.monday + timedelta(days=1)
    cursor = cursor_now(warehouse.url)
    execute(
        warehouse.url, "update app.tasks set deleted_at = now(), updated_at = now() where task_id = %s", (TASK_TUESDAY,)
    )
    assert requested_dates(ranged(tick(cursor))) == {tuesday}


def test_a_time_zone_change_rebuilds_that_users_history(warehouse: Warehouse, tick: Any) -> None:
    cursor = cursor_now(warehouse.url)
    execute(
        warehouse.url,
        "update app.users set timezone = 'Pacific/Kiritimati', updated_at = now() where user_id = %s",
        (USER_MOVER,),
    )
    dates = requested_dates(ranged(tick(cursor)))
    # The mover's tasks sit at 12:00 UTC on five days: at UTC+14 each is on the next date.
    history = {warehouse.monday + timedelta(days=n) for n in range(6)}
    assert dates == history


def test_a_goal_change_rebuilds_the_users_today(warehouse: Warehouse, tick: Any) -> None:
    """Goal snapshots are daily models: a run of any range recomputes a changed goal whole; the user's today."""
    cursor = cursor_now(warehouse.url)
    execute(
        warehouse.url,
        "insert into app.goals (user_id, name, target_type, target_value, time_period)"
        " values (%s, 'focus', 'minutes', 120, 'weekly')",
        (USER_MOVER,),
    )
    result = tick(cursor)
    with psycopg.connect(warehouse.url) as conn:
        today = conn.execute(
            "select local_today from analytics.user_local_today where user_id = %s", (USER_MOVER,)
        ).fetchone()[0]
    (request,) = ranged(result)
    assert (request.tags[START], request.tags[END]) == (today.isoformat(), today.isoformat())
    assert isinstance(result, SensorResult) and len(result.run_requests or []) == 1


def test_evaluating_twice_requests_nothing_twice(warehouse: Warehouse, tick: Any) -> None:
    cursor = cursor_now(warehouse.url)
    execute(warehouse.url, "update app.tasks set updated_at = now() where task_id = %s", (BURST_TASKS[0],))
    first = tick(cursor)
    again = tick(cursor)  # a re-evaluation of the same tick (e.g. after a daemon restart): the same run keys
    assert isinstance(first, SensorResult) and isinstance(again, SensorResult)
    assert [r.run_key for r in first.run_requests or []] == [r.run_key for r in again.run_requests or []]
    assert len({r.run_key for r in first.run_requests or []}) == len(first.run_requests or [])
    following = tick(first.cursor)  # the next tick, from the stored cursor: nothing new
    assert isinstance(following, SkipReason)


def test_a_burst_is_spread_over_ticks_and_nothing_is_lost(warehouse: Warehouse, tick: Any) -> None:
    cursor = cursor_now(warehouse.url)
    # Seven tasks changed in one transaction: all seven share one updated_at (the tiebreak keeps them apart).
    execute(warehouse.url, "update app.tasks set updated_at = now() where task_id = any(%s::uuid[])", (BURST_TASKS,))
    expected = {warehouse.monday + timedelta(days=2 * n) for n in range(len(BURST_TASKS))}
    seen: set[date] = set()
    keys: list[str] = []
    ticks = 0
    while True:
        result = tick(cursor)
        if isinstance(result, SkipReason):
            break
        ticks += 1
        requests = ranged(result)
        assert len(requested_dates(requests)) <= 3  # at most three changed tasks per tick, one date each
        seen |= requested_dates(requests)
        keys += [r.run_key or "" for r in result.run_requests or []]
        assert result.cursor is not None and result.cursor != cursor
        cursor = result.cursor
    assert ticks == 3  # 3 + 3 + 1
    assert seen == expected
    assert len(keys) == len(set(keys))


def test_a_run_that_failed_for_good_is_requested_again(
    warehouse: Warehouse, tick: Any, instance: DagsterInstance
) -> None:
    @op
    def dbt_build_that_fails() -> None:
        raise RuntimeError("the database went away")

    @job
    def daily_marts_job() -> None:
        dbt_build_that_fails()

    tags = {**partition_range_tags(warehouse.monday, warehouse.monday), "pulse/trigger": "change"}
    failed = daily_marts_job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert not failed.success
    result = tick(cursor_now(warehouse.url))
    assert isinstance(result, SensorResult)
    (request,) = result.run_requests or []
    assert request.run_key == f"resubmit:{failed.run_id}"
    assert (request.tags[START], request.tags[END], request.tags["pulse/attempt"]) == (
        warehouse.monday.isoformat(),
        warehouse.monday.isoformat(),
        "1",
    )


def test_nothing_is_read_while_a_run_may_still_write_the_marts(
    warehouse: Warehouse, tick: Any, instance: DagsterInstance
) -> None:
    from dagster import DagsterRunStatus
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._core.utils import make_new_run_id

    in_flight = instance.add_run(
        DagsterRun(job_name="daily_marts_job", run_id=make_new_run_id(), status=DagsterRunStatus.STARTED)
    )
    cursor = cursor_now(warehouse.url)
    execute(warehouse.url, "update app.tasks set updated_at = now() where task_id = %s", (BURST_TASKS[2],))
    waiting = tick(cursor)
    assert isinstance(waiting, SkipReason) and in_flight.run_id in (waiting.skip_message or "")
    instance.delete_run(in_flight.run_id)  # the run finished
    assert requested_dates(ranged(tick(cursor))) == {warehouse.monday + timedelta(days=4)}


def test_dates_close_together_share_one_run() -> None:
    from orchestration.sensors import contiguous_ranges

    monday = date(2026, 11, 16)
    touched = [monday, monday + timedelta(days=2), monday + timedelta(days=40)]
    assert contiguous_ranges(touched) == [(monday, monday), (touched[1], touched[1]), (touched[2], touched[2])]
    assert contiguous_ranges(touched, merge_gap_days=31) == [(monday, touched[1]), (touched[2], touched[2])]
    assert contiguous_ranges([monday, monday + timedelta(days=1)]) == [(monday, monday + timedelta(days=1))]
