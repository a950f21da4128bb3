-- The engine's floor for the warehouse benchmark: ONE hand-written statement computing the rows of
-- analytics.analytics_daily_metrics (all history, 1900-01-01 to 9999-01-01 like a full dbt build)
-- straight from the app tables, with the mart's rules: validation before any cast, minute
-- truncation by cutting the text, local day windows via `timestamp AT TIME ZONE` with the
-- ambiguous-midnight rule of local_date_of, focus = union(scheduled) * union(focus), due in
-- (D 00:00, D+1 00:00], unknown zones in UTC. benchmarks/warehouse.py times
-- `create temp table daily_metrics_floor as <this>` (default settings) and checks its rows equal
-- the mart's. Tuned to be as fast as one statement gets on PostgreSQL 15+ (EXPLAIN ANALYZE, 2,000
-- users x 90 days: about 7 s, where the untuned version took 60 s):
-- - slot texts are checked without regular expressions in the usual shapes
--   (YYYY-MM-DDTHH:MM:SS with Z or +-HH:MM, day 01-28): LIKE for the separators and hashed
--   `= any (constant array)` lookups for the two-digit fields, which also bound their values;
--   every other text takes the mart's pattern and field checks (slot_parsing.sql). Regexes cost
--   about 1 us per text here, the lookups half that;
-- - each stage is a `limit all offset 0` fence: validation runs once per text and always before
--   the casts (a bad cast raises), and the offset of the cut is `ltrim` of the text's tail, not a
--   regex substring;
-- - array elements come from a set-returning function in the select list (a lateral function
--   scan got a Memoize node that cost more than it saved);
-- - a slot's first and last local date come from its two instants (wall date, minus one when the
--   instant precedes that date's window: an ambiguous midnight), so only slots that cross a local
--   midnight are cut with generate_series and AT TIME ZONE; due and completion dates the same way;
-- - scheduled minutes, their union and category minutes come from ONE sort of the pieces by
--   (user, date, category) feeding two stacked group aggregates (range_agg of ranges, then of
--   the per-category multiranges), focus unions from one pass over the focus slots grouped by
--   (user, date); the day rows are full joins of the three per-day results, not a union + regroup.
with zones as (
    select
        u.user_id,
        coalesce(z.name, 'UTC') as tz
    from app.users as u
    left join (select distinct name from pg_timezone_names) as z on u.timezone = z.name
),

-- one row per slot element of a counted task (->> of anything but a JSON string fails the checks)
slot_texts as (
    select
        task_id,
        user_id,
        category_id,
        is_completed,
        slot ->> 'start' as s,
        slot ->> 'end' as f
    from (
        select
            t.task_id,
            t.user_id,
            t.category_id,
            t.status = 'completed' as is_completed,
            jsonb_array_elements(case when jsonb_typeof(t.scheduled_slots) = 'array' then t.scheduled_slots end) as slot
        from app.tasks as t
        where t.deleted_at is null and t.status <> 'cancelled'
    ) as e
),

-- usual shapes by LIKE + hashed two-digit lookups; anything else by the mart's pattern and field checks
valid_texts as (
    select *
    from slot_texts
    where
        case
            when
                (s like '____-__-__T__:__:__Z' or s like '____-__-__T__:__:__+__:__' or s like '____-__-__T__:__:__-__:__')
                and substr(s, 1, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                and substr(s, 3, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                and substr(s, 1, 4) <> '0000'
                and substr(s, 6, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12}')
                and substr(s, 9, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28}')
                and substr(s, 12, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23}')
                and substr(s, 15, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and substr(s, 18, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and (length(s) = 20 or (substr(s, 21, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15}') and substr(s, 24, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')))
                then true
            when s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$' then
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
            else false
        end
        and case
            when
                (f like '____-__-__T__:__:__Z' or f like '____-__-__T__:__:__+__:__' or f like '____-__-__T__:__:__-__:__')
                and substr(f, 1, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                and substr(f, 3, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                and substr(f, 1, 4) <> '0000'
                and substr(f, 6, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12}')
                and substr(f, 9, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28}')
                and substr(f, 12, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23}')
                and substr(f, 15, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and substr(f, 18, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and (length(f) = 20 or (substr(f, 21, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15}') and substr(f, 24, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')))
                then true
            when f ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$' then
                substr(f, 1, 4)::int >= 1 and substr(f, 6, 2)::int between 1 and 12
                and substr(f, 9, 2)::int between 1 and case
                    when substr(f, 6, 2)::int in (4, 6, 9, 11) then 30
                    when substr(f, 6, 2)::int = 2 then case
                        when substr(f, 1, 4)::int % 4 = 0 and (substr(f, 1, 4)::int % 100 <> 0 or substr(f, 1, 4)::int % 400 = 0)
                            then 29
                        else 28 end
                    else 31 end
                and substr(f, 12, 2)::int <= 23 and substr(f, 15, 2)::int <= 59
                and (substr(f, 17, 1) <> ':' or substr(f, 18, 2)::int <= 59)
            else false
        end
    limit all offset 0
),

-- instants truncated to the minute: seconds and fraction cut from the text before the cast
slots as (
    select
        v.task_id,
        v.user_id,
        v.category_id,
        v.is_completed,
        zones.tz,
        v.start_at,
        v.end_at
    from (
        select
            task_id,
            user_id,
            category_id,
            is_completed,
            (substr(s, 1, 16) || ltrim(substr(s, 17), ':.0123456789'))::timestamptz as start_at,
            (substr(f, 1, 16) || ltrim(substr(f, 17), ':.0123456789'))::timestamptz as end_at
        from valid_texts
        limit all offset 0
    ) as v
    inner join zones on v.user_id = zones.user_id
    where v.end_at > v.start_at
),

-- local dates of the window holding start_at and of the one holding the instant before end_at
slot_days as (
    select
        w.user_id,
        w.category_id,
        w.tz,
        w.start_at,
        w.end_at,
        w.start_wall - (w.start_at < (w.start_wall::timestamp at time zone w.tz))::int as first_date,
        w.end_wall - (w.end_at - interval '1 microsecond' < (w.end_wall::timestamp at time zone w.tz))::int as last_date
    from (
        select
            slots.*,
            (slots.start_at at time zone slots.tz)::date as start_wall,
            ((slots.end_at - interval '1 microsecond') at time zone slots.tz)::date as end_wall
        from slots
        limit all offset 0
    ) as w
),

-- one piece per local day a slot overlaps: window bounds are computed only for slots crossing a local midnight
pieces as (
    select
        p.user_id,
        p.local_date,
        p.category_id,
        tstzrange(p.piece_start, p.piece_end) as piece,
        round(extract(epoch from p.piece_end - p.piece_start) / 60)::int as minutes
    from (
        select
            d.user_id,
            d.category_id,
            d.first_date + d.i as local_date,
            case when d.i = 0 then d.start_at else ((d.first_date + d.i)::timestamp at time zone d.tz) end as piece_start,
            case
                when d.first_date + d.i = d.last_date then d.end_at
                else ((d.first_date + d.i + 1)::timestamp at time zone d.tz)
            end as piece_end
        from (
            select
                slot_days.*,
                generate_series(0, slot_days.last_date - slot_days.first_date) as i
            from slot_days
        ) as d
    ) as p
    where p.piece_start < p.piece_end and p.local_date >= '1900-01-01' and p.local_date < '9999-01-01'
),

-- one sort of the pieces by (user, date, category) feeds both group aggregates
per_category as (
    select
        user_id,
        local_date,
        category_id,
        sum(minutes) as minutes,
        range_agg(piece) as ranges
    from pieces
    group by user_id, local_date, category_id
),

scheduled as (
    select
        user_id,
        local_date,
        sum(minutes)::int as total_minutes,
        range_agg(ranges) as ranges,
        jsonb_object_agg(coalesce(category_id::text, 'uncategorized'), minutes) as category_minutes
    from per_category
    group by user_id, local_date
),

-- due instant of a counted task with a valid slot: its latest slot end
task_due as (
    select
        d.user_id,
        d.is_completed,
        d.tz,
        max(d.end_at) as due_at
    from slots as d
    group by d.task_id, d.user_id, d.is_completed, d.tz
),

-- due on the day whose window holds due_at - 1 us, i.e. (D 00:00, D+1 00:00]; completed on the day holding completed_at
events as (
    select
        w.user_id,
        w.wall - (w.due_at - interval '1 microsecond' < (w.wall::timestamp at time zone w.tz))::int as local_date,
        0 as completed,
        1 as due,
        w.is_completed::int as due_completed
    from (
        select
            task_due.*,
            ((task_due.due_at - interval '1 microsecond') at time zone task_due.tz)::date as wall
        from task_due
        limit all offset 0
    ) as w
    union all
    select
        w.user_id,
        w.wall - (w.completed_at < (w.wall::timestamp at time zone w.tz))::int as local_date,
        1 as completed,
        0 as due,
        0 as due_completed
    from (
        select
            t.user_id,
            t.completed_at,
            zones.tz,
            (t.completed_at at time zone zones.tz)::date as wall
        from app.tasks as t
        inner join zones on t.user_id = zones.user_id
        where t.deleted_at is null and t.status = 'completed' and t.completed_at is not null
        limit all offset 0
    ) as w
),

counts as (
    select
        user_id,
        local_date,
        sum(completed)::int as completed,
        sum(due)::int as due,
        sum(due_completed)::int as due_completed
    from events
    where local_date >= '1900-01-01' and local_date < '9999-01-01'
    group by user_id, local_date
),

-- the union of each calendar day's valid focus slots (local wall-clock minutes, 24:00 = next midnight)
focus as (
    select
        user_id,
        local_date,
        range_agg(tstzrange(focus_start, focus_end)) as ranges
    from (
        select
            m.user_id,
            m.local_date,
            ((m.local_date + m.start_minute * interval '1 minute') at time zone m.tz) as focus_start,
            ((m.local_date + m.end_minute * interval '1 minute') at time zone m.tz) as focus_end
        from (
            select
                x.user_id,
                x.local_date,
                x.tz,
                substr(x.a, 1, 2)::int * 60 + substr(x.a, 4, 2)::int as start_minute,
                substr(x.b, 1, 2)::int * 60 + substr(x.b, 4, 2)::int as end_minute
            from (
                select
                    e.user_id,
                    e.local_date,
                    e.tz,
                    e.slot ->> 'start' as a,
                    e.slot ->> 'end' as b
                from (
                    select
                        c.user_id,
                        c.date as local_date,
                        zones.tz,
                        jsonb_array_elements(case when jsonb_typeof(c.focus_slots) = 'array' then c.focus_slots end) as slot
                    from app.user_calendar_days as c
                    inner join zones on c.user_id = zones.user_id
                    where c.date >= '1900-01-01' and c.date < '9999-01-01'
                ) as e
            ) as x
            where
                x.a like '__:__' and substr(x.a, 1, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23}') and substr(x.a, 4, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and x.b like '__:__'
                and (x.b = '24:00' or (substr(x.b, 1, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23}') and substr(x.b, 4, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')))
            limit all offset 0
        ) as m
        where m.end_minute > m.start_minute
        limit all offset 0
    ) as i
    where focus_start < focus_end
    group by user_id, local_date
)

select
    coalesce(s.user_id, f.user_id, c.user_id) as user_id,
    coalesce(s.local_date, f.local_date, c.local_date) as date,
    coalesce(s.total_minutes, 0) as total_scheduled_minutes,
    coalesce((
        select round(sum(extract(epoch from upper(r) - lower(r))) / 60)::int
        from unnest(s.ranges * f.ranges) as r
    ), 0) as focus_minutes,
    coalesce((
        select round(sum(extract(epoch from upper(r) - lower(r))) / 60)::int
        from unnest(f.ranges) as r
    ), 0) as focus_available_minutes,
    coalesce(c.completed, 0) as completed_tasks_count,
    coalesce(c.due, 0) as tasks_due_count,
    coalesce(c.due_completed, 0) as tasks_due_completed_count,
    coalesce(s.category_minutes, '{}') as category_minutes
from scheduled as s
full join focus as f on s.user_id = f.user_id and s.local_date = f.local_date
full join counts as c
    on coalesce(s.user_id, f.user_id) = c.user_id and coalesce(s.local_date, f.local_date) = c.local_date
