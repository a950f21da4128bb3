"""Analytics: quick stats, the dashboard and the CSV export, all read from the dbt marts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from psycopg import AsyncConnection

from api.core.cached_reads import Computed, Reads, period_start
from api.core.errors import field_error
from api.core.features import requires
from api.core.http import etag_matches, freshness_headers, make_etag, not_modified
from api.deps import CurrentUser, unauthorized
from api.queries import analytics as queries
from api.queries.goals import owns_category
from api.schemas import (
    MAX_DATE,
    MAX_RANGE_DAYS,
    MIN_DATE,
    Dashboard,
    DashboardPeriod,
    DateRange,
    DateRangeOut,
    ErrorMessage,
    ExportFormat,
    QuickStats,
    Totals,
    ViewContext,
)

router = APIRouter(
    prefix="/analytics",
    tags=["analytics"],
    responses={
        401: {"model": ErrorMessage, "description": "Missing, expired or invalid bearer token."},
        503: {"model": ErrorMessage, "description": "The database is unavailable or the marts are not built."},
    },
)

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "The client's copy (If-None-Match) is current."}}
RANGE_DAYS = {"7d": 7, "30d": 30, "90d": 90}
EXPORT_CHUNK_BYTES = 64 * 1024

StartDate = Annotated[date | None, Query(ge=MIN_DATE, le=MAX_DATE, description="First local date (inclusive).")]
EndDate = Annotated[date | None, Query(ge=MIN_DATE, le=MAX_DATE, description="Last local date (inclusive).")]


def check_explicit_range(start_date: date | None, end_date: date | None) -> tuple[date, date]:
    """Both dates given, in order, at most 366 days apart (inclusive); a 422 naming the field otherwise."""
    if start_date is None:
        raise field_error(("query", "start_date"), "start_date is required together with end_date", None, "missing")
    if end_date is None:
        raise field_error(("query", "end_date"), "end_date is required together with start_date", None, "missing")
    if start_date > end_date:
        raise field_error(("query", "start_date"), "start_date must not be after end_date", str(start_date))
    if (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
        raise field_error(("query", "end_date"), f"the range may span at most {MAX_RANGE_DAYS} days", str(end_date))
    return start_date, end_date


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in Totals.model_fields}


@router.get(
    "/quick-stats",
    response_model=QuickStats,
    responses=NOT_MODIFIED,
    summary="Totals of the last 7, 30 or 90 days, or of explicit dates",
)
async def quick_stats(
    request: Request,
    user_id: CurrentUser,
    reads: Reads,
    view_context: Annotated[ViewContext, Query(description="Which screen asks (echoed back).")] = "calendar",
    date_range: Annotated[
        DateRange | None, Query(description="Days ending today (the caller's local date); default 7d.")
    ] = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
) -> Response:
    """Scheduled and focus minutes, completed tasks, focus utilization, top category, streak and completion rate.

    Either ``date_range`` (ending the caller's local today) or both ``start_date`` and ``end_date``.
    The streak counts back from the end date (or today, if that is earlier).
    """
    days: int | None = None
    if start_date is None and end_date is None:
        days = RANGE_DAYS[date_range or "7d"]
    elif date_range is not None:
        raise field_error(("query", "date_range"), "give date_range or start_date and end_date, not both", date_range)
    else:
        start_date, end_date = check_explicit_range(start_date, end_date)
    today = await reads.today()
    if today is not None and days is not None:  # one cache entry for a range and the dates it means
        start_date, end_date, days = today.local_today - timedelta(days=days - 1), today.local_today, None

    async def compute(conn: AsyncConnection[Any]) -> Computed:
        row = await queries.quick_stats(conn, user_id, days=days, start_date=start_date, end_date=end_date)
        if row is None:
            raise unauthorized("the token's user does not exist")
        model = QuickStats(
            view_context=view_context,
            range=DateRangeOut(start_date=row["start_date"], end_date=row["end_date"]),
            data_as_of=row["data_as_of"],
            **_totals(row),
        )
        return Computed(model, row["data_as_of"], row["start_date"], row["end_date"])

    key = ("quick_stats", view_context, start_date, end_date)
    return await reads.json(key, compute, today=today, start_date=start_date, reaches_back=True, goals=False)


@router.get(
    "/dashboard",
    response_model=Dashboard,
    dependencies=[requires("dashboard")],
    responses=NOT_MODIFIED,
    summary="A week or a month: totals, category split, daily trend and goals",
)
async def dashboard(
    request: Request,
    user_id: CurrentUser,
    reads: Reads,
    period: Annotated[DashboardPeriod, Query(description="ISO week (Monday to Sunday) or calendar month.")] = "weekly",
    category_id: Annotated[
        UUID | None, Query(description="One of the caller's categories: every figure is restricted to it.")
    ] = None,
    start_date: Annotated[
        date | None,
        Query(ge=MIN_DATE, le=MAX_DATE, description="A date of the period wanted; default the caller's today."),
    ] = None,
) -> Response:
    """The period containing ``start_date``: totals (as quick stats), category distribution, one trend entry
    per day (zeros filled) and the progress cards of the goals of that period type."""
    today = await reads.today()
    if today is not None:  # one cache entry per period
        start_date = period_start(period, start_date or today.local_today)

    async def compute(conn: AsyncConnection[Any]) -> Computed:
        if category_id is not None and not await owns_category(conn, user_id, category_id):
            raise field_error(("query", "category_id"), "not one of your categories", str(category_id))
        row = await queries.dashboard(conn, user_id, period=period, start_date=start_date, category_id=category_id)
        if row is None:
            raise unauthorized("the token's user does not exist")
        model = Dashboard(
            period=period,
            category_id=category_id,
            range=DateRangeOut(start_date=row["start_date"], end_date=row["end_date"]),
            data_as_of=row["data_as_of"],
            totals=Totals(**_totals(row)),
            category_distribution=row["category_distribution"],
            trends=row["trends"],
            goals=row["goals"],
        )
        return Computed(model, row["data_as_of"], row["start_date"], row["end_date"])

    key = ("dashboard", period, category_id, start_date)
    return await reads.json(key, compute, today=today, start_date=start_date, reaches_back=True, goals=True)


@router.get(
    "/export",
    response_class=StreamingResponse,
    dependencies=[requires("export")],
    summary="Daily figures of a date range as a CSV download",
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "date,total_scheduled_minutes,focus_minutes,completed_tasks_count,category_minutes\n"
                    '2025-03-03,180,90,2,"{""uncategorized"": 60, ""0b8e5a34-1f7c-4d2a-8e3b-5c6d7e8f9a01"": 120}"\n',
                }
            },
            "description": "One row per day of the range, in date order, zeros filled.",
        },
        **NOT_MODIFIED,
    },
)
async def export(
    request: Request,
    user_id: CurrentUser,
    reads: Reads,
    start_date: StartDate = None,
    end_date: EndDate = None,
    format: Annotated[ExportFormat, Query(description="Only csv.")] = "csv",
) -> Response:
    """``date,total_scheduled_minutes,focus_minutes,completed_tasks_count,category_minutes`` per day, streamed
    from PostgreSQL's COPY; ``category_minutes`` is a JSON object (category id or ``uncategorized`` → minutes)."""
    start, end = check_explicit_range(start_date, end_date)

    async def compute(conn: AsyncConnection[Any]) -> tuple[str, datetime | None]:
        meta = await queries.export_meta(conn, user_id, start_date=start, end_date=end)
        if meta is None:
            raise unauthorized("the token's user does not exist")
        data_as_of, version = meta
        return make_etag("export", str(user_id), format, start.isoformat(), end.isoformat(), version), data_as_of

    etag, data_as_of = await reads.etag(("export", format, start, end), compute, start_date=start, end_date=end)
    if etag_matches(request, etag):
        return not_modified(etag, data_as_of)
    headers = freshness_headers(etag, data_as_of)
    headers["Content-Disposition"] = f'attachment; filename="pulse-{start.isoformat()}-{end.isoformat()}.csv"'
    params = {"user_id": user_id, "start_date": start, "end_date": end}
    conn = await reads.connection()

    async def rows() -> AsyncIterator[bytes]:
        """COPY's output, passed on in chunks of about 64 KiB."""
        buffer = bytearray()
        async with conn.cursor() as cur, cur.copy(queries.EXPORT_COPY_SQL, params) as copy:
            async for data in copy:
                buffer += data
                if len(buffer) >= EXPORT_CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers=headers)
