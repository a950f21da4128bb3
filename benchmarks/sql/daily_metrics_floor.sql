-- The engine's floor for the warehouse benchmark: ONE hand-written statement computing the
-- rows of analytics.analytics_daily_metrics (all history) straight from the app tables, with
-- the same rules (validation before casts, minute truncation, local day windows, unions for
-- focus, completed and due days) but no intermediate tables, no tests, no dbt.
-- benchmarks/warehouse.py times `create temp table daily_metrics_floor as <this>` and checks
-- that its rows equal the mart's.
with users as (
    select
        u.user_id,
        coalesce(z.name, 'UTC') as tz
    from app.users as u
    left join pg_timezone_names as z on u.timezone = z.name
),

elements as (
    select
        t.task_id,
        t.user_id,
        t.category_id,
        t.status,
        t.deleted_at,
        e.slot ->> 'start' as s,
        e.slot ->> 'end' as f
    from app.tasks as t
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(t.scheduled_slots) = 'array' then t.scheduled_slots end
    ) as e (slot)
    where
        t.deleted_at is null and t.status <> 'cancelled'
        and jsonb_typeof(e.slot) = 'object'
        and jsonb_typeof(e.slot -> 'start') = 'string'
        and jsonb_typeof(e.slot -> 'end') = 'string'
),

shaped as (
    select *
    from elements
    where
        s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$'
        and f ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$'
    limit all offset 0
),

valid_text as (
    select *
    from shaped
    where
        substr(s, 1, 4)::int >= 1 and substr(s, 6, 2)::int between 1 and 12
        and substr(s, 9, 2)::int between 1 and case
            when substr(s, 6, 2)::int in (4, 6, 9, 11) then 30
            when substr(s, 6, 2)::int = 2 then case
                when substr(s, 1, 4)::int % 4 = 0 and (substr(s, 1, 4)::int % 100 <> 0 or substr(s, 1, 4)::int % 400 = 0)
                    then 29
                else 28 end
            else 31 end
        and substr(s, 12, 2)::int <= 23 and substr(s, 15, 2)::int <= 59
        and (substr(s, 17, 1) <> ':' or substr(s, 18, 2)::int <= 59)
        and substr(f, 1, 4)::int >= 1 and substr(f, 6, 2)::int between 1 and 12
        and substr(f, 9, 2)::int between 1 and case
            when substr(f, 6, 2)::int in (4, 6, 9, 11) then 30
            when substr(f, 6, 2)::int = 2 then case
                when substr(f, 1, 4)::int % 4 = 0 and (substr(f, 1, 4)::int % 100 <> 0 or substr(f, 1, 4)::int % 400 = 0)
                    then 29
                else 28 end
            else 31 end
        and substr(f, 12, 2)::int <= 23 and substr(f, 15, 2)::int <= 59
        and (substr(f, 17, 1) <> ':' or substr(f, 18, 2)::int <= 59)
    limit all offset 0
),

slots as (
    select
        v.task_id,
        v.user_id,
        v.category_id,
        v.status,
        (substr(v.s, 1, 16) || substring(v.s from '(?:Z|[+-][0-9:]*)$'))::timestamptz as start_at,
        (substr(v.f, 1, 16) || substring(v.f from '(?:Z|[+-][0-9:]*)$'))::timestamptz as end_at
    from valid_text as v
    limit all offset 0
),

valid_slots as (
    select
        slots.*,
        users.tz,
        max(slots.end_at) over (partition by slots.task_id) as due_at
    from slots
    inner join users on slots.user_id = users.user_id
    where slots.end_at > slots.start_at
),

pieces as (
    select
        v.user_id,
        v.category_id,
        d.local_date,
        greatest(v.start_at, w.ws) as piece_start,
        least(v.end_at, w.we) as piece_end
    from valid_slots as v
    cross join lateral (
        select
            (v.start_at at time zone v.tz)::date as first_local,
            (v.end_at at time zone v.tz)::date as last_local
        limit all offset 0
    ) as b
    cross join lateral generate_series(-1, b.last_local - b.first_local + 1) as g (i)
    cross join lateral (
        select
            b.first_local + g.i as local_date,
            ((b.first_local + g.i)::timestamp at time zone v.tz) as ws,
            ((b.first_local + g.i + 1)::timestamp at time zone v.tz) as we
        limit all offset 0
    ) as d
    cross join lateral (select d.ws, d.we) as w
    where greatest(v.start_at, w.ws) < least(v.end_at, w.we)
),

due as (
    select
        v.user_id,
        d.local_date,
        count(*) as due_count,
        count(*) filter (where v.status = 'completed') as due_completed
    from (select distinct on (task_id) * from valid_slots) as v
    cross join lateral generate_series(-1, 1) as g (i)
    cross join lateral (select (v.due_at at time zone v.tz)::date + g.i as local_date) as d
    where
        v.due_at > (d.local_date::timestamp at time zone v.tz)
        and v.due_at <= ((d.local_date + 1)::timestamp at time zone v.tz)
    group by v.user_id, d.local_date
),

completed as (
    select
        t.user_id,
        d.local_date,
        count(*) as completed_count
    from app.tasks as t
    inner join users on t.user_id = users.user_id
    cross join lateral generate_series(-1, 1) as g (i)
    cross join lateral (select (t.completed_at at time zone users.tz)::date + g.i as local_date) as d
    where
        t.deleted_at is null and t.status = 'completed'
        and t.completed_at >= (d.local_date::timestamp at time zone users.tz)
        and t.completed_at < ((d.local_date + 1)::timestamp at time zone users.tz)
    group by t.user_id, d.local_date
),

focus as (
    select
        c.user_id,
        c.date as local_date,
        range_agg(tstzrange(
            ((c.date + (substr(e.slot ->> 'start', 1, 2)::int * 60 + substr(e.slot ->> 'start', 4, 2)::int)
                * interval '1 minute') at time zone users.tz),
            ((c.date + (substr(e.slot ->> 'end', 1, 2)::int * 60 + substr(e.slot ->> 'end', 4, 2)::int)
                * interval '1 minute') at time zone users.tz)
        )) as ranges
    from app.user_calendar_days as c
    inner join users on c.user_id = users.user_id
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(c.focus_slots) = 'array' then c.focus_slots end
    ) as e (slot)
    where
        jsonb_typeof(e.slot) = 'object'
        and jsonb_typeof(e.slot -> 'start') = 'string' and jsonb_typeof(e.slot -> 'end') = 'string'
        and (e.slot ->> 'start') ~ '^(?:[01][0-9]|2[0-3]):[0-5][0-9]$'
        and (e.slot ->> 'end') ~ '^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
        and (e.slot ->> 'end') > (e.slot ->> 'start')
        and ((c.date + (substr(e.slot ->> 'start', 1, 2)::int * 60 + substr(e.slot ->> 'start', 4, 2)::int)
            * interval '1 minute') at time zone users.tz)
        < ((c.date + (substr(e.slot ->> 'end', 1, 2)::int * 60 + substr(e.slot ->> 'end', 4, 2)::int)
            * interval '1 minute') at time zone users.tz)
    group by c.user_id, c.date
),

scheduled as (
    select
        user_id,
        local_date,
        sum(minutes)::int as total_minutes,
        range_agg(ranges) as ranges,
        jsonb_object_agg(category_key, minutes) as category_minutes
    from (
        select
            user_id,
            local_date,
            coalesce(category_id::text, 'uncategorized') as category_key,
            (sum(extract(epoch from piece_end - piece_start)) / 60)::int as minutes,
            range_agg(tstzrange(piece_start, piece_end)) as ranges
        from pieces
        group by user_id, local_date, category_id
    ) as per_category
    group by user_id, local_date
),

days as (
    select user_id, local_date from scheduled
    union
    select user_id, local_date from focus
    union
    select user_id, local_date from due
    union
    select user_id, local_date from completed
)

select
    days.user_id,
    days.local_date as date,
    coalesce(scheduled.total_minutes, 0) as total_scheduled_minutes,
    coalesce((
        select sum(extract(epoch from upper(r) - lower(r)))::int / 60
        from unnest(scheduled.ranges * focus.ranges) as r
    ), 0) as focus_minutes,
    coalesce((
        select sum(extract(epoch from upper(r) - lower(r)))::int / 60
        from unnest(focus.ranges) as r
    ), 0) as focus_available_minutes,
    coalesce(completed.completed_count, 0)::int as completed_tasks_count,
    coalesce(due.due_count, 0)::int as tasks_due_count,
    coalesce(due.due_completed, 0)::int as tasks_due_completed_count,
    coalesce(scheduled.category_minutes, '{}') as category_minutes
from days
left join scheduled on days.user_id = scheduled.user_id and days.local_date = scheduled.local_date
left join focus on days.user_id = focus.user_id and days.local_date = focus.local_date
left join due on days.user_id = due.user_id and days.local_date = due.local_date
left join completed on days.user_id = completed.user_id and days.local_date = completed.local_date
