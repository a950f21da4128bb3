"""The schedules' partition ranges at the date line, computed from the tick's time (no database needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from dagster import DagsterInstance, RunRequest, build_schedule_context

from orchestration.partitions import daily_partitions, last_partition_date
from orchestration.schedules import closed_dates, hourly_open_dates, nightly_closed_dates, open_dates

START = "dagster/asset_partition_range_start"
END = "dagster/asset_partition_range_end"


def _tick(schedule_def: object, at: datetime) -> RunRequest:
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(instance=instance, scheduled_execution_time=at)
        request = schedule_def(context)  # type: ignore[operator]
    assert isinstance(request, RunRequest)
    return request


@pytest.mark.parametrize(
    ("at", "closed", "still_open"),
    [
        # 00:05 UTC on the 24th: it is 12:05 on the 23rd at UTC−12 and 14:05 on the 24th at UTC+14.
        (
            datetime(2026, 11, 24, 0, 5, tzinfo=UTC),
            (date(2026, 11, 20), date(2026, 11, 22)),
            (date(2026, 11, 23), date(2026, 11, 24)),
        ),
        # 12:00 UTC: midnight at UTC−12, so the 23rd has just closed everywhere; UTC+14 is already on the 25th.
        (
            datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
            (date(2026, 11, 21), date(2026, 11, 23)),
            (date(2026, 11, 24), date(2026, 11, 25)),
        ),
        # One minute before: the 23rd is still open at UTC−12 (23:59) and the 25th has begun at UTC+14.
        (
            datetime(2026, 11, 24, 11, 59, tzinfo=UTC),
            (date(2026, 11, 20), date(2026, 11, 22)),
            (date(2026, 11, 23), date(2026, 11, 25)),
        ),
        # 10:00 UTC: UTC+14 reaches midnight of the 25th; three dates are open at once.
        (
            datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
            (date(2026, 11, 20), date(2026, 11, 22)),
            (date(2026, 11, 23), date(2026, 11, 25)),
        ),
        # Year end and a leap day.
        (
            datetime(2027, 1, 1, 0, 5, tzinfo=UTC),
            (date(2026, 12, 28), date(2026, 12, 30)),
            (date(2026, 12, 31), date(2027, 1, 1)),
        ),
        (
            datetime(2028, 3, 1, 12, 10, tzinfo=UTC),
            (date(2028, 2, 27), date(2028, 2, 29)),
            (date(2028, 3, 1), date(2028, 3, 2)),
        ),
    ],
)
def test_closed_and_open_dates_at_the_date_line(
    at: datetime, closed: tuple[date, date], still_open: tuple[date, date]
) -> None:
    assert closed_dates(at) == closed
    assert open_dates(at) == still_open
    # Every date before the open ones has closed; none of the open ones has.
    assert closed[1] < still_open[0]


def test_nightly_tick_requests_one_ranged_run_of_the_closed_dates() -> None:
    request = _tick(nightly_closed_dates, datetime(2026, 11, 24, 12, 10, tzinfo=UTC))
    assert (request.tags[START], request.tags[END]) == ("2026-11-21", "2026-11-23")
    assert request.partition_key is None  # a range, not one partition


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 24, 0, 5, tzinfo=UTC), ("2026-11-23", "2026-11-24")),
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), ("2026-11-24", "2026-11-25")),
    ],
)
def test_hourly_tick_requests_one_ranged_run_of_the_open_dates(at: datetime, expected: tuple[str, str]) -> None:
    request = _tick(hourly_open_dates, at)
    assert (request.tags[START], request.tags[END]) == expected


def test_the_open_dates_are_partitions_even_at_utc_plus_14() -> None:
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # first moment of the 25th at UTC+14
    keys = daily_partitions.get_partition_keys(current_time=at)
    first_open, last_open = open_dates(at)
    assert first_open.isoformat() in keys
    assert last_open.isoformat() in keys
    assert keys[-1] == last_partition_date(at).isoformat() == "2026-11-25"  # today at UTC+14: no later date exists
    assert keys[0] == "2023-01-01"


def test_the_first_partition_is_the_partitions_start_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.partitions import first_partition_date
    from pulse.settings import get_settings

    monkeypatch.setenv("PULSE_PARTITIONS_START", "2026-09-01")
    get_settings.cache_clear()
    try:
        assert first_partition_date() == date(2026, 9, 1)
    finally:
        get_settings.cache_clear()
