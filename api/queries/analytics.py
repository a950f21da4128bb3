"""SQL of the analytics endpoints: sums over the dbt marts, one statement per request.

The metric rules (overlaps, local days, focus unions, goal status) live in the
dbt models; these statements only add up the marts' daily rows for one user
over a range of that user's local dates, fill missing days with zeros, and read
live goal progress from ``analytics.goal_progress_live``. "Today" is the user's
local date, read from the warehouse's view ``analytics.user_local_today``.

Every statement returns no row when the user does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.schemas import TimePeriod

# The user and their local today, from the warehouse's view (same day windows and zone fallback as the marts).
_ME = """
me as (
    select
        u.user_id,
        u.local_today as today
    from analytics.user_local_today as u
    where u.user_id = %(user_id)s
)"""

# A range ending today (%(days)s long) or between explicit dates.
_RANGE_OF_DATES = """
rng as (
    select
        me.user_id,
        me.today,
        coalesce(%(start_date)s::date, me.today - (%(days)s::int - 1)) as start_date,
        coalesce(%(end_date)s::date, me.today) as end_date
    from me
)"""

# The day, ISO week or month (%(unit)s, %(length)s) containing start_date (default today).
_RANGE_OF_PERIOD = """
rng as (
    select
        me.user_id,
        me.today,
        date_trunc(%(unit)s, coalesce(%(start_date)s::date, me.today)::timestamp)::date as start_date,
        (date_trunc(%(unit)s, coalesce(%(start_date)s::date, me.today)::timestamp) + %(length)s::interval)::date
        - 1 as end_date
    from me
)"""

# The user's daily figures over all history (inlined, so each use gets its own index range).
_DAILY_ALL = """
daily as not materialized (
    select
        m.date,
        m.total_scheduled_minutes as scheduled_minutes,
        m.focus_minutes,
        m.completed_tasks_count,
        m.tasks_due_count,
        m.tasks_due_completed_count
    from analytics.analytics_daily_metrics as m
    where m.user_id = %(user_id)s
)"""

_DAILY_ONE_CATEGORY = """
daily as not materialized (
    select
        c.date,
        c.scheduled_minutes,
        c.focus_minutes,
        c.completed_tasks_count,
        c.tasks_due_count,
        c.tasks_due_completed_count
    from analytics.daily_category_metrics as c
    where c.user_id = %(user_id)s and c.category_id = %(category_id)s
)"""

# Totals, top category, streak and freshness of rng, from `daily`.
_TOTALS = """
totals as (
    select
        coalesce(sum(d.scheduled_minutes), 0)::bigint as total_scheduled_minutes,
        coalesce(sum(d.completed_tasks_count), 0)::bigint as completed_tasks_count,
        coalesce(sum(d.focus_minutes), 0)::bigint as focus_minutes,
        sum(d.tasks_due_completed_count)::float8 / nullif(sum(d.tasks_due_count), 0) as completion_rate
    from daily as d
    inner join rng on d.date between rng.start_date and rng.end_date
),

available as (
    select sum(m.focus_available_minutes) as focus_available_minutes
    from analytics.analytics_daily_metrics as m
    inner join rng on m.user_id = rng.user_id and m.date between rng.start_date and rng.end_date
),

by_category as (
    select
        c.category_id,
        sum(c.scheduled_minutes)::bigint as minutes
    from analytics.daily_category_metrics as c
    inner join rng on c.user_id = rng.user_id and c.date between rng.start_date and rng.end_date
    where %(category_id)s::uuid is null or c.category_id = %(category_id)s::uuid
    group by c.category_id
    having sum(c.scheduled_minutes) > 0
),

named as (
    select
        b.category_id,
        b.minutes,
        case when b.category_id is null then 'Uncategorized' else coalesce(cat.name, 'Deleted category') end as name
    from by_category as b
    left join app.categories as cat on b.category_id = cat.category_id and cat.user_id = %(user_id)s
),

streak_end as (
    select
        case
            when
                e.last_day = rng.today
                and not exists (select from daily as d where d.date = e.last_day and d.completed_tasks_count > 0)
                then e.last_day - 1
            else e.last_day
        end as end_date
    from rng
    cross join lateral (select least(rng.end_date, rng.today) as last_day) as e
),

streak as (
    select count(*)::int as streak_days_completed
    from (
        select
            d.date,
            row_number() over (order by d.date desc) as position
        from daily as d
        inner join streak_end as s on d.date <= s.end_date
        where d.completed_tasks_count > 0
    ) as completed_days
    cross join streak_end as s
    where completed_days.date = s.end_date - (completed_days.position - 1)::int
),

builds_in_range as materialized (
    select
        l.start_date,
        l.end_date,
        l.built_at
    from analytics.mart_build_log as l
    inner join rng
        on
            (l.start_date is null or l.start_date <= rng.end_date)
            and (l.end_date is null or l.end_date > rng.start_date)
),

-- The range is as fresh as its stalest day that exists (up to the user's today: later days are never built);
-- a day is as fresh as the latest build that covered it. Days no build covered are not counted, and a range
-- with no covered day (all in the future, say) is as fresh as the latest build: null only before any build.
freshness as (
    select coalesce(min(built.built_at), (select max(l.built_at) from analytics.mart_build_log as l)) as data_as_of
    from rng
    cross join generate_series(rng.start_date, least(rng.end_date, rng.today), interval '1 day') as g (day)
    left join lateral (
        select max(b.built_at) as built_at
        from builds_in_range as b
        where
            (b.start_date is null or b.start_date <= g.day::date)
            and (b.end_date is null or b.end_date > g.day::date)
    ) as built on true
)"""

_TOTALS_COLUMNS = """
    rng.start_date,
    rng.end_date,
    t.total_scheduled_minutes,
    t.completed_tasks_count,
    t.focus_minutes,
    t.focus_minutes::float8 / nullif(a.focus_available_minutes, 0) as focus_time_utilization,
    (
        select json_build_object('category_id', n.category_id, 'name', n.name, 'minutes', n.minutes)
        from named as n
        order by n.minutes desc, n.name collate "C", n.category_id
        limit 1
    ) as top_category,
    s.streak_days_completed,
    t.completion_rate,
    f.data_as_of"""

_TOTALS_FROM = """
from rng
cross join totals as t
cross join available as a
cross join streak as s
cross join freshness as f"""

# Progress cards of the active goals of one period type, for the period rng.
_GOALS_JSON = """
    (
        select
            coalesce(
                json_agg(
                    json_build_object(
                        'goal_id', g.goal_id,
                        'name', g.name,
                        'target_type', p.target_type,
                        'target_value', p.target_value,
                        'time_period', p.time_period,
                        'category_id', g.category_id,
                        'period', json_build_object('start', p.period_start, 'end', p.period_end),
                        'achieved_value', p.achieved_value,
                        'percent_complete', p.percent_complete,
                        'status', p.status
                    )
                    order by g.name collate "C", g.goal_id
                ),
                '[]'::json
            )
        from app.goals as g
        inner join analytics.goal_progress_live as p on g.goal_id = p.goal_id
        where
            g.user_id = rng.user_id
            and p.user_id = rng.user_id
            and g.is_active
            and g.time_period = %(period)s
            and p.period_start <= rng.start_date
            and p.period_end >= rng.start_date
            and (%(category_id)s::uuid is null or g.category_id = %(category_id)s::uuid)
    ) as goals"""

QUICK_STATS_SQL = {
    by_category: f"with {_ME},{_RANGE_OF_DATES},{daily},{_TOTALS}\nselect {_TOTALS_COLUMNS}{_TOTALS_FROM}"
    for by_category, daily in ((False, _DAILY_ALL), (True, _DAILY_ONE_CATEGORY))
}

DASHBOARD_SQL = {
    by_category: f"""with {_ME},{_RANGE_OF_PERIOD},{daily},{_TOTALS}
select {_TOTALS_COLUMNS},
    (
        select
            coalesce(
                json_agg(
                    json_build_object(
                        'category_id', n.category_id, 'name', n.name, 'minutes', n.minutes, 'share', n.share
                    )
                    order by n.minutes desc, n.name collate "C", n.category_id
                ),
                '[]'::json
            )
        from (select named.*, named.minutes::float8 / sum(named.minutes) over () as share from named) as n
    ) as category_distribution,
    (
        select
            json_agg(
                json_build_object(
                    'date', g.day::date,
                    'scheduled_minutes', coalesce(d.scheduled_minutes, 0),
                    'focus_minutes', coalesce(d.focus_minutes, 0),
                    'completed_tasks_count', coalesce(d.completed_tasks_count, 0)
                )
                order by g.day
            )
        from generate_series(rng.start_date, rng.end_date, interval '1 day') as g (day)
        left join daily as d on g.day::date = d.date
    ) as trends,{_GOALS_JSON}{_TOTALS_FROM}"""
    for by_category, daily in ((False, _DAILY_ALL), (True, _DAILY_ONE_CATEGORY))
}

_FRESHNESS_ONLY = _TOTALS[_TOTALS.index("builds_in_range as materialized (") :]

GOAL_PROGRESS_SQL = f"""with {_ME},{_RANGE_OF_PERIOD},
{_FRESHNESS_ONLY}
select rng.start_date, rng.end_date, f.data_as_of,{_GOALS_JSON}
from rng
cross join freshness as f"""

EXPORT_META_SQL = f"""with {_ME},
rng as (
    select me.user_id, me.today, %(start_date)s::date as start_date, %(end_date)s::date as end_date from me
),
{_FRESHNESS_ONLY},
builds as (
    select
        max(b.built_at) as last_built_at,
        count(*) as build_count
    from builds_in_range as b
)
select f.data_as_of, b.last_built_at, b.build_count
from rng
cross join freshness as f
cross join builds as b"""

EXPORT_COPY_SQL = """copy (
    select
        g.day::date as date,
        coalesce(m.total_scheduled_minutes, 0) as total_scheduled_minutes,
        coalesce(m.focus_minutes, 0) as focus_minutes,
        coalesce(m.completed_tasks_count, 0) as completed_tasks_count,
        coalesce(m.category_minutes, '{}'::jsonb) as category_minutes
    from generate_series(%(start_date)s::date, %(end_date)s::date, interval '1 day') as g (day)
    left join analytics.analytics_daily_metrics as m on m.user_id = %(user_id)s and m.date = g.day::date
    order by g.day
) to stdout with (format csv, header true)"""

PERIOD_UNITS: dict[str, tuple[str, str]] = {
    "daily": ("day", "1 day"),
    "weekly": ("week", "7 days"),
    "monthly": ("month", "1 month"),
}


async def _one(conn: AsyncConnection[Any], query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The one row of ``query`` (None when the user does not exist)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


async def quick_stats(
    conn: AsyncConnection[Any],
    user_id: UUID,
    *,
    days: int | None,
    start_date: date | None,
    end_date: date | None,
) -> dict[str, Any] | None:
    """Totals of ``days`` days ending today, or of ``start_date..end_date`` (inclusive)."""
    params = {"user_id": user_id, "days": days, "start_date": start_date, "end_date": end_date, "category_id": None}
    return await _one(conn, QUICK_STATS_SQL[False], params)


async def dashboard(
    conn: AsyncConnection[Any],
    user_id: UUID,
    *,
    period: Literal["weekly", "monthly"],
    start_date: date | None,
    category_id: UUID | None,
) -> dict[str, Any] | None:
    """Totals, category split, daily trend and goal cards of the period containing ``start_date``."""
    unit, length = PERIOD_UNITS[period]
    params = {
        "user_id": user_id,
        "unit": unit,
        "length": length,
        "start_date": start_date,
        "category_id": category_id,
        "period": period,
    }
    return await _one(conn, DASHBOARD_SQL[category_id is not None], params)


async def goal_progress(
    conn: AsyncConnection[Any], user_id: UUID, *, period: TimePeriod, start_date: date | None
) -> dict[str, Any] | None:
    """Live progress of the user's active goals of ``period`` type, for the period containing ``start_date``."""
    unit, length = PERIOD_UNITS[period]
    params = {
        "user_id": user_id,
        "unit": unit,
        "length": length,
        "start_date": start_date,
        "category_id": None,
        "period": period,
    }
    return await _one(conn, GOAL_PROGRESS_SQL, params)


async def export_meta(
    conn: AsyncConnection[Any], user_id: UUID, *, start_date: date, end_date: date
) -> tuple[datetime | None, str] | None:
    """``data_as_of`` of the range and a version string that changes whenever a build touches it."""
    row = await _one(conn, EXPORT_META_SQL, {"user_id": user_id, "start_date": start_date, "end_date": end_date})
    if row is None:
        return None
    version = f"{row['last_built_at'].isoformat() if row['last_built_at'] else '-'}/{row['build_count']}"
    return row["data_as_of"], version
