"""Schedules: nightly, the dates that just closed everywhere on Earth; hourly, the dates still open somewhere.

Local dates run from UTC+14 (the first place to start a date) to UTC−12 (the
last to end it): date D is open somewhere from D 00:00 at UTC+14 (D−1 10:00 UTC)
until D+1 00:00 at UTC−12 (D+1 12:00 UTC). Both schedules compute their dates
from the tick's scheduled time, never from the wall clock, so a late or
re-executed tick builds the dates of its own time. Each tick is one run over a
contiguous partition range (one dbt invocation).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from orchestration.jobs import daily_marts_job
from orchestration.partitions import earliest_local_date, latest_local_date, partition_range_tags

LATE_DATA_DAYS = 2  # the nightly run also rebuilds this many dates before the one that just closed


def closed_dates(at: datetime) -> tuple[date, date]:
    """The date that has just closed everywhere at ``at`` and the ``LATE_DATA_DAYS`` before it (inclusive)."""
    last = earliest_local_date(at) - timedelta(days=1)
    return last - timedelta(days=LATE_DATA_DAYS), last


def open_dates(at: datetime) -> tuple[date, date]:
    """The dates that are still (or already) open somewhere on Earth at ``at`` (inclusive; two or three)."""
    return earliest_local_date(at), latest_local_date(at)


def _ranged_request(kind: str, dates: tuple[date, date]) -> RunRequest:
    start, end = dates
    return RunRequest(
        run_key=f"{kind}:{start}..{end}",
        tags={**partition_range_tags(start, end), "pulse/trigger": kind},
    )


@schedule(
    name="nightly_closed_dates",
    job=daily_marts_job,
    cron_schedule="10 12 * * *",  # 12:00 UTC is midnight at UTC−12: yesterday has now closed everywhere
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Rebuild the local date that has just closed in every time zone, and the two before it (late data).",
)
def nightly_closed_dates(context: ScheduleEvaluationContext) -> RunRequest:
    """One ranged run over the dates closed everywhere at the tick's scheduled time."""
    return _ranged_request("nightly", closed_dates(context.scheduled_execution_time))


@schedule(
    name="hourly_open_dates",
    job=daily_marts_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refresh the local dates that are still open somewhere on Earth (UTC−12 to UTC+14).",
)
def hourly_open_dates(context: ScheduleEvaluationContext) -> RunRequest:
    """One ranged run over the dates open somewhere at the tick's scheduled time."""
    return _ranged_request("hourly", open_dates(context.scheduled_execution_time))
