"""The change sensor through build_sensor_context against built marts: exactly the dates the queued changes touch."""

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from dagster import DagsterInstance, RunRequest, SensorResult, SkipReason, build_sensor_context, job, op

from orchestration.change_queue import BATCH_RUNS_TAG, BATCH_TAG
from orchestration.partitions import last_partition_date, partition_range_tags
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
    """Evaluate a sensor (at most 3 changes per batch) once; the queue starts empty."""
    from orchestration.resources import PulseDatabase
    from orchestration.sensors import build_change_sensor

    execute(warehouse.url, "delete from pulse_state.source_changes")

    def evaluate(grace_seconds: float = 120.0) -> SensorResult | SkipReason:
        sensor_def = build_change_sensor(
            name="test_change_sensor", max_changes_per_tick=3, grace_seconds=grace_seconds, merge_gap_days=0
        )
        resources = {"database": PulseDatabase(url=warehouse.url)}
        with build_sensor_context(instance=instance, resources=resources) as context:
            outcome = sensor_def(context)
        assert isinstance(outcome, SensorResult | SkipReason)
        return outcome

    yield evaluate
    execute(warehouse.url, "delete from pulse_state.source_changes")


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


def record_runs(instance: DagsterInstance, result: SensorResult | SkipReason, succeed: bool = True) -> None:
    """Stand-in runs of the requests (the daemon would launch the real ones), ending in success or failure."""
    assert isinstance(result, SensorResult), result

    @op
    def dbt_build() -> None:
        if not succeed:
            raise RuntimeError("the database went away")

    @job
    def daily_marts_job() -> None:
        dbt_build()

    for request in result.run_requests or []:
        tags: Mapping[str, str] = request.tags
        daily_marts_job.execute_in_process(instance=instance, tags=dict(tags), raise_on_error=False)


def queued(url: str) -> list[tuple[Any, ...]]:
    return fetch(url, "select table_name, batch is not null from pulse_state.source_changes order by change_id")


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
    execute(
        warehouse.url,
        "update app.tasks set scheduled_slots = jsonb_build_array(%s::jsonb), updated_at = now() where task_id = %s",
        (psycopg.types.json.Jsonb(_slot(wednesday, 10)), TASK_MONDAY),
    )
    result = tick()
    requests = ranged(result)
    assert requested_dates(requests) == {monday, wednesday}
    assert {(r.tags[BATCH_TAG], r.tags[BATCH_RUNS_TAG]) for r in requests} == {(requests[0].tags[BATCH_TAG], "2")}
    assert all((r.run_key or "").startswith(r.tags[BATCH_TAG]) for r in requests)
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
    execute(
        warehouse.url, "update app.tasks set deleted_at = now(), updated_at = now() where task_id = %s", (TASK_TUESDAY,)
    )
    assert requested_dates(ranged(tick())) == {tuesday}


def test_a_time_zone_change_rebuilds_that_users_history(warehouse: Warehouse, tick: Any) -> None:
    execute(
        warehouse.url,
        "update app.users set timezone = 'Pacific/Kiritimati', updated_at = now() where user_id = %s",
        (USER_MOVER,),
    )
    dates = requested_dates(ranged(tick()))
    # The mover's tasks sit at 12:00 UTC on five days: at UTC+14 each is on the next date.
    history = {warehouse.monday + timedelta(days=n) for n in range(6)}
    assert dates == history


def test_a_goal_change_rebuilds_the_users_today(warehouse: Warehouse, tick: Any) -> None:
    """Goal snapshots are daily models: a run of any range recomputes a changed goal whole; the user's today."""
    execute(
        warehouse.url,
        "insert into app.goals (user_id, name, target_type, target_value, time_period)"
        " values (%s, 'focus', 'minutes', 120, 'weekly')",
        (USER_MOVER,),
    )
    result = tick()
    with psycopg.connect(warehouse.url) as conn:
        row = conn.execute(
            "select local_today from analytics.user_local_today where user_id = %s", (USER_MOVER,)
        ).fetchone()
    assert row is not None
    (request,) = ranged(result)
    assert (request.tags[START], request.tags[END]) == (row[0].isoformat(), row[0].isoformat())
    assert isinstance(result, SensorResult) and len(result.run_requests or []) == 1


def test_a_claimed_batch_waits_for_its_runs_then_its_rows_are_deleted(
    warehouse: Warehouse, tick: Any, instance: DagsterInstance
) -> None:
    execute(warehouse.url, "update app.tasks set title = 'again' where task_id = %s", (BURST_TASKS[0],))
    first = tick()
    assert requested_dates(ranged(first)) == {warehouse.monday}
    assert queued(warehouse.url) == [("tasks", True)]
    waiting = tick()  # no run yet (the daemon launches them after the tick): nothing claimed twice
    assert isinstance(waiting, SkipReason) and "waiting for the runs of batch" in (waiting.skip_message or "")
    record_runs(instance, first)
    done = tick()
    assert isinstance(done, SkipReason) and "no source changes" in (done.skip_message or "")
    assert queued(warehouse.url) == []  # handled: the queue does not grow


def test_a_batch_whose_runs_never_appeared_is_claimed_again(warehouse: Warehouse, tick: Any) -> None:
    execute(warehouse.url, "update app.tasks set title = 'lost' where task_id = %s", (BURST_TASKS[3],))
    first = tick()
    again = tick(grace_seconds=0)  # its runs never appeared within the grace: released and claimed anew
    assert requested_dates(ranged(again)) == requested_dates(ranged(first)) == {warehouse.monday + timedelta(days=6)}
    assert ranged(again)[0].tags[BATCH_TAG] != ranged(first)[0].tags[BATCH_TAG]


def test_a_burst_is_spread_over_ticks_and_nothing_is_lost(
    warehouse: Warehouse, tick: Any, instance: DagsterInstance
) -> None:
    # Seven tasks changed in one statement: seven queue rows, three per batch.
    execute(warehouse.url, "update app.tasks set title = 'burst' where task_id = any(%s::uuid[])", (BURST_TASKS,))
    # Dates after today at UTC+14 exist nowhere yet: no partition, no run (the hourly schedule builds them
    # once they open); a batch of only such tasks is finished with nothing to run.
    every = {warehouse.monday + timedelta(days=2 * n) for n in range(len(BURST_TASKS))}
    expected = {day for day in every if day <= last_partition_date()}
    seen: set[date] = set()
    keys: list[str] = []
    batches = 0
    while True:
        result = tick()
        if isinstance(result, SkipReason):
            message = result.skip_message or ""
            if "touch nothing the marts hold" in message:
                batches += 1
                continue
            assert "no source changes" in message, result
            break
        batches += 1
        requests = ranged(result)
        assert len(requested_dates(requests)) <= 3  # at most three changed tasks per tick, one date each
        seen |= requested_dates(requests)
        keys += [r.run_key or "" for r in result.run_requests or []]
        record_runs(instance, result)
    assert batches == 3  # 3 + 3 + 1
    assert seen == expected
    assert len(keys) == len(set(keys))


def test_a_run_that_failed_for_good_gives_its_changes_back(
    warehouse: Warehouse, tick: Any, instance: DagsterInstance
) -> None:
    execute(warehouse.url, "update app.tasks set title = 'fails' where task_id = %s", (BURST_TASKS[0],))
    first = tick()
    record_runs(instance, first, succeed=False)
    # The instance's run retries mark the run dagster/will_retry; no retry run appeared within the grace: failed
    # for good, so the batch is released, then claimed again.
    again = tick(grace_seconds=0)
    assert requested_dates(ranged(again)) == {warehouse.monday}
    assert ranged(again)[0].tags[BATCH_TAG] != ranged(first)[0].tags[BATCH_TAG]
    assert fetch(warehouse.url, "select attempts from pulse_state.source_changes") == [(1,)]


def test_nothing_is_read_while_a_run_may_still_write_the_marts(
    warehouse: Warehouse, tick: Any, instance: DagsterInstance
) -> None:
    from orchestration.definitions import defs

    in_flight = instance.create_run_for_job(defs.resolve_job_def("daily_marts_job"))  # NOT_STARTED: in flight
    execute(warehouse.url, "update app.tasks set title = 'late' where task_id = %s", (BURST_TASKS[2],))
    waiting = tick()
    assert isinstance(waiting, SkipReason) and in_flight.run_id in (waiting.skip_message or "")
    assert queued(warehouse.url) == [("tasks", False)]  # not claimed
    instance.delete_run(in_flight.run_id)  # the run finished
    assert requested_dates(ranged(tick())) == {warehouse.monday + timedelta(days=4)}


def test_dates_close_together_share_one_run() -> None:
    from orchestration.sensors import contiguous_ranges

    monday = date(2026, 11, 16)
    touched = [monday, monday + timedelta(days=2), monday + timedelta(days=40)]
    assert contiguous_ranges(touched) == [(monday, monday), (touched[1], touched[1]), (touched[2], touched[2])]
    assert contiguous_ranges(touched, merge_gap_days=31) == [(monday, touched[1]), (touched[2], touched[2])]
    assert contiguous_ranges([monday, monday + timedelta(days=1)]) == [(monday, monday + timedelta(days=1))]
