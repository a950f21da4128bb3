"""The one translation of a Dagster partition key range into the dbt vars of a build (sent by pulse.dbt.build_env)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import PartitionKeyRange

from pulse.dbt import build_vars


def dbt_vars_for_partition_range(key_range: PartitionKeyRange, as_of: datetime | None = None) -> dict[str, str]:
    """``start_date``/``end_date`` of the local dates ``key_range`` covers, end exclusive (last key + 1 day)."""
    first = date.fromisoformat(key_range.start)
    last = date.fromisoformat(key_range.end)
    if last < first:
        raise ValueError(f"partition range ends ({last}) before it starts ({first})")
    return build_vars(first, last + timedelta(days=1), as_of)
