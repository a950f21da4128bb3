-- The engine's floor for the warehouse benchmark: ONE hand-written statement computing the rows of
-- analytics.analytics_daily_metrics (all history: local dates 1900-01-01 to 9999-01-01, as a full dbt
-- build) straight from the app tables, with the mart's rules: validation before any cast (a bad cast
-- raises), minute truncation by cutting the text, local day windows via `timestamp AT TIME ZONE` with
-- the ambiguous-midnight rule of local_date_of, focus = union(scheduled) * union(focus), due in
-- (D 00:00, D+1 00:00], unknown zones in UTC. benchmarks/warehouse.py times
-- `create temp table daily_metrics_floor as <this>` (default settings) and checks that its rows equal
-- the mart's. It runs on PostgreSQL 15+.
--
-- Tuned with EXPLAIN ANALYZE on 2,000 users x 90 days (about 6 s; the plain version took 49 s):
-- - Slot texts in the usual shapes (YYYY-MM-DDTHH:MM:SS, then Z or +-HH:MM, day 01-28) are checked
--   without regexes: LIKE for the separators, then hashed `= any (constant array)` lookups for the
--   two-digit fields, which also bound their values. An end with the same date text as its start skips
--   the date lookups. Any other text takes the mart's pattern and field checks (slot_parsing.sql).
--   A regex costs about 1 us per text here (its DFA is rebuilt on every call); the lookups cost half that.
-- - The checks are quals of the element scan and the casts sit in the same level's select list, so
--   the checks run first. That level is one `limit all offset 0` fence: parallel workers run the
--   checks and casts, and later levels reuse the instants without computing them again. A text with :00
--   seconds and no fraction is cast as it is; any other text is cut by `ltrim` of its tail, not by a
--   regex substring.
-- - task_id is inside the jsonb_array_elements call so the planner adds no Memoize keyed by the jsonb
--   (it cost more than it saved).
-- - A slot's first local date is its start's wall date, minus one when the start precedes that date's
--   window (ambiguous midnight). The slot ends in that day when its end is no later than the next
--   window's start, so three AT TIME ZONE calls settle almost every slot. Only slots crossing a local
--   midnight are cut with generate_series. Due and completion dates use the same rule.
-- - The pieces go through ONE sort by (user, date, category) that feeds two stacked group aggregates:
--   category sums and range_agg, then jsonb_object_agg and range_agg of the per-category multiranges.
--   Focus unions come from one pass grouped by (user, date). Full joins of the per-day results give the
--   day rows.
with zones as (
    select
        u.user_id,
        coalesce(z.name, 'UTC') as tz
    from app.users as u
    left join (select distinct name from pg_timezone_names) as z on u.timezone = z.name
),

-- one row per valid slot element of a counted task, its instants truncated to the minute. The checks are
-- quals of the element scan, so they run before the casts of the select list (a bad cast raises): the usual
-- shapes by LIKE + hashed two-digit lookups, anything else by the mart's pattern and field checks (->> of
-- anything but a JSON string fails them). The cut drops seconds and fraction from the text (a text with :00
-- seconds and no fraction is cast as it is). One level, so parallel workers run checks and casts.
parsed as (
    select
        t.task_id,
        t.user_id,
        t.category_id,
        t.is_completed,
        case
            when e.s like '________________:00Z' or e.s like '________________:00+%' or e.s like '________________:00-%'
                then e.s::timestamptz
            else (substr(e.s, 1, 16) || ltrim(substr(e.s, 17), ':.0123456789'))::timestamptz
        end as start_at,
        case
            when e.f like '________________:00Z' or e.f like '________________:00+%' or e.f like '________________:00-%'
                then e.f::timestamptz
            else (substr(e.f, 1, 16) || ltrim(substr(e.f, 17), ':.0123456789'))::timestamptz
        end as end_at
    from (
        select
            task_id,
            user_id,
            category_id,
            status = 'completed' as is_completed,
            scheduled_slots
        from app.tasks
        where deleted_at is null and status <> 'cancelled'
    ) as t
    cross join lateral (
        select
            element.slot ->> 'start' as s,
            element.slot ->> 'end' as f
        from jsonb_array_elements(
            -- task_id in the call keeps Memoize away (a cache keyed by the jsonb costs more than it saves)
            case when jsonb_typeof(t.scheduled_slots) = 'array' and t.task_id is not null then t.scheduled_slots end
        ) as element (slot)
    ) as e
    where
        case
            when
                (e.s like '____-__-__T__:__:__Z' or e.s like '____-__-__T__:__:__+__:__' or e.s like '____-__-__T__:__:__-__:__')
                and substr(e.s, 1, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                and substr(e.s, 3, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                and substr(e.s, 1, 4) <> '0000'
                and substr(e.s, 6, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12}')
                and substr(e.s, 9, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28}')
                and substr(e.s, 12, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23}')
                and substr(e.s, 15, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and substr(e.s, 18, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and (length(e.s) = 20 or (substr(e.s, 21, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15}') and substr(e.s, 24, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')))
                then true
            when e.s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$' then
                substr(e.s, 1, 4)::int >= 1 and substr(e.s, 6, 2)::int between 1 and 12
                and substr(e.s, 9, 2)::int between 1 and case
                    when substr(e.s, 6, 2)::int in (4, 6, 9, 11) then 30
                    when substr(e.s, 6, 2)::int = 2 then case
                        when substr(e.s, 1, 4)::int % 4 = 0 and (substr(e.s, 1, 4)::int % 100 <> 0 or substr(e.s, 1, 4)::int % 400 = 0)
                            then 29
                        else 28 end
                    else 31 end
                and substr(e.s, 12, 2)::int <= 23 and substr(e.s, 15, 2)::int <= 59
                and (substr(e.s, 17, 1) <> ':' or substr(e.s, 18, 2)::int <= 59)
            else false
        end
        and case
            when
                (e.f like '____-__-__T__:__:__Z' or e.f like '____-__-__T__:__:__+__:__' or e.f like '____-__-__T__:__:__-__:__')
                and (
                    substr(e.f, 1, 10) = substr(e.s, 1, 10)
                    or (
                        substr(e.f, 1, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                        and substr(e.f, 3, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99}')
                        and substr(e.f, 1, 4) <> '0000'
                        and substr(e.f, 6, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12}')
                        and substr(e.f, 9, 2) = any ('{01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28}')
                    )
                )
                and substr(e.f, 12, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23}')
                and substr(e.f, 15, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and substr(e.f, 18, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')
                and (length(e.f) = 20 or (substr(e.f, 21, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15}') and substr(e.f, 24, 2) = any ('{00,01,02,03,04,05,06,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}')))
                then true
            when e.f ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$' then
                substr(e.f, 1, 4)::int >= 1 and substr(e.f, 6, 2)::int between 1 and 12
                and substr(e.f, 9, 2)::int between 1 and case
                    when substr(e.f, 6, 2)::int in (4, 6, 9, 11) then 30
                    when substr(e.f, 6, 2)::int = 2 then case
                        when substr(e.f, 1, 4)::int % 4 = 0 and (substr(e.f, 1, 4)::int % 100 <> 0 or substr(e.f, 1, 4)::int % 400 = 0)
                            then 29
                        else 28 end
                    else 31 end
                and substr(e.f, 12, 2)::int <= 23 and substr(e.f, 15, 2)::int <= 59
                and (substr(e.f, 17, 1) <> ':' or substr(e.f, 18, 2)::int <= 59)
            else false
        end
    limit all offset 0
),

slots as (
    select
        parsed.*,
        zones.tz
    from parsed
    inner join zones on parsed.user_id = zones.user_id
    where parsed.end_at > parsed.start_at
),

-- local dates of the windows holding start_at and the instant before end_at: the wall date, minus one when
-- the instant precedes that date's window (an ambiguous local midnight); a slot ending by the next window's
-- start (almost all) needs no look at its end's wall date
slot_days as (
    select
        b.user_id,
        b.category_id,
        b.tz,
        b.start_at,
        b.end_at,
        b.first_date,
        case
            when b.end_at <= b.next_window_start then b.first_date
            else
                ((b.end_at - interval '1 microsecond') at time zone b.tz)::date
                - (b.end_at - interval '1 microsecond' < (
                    ((b.end_at - interval '1 microsecond') at time zone b.tz)::date::timestamp at time zone b.tz
                ))::int
        end as last_date
    from (
        select
            w.*,
            case when w.start_at < w.wall_window_start then w.start_wall - 1 else w.start_wall end as first_date,
            case
                when w.start_at < w.wall_window_start then w.wall_window_start
                else ((w.start_wall + 1)::timestamp at time zone w.tz)
            end as next_window_start
        from (
            select
                v.*,
                (v.start_wall::timestamp at time zone v.tz) as wall_window_start
            from (
                select
                    slots.*,
                    (slots.start_at at time zone slots.tz)::date as start_wall
                from slots
                limit all offset 0
            ) as v
            limit all offset 0
        ) as w
        limit all offset 0
    ) as b
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
