"""The daily partitions of the warehouse: one partition per users' local calendar date.

A partition key ``D`` stands for the local date D of every user, whatever their
time zone, so the set of keys is clock-independent only up to its two ends:

- The first partition is ``PARTITIONS_START`` (2023-01-01). Pulse is a recent
  app and the demo data covers the last 90 days; older source rows are still in
  ``invalid_slots`` and the unpartitioned marts, but no date-partitioned run
  reaches before it (move it back and redeploy to backfill older history).
- The last partition is today at the *latest* place on Earth (UTC+14, Line
  Islands) plus ``FUTURE_DAYS``: the partitions are computed in the fixed zone
  ``Etc/GMT-14`` (POSIX sign: UTC+14), whose today is the latest local date
  anywhere, and ``end_offset`` adds today itself and the days after it. Tasks are
  scheduled ahead, so a change that moves a slot to next month must be buildable
  now (goal periods and the calendar include future days of the current week
  and month). Dates further out than ``FUTURE_DAYS`` are built when the
  partition set reaches them (any build of that date).

The earliest local date on Earth is at UTC−12; ``schedules.py`` uses both
extremes to tell which dates have closed everywhere and which are still open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dagster import DailyPartitionsDefinition
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

PARTITIONS_START = "2023-01-01"
FUTURE_DAYS = 366
LATEST_ZONE = "Etc/GMT-14"  # UTC+14: the zone whose today is the latest local date on Earth
LATEST_UTC_OFFSET = timedelta(hours=14)
EARLIEST_UTC_OFFSET = timedelta(hours=-12)

daily_partitions = DailyPartitionsDefinition(
    start_date=PARTITIONS_START,
    timezone=LATEST_ZONE,
    end_offset=1 + FUTURE_DAYS,  # 1: today at UTC+14 (the partition still open there); then the future
)


def first_partition_date() -> date:
    """The earliest local date a partitioned run can build."""
    return date.fromisoformat(PARTITIONS_START)


def last_partition_date(now: datetime | None = None) -> date:
    """The latest local date a partitioned run can build at ``now`` (default: the current time)."""
    now = now or datetime.now(UTC)
    return latest_local_date(now) + timedelta(days=FUTURE_DAYS)


def earliest_local_date(at: datetime) -> date:
    """The local date at UTC−12 at instant ``at``: every earlier date has closed everywhere on Earth."""
    return (at.astimezone(UTC) + EARLIEST_UTC_OFFSET).date()


def latest_local_date(at: datetime) -> date:
    """The local date at UTC+14 at instant ``at``: no place on Earth has reached a later date."""
    return (at.astimezone(UTC) + LATEST_UTC_OFFSET).date()


def partition_range_tags(start: date, end: date) -> dict[str, str]:
    """The run tags that make a run build the partitions ``start`` to ``end`` (inclusive) in one go."""
    if end < start:
        raise ValueError(f"partition range ends ({end}) before it starts ({start})")
    return {
        ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
    }
