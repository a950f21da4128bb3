"""The partition range -> dbt vars translation at the edges of days, months, years and leap days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagster import PartitionKeyRange

from orchestration.dbt_vars import dbt_vars_for_partition_range


@pytest.mark.parametrize(
    ("first", "last", "start_date", "end_date"),
    [
        ("2026-11-24", "2026-11-24", "2026-11-24", "2026-11-25"),  # one day
        ("2026-11-28", "2026-11-30", "2026-11-28", "2026-12-01"),  # month end
        ("2026-12-31", "2026-12-31", "2026-12-31", "2027-01-01"),  # year end
        ("2028-02-28", "2028-02-29", "2028-02-28", "2028-03-01"),  # leap day
        ("2027-02-28", "2027-02-28", "2027-02-28", "2027-03-01"),  # no leap day
        ("2023-01-01", "2027-11-24", "2023-01-01", "2027-11-25"),  # every partition
    ],
)
def test_range_becomes_half_open_dates(first: str, last: str, start_date: str, end_date: str) -> None:
    assert dbt_vars_for_partition_range(PartitionKeyRange(first, last)) == {
        "start_date": start_date,
        "end_date": end_date,
    }


def test_as_of_is_passed_with_its_offset() -> None:
    as_of = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert dbt_vars_for_partition_range(PartitionKeyRange("2026-03-08", "2026-03-08"), as_of) == {
        "start_date": "2026-03-08",
        "end_date": "2026-03-09",
        "as_of": "2026-03-08T07:30:00+00:00",
    }


def test_reversed_range_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        dbt_vars_for_partition_range(PartitionKeyRange("2026-03-09", "2026-03-08"))


def test_as_of_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        dbt_vars_for_partition_range(PartitionKeyRange("2026-03-08", "2026-03-08"), datetime(2026, 3, 8, 7, 30))
