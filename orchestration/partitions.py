"""The daily partitions of the warehouse: one partition per users' local calendar date.

A partition key ``D`` stands for the local date D of every user, whatever their
time zone, so the set of keys is clock-independent only up to its two ends:

- The first partition is the setting ``partitions_start``
  (``PULSE_PARTITIONS_START``, default 2023-01-01): the first date whose marts
  operators want to see and backfill. Older source rows are still in
  ``invalid_slots`` and the unpartitioned marts, but no date-partitioned run
  reaches before it (move it back and reload the code location to backfill older
  history). Set it to the data's first date and the UI shows no years of
  "missing" partitions that were never meant to be built.
- The last partition is today at the *latest* place on Earth (UTC+14, Line
  Islands): the partitions are computed in the fixed zone ``Etc/GMT-14`` (POSIX
  sign: UTC+14), whose today is the latest local date anywhere, and
  ``end_offset=1`` adds that today itself (the partition still open there). No
  date later than that exists anywhere yet: a slot planned for next week shows in
  the marts once its date has begun somewhere (the hourly schedule builds the
  open dates), and future days of the current week and month read as zeros until
  then. The partition list therefore opens on today, not on a year ahead.

The earliest local date on Earth is at UTC−12; ``schedules.py`` uses both
extremes to tell which dates have closed everywhere and which are still open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dagster import DailyPartitionsDefinition

from pulse.settings import get_settings

# The run tags Dagster reads to run one job over a range of partitions (a single-run backfill).
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
LATEST_ZONE = "Etc/GMT-14"  # UTC+14: the zone whose today is the latest local date on Earth
LATEST_UTC_OFFSET = timedelta(hours=14)
EARLIEST_UTC_OFFSET = timedelta(hours=-12)


def first_partition_date() -> date:
    """The earliest local date a partitioned run can build (the setting ``partitions_start``)."""
    return get_settings().partitions_start


daily_partitions = DailyPartitionsDefinition(
    start_date=first_partition_date().isoformat(),
    timezone=LATEST_ZONE,
    end_offset=1,  # today at UTC+14, the partition still open there
)


def last_partition_date(now: datetime | None = None) -> date:
    """The latest local date a partitioned run can build at ``now`` (default: the current time): today at UTC+14."""
    return latest_local_date(now or datetime.now(UTC))


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
