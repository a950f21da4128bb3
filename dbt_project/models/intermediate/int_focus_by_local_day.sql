{{ config(materialized='table', tags=['daily']) }}

{#-
    Per user and local date of the built range [start_date, end_date): the union of the day's valid focus
    slots as instants (a tstzmultirange) and its length, for both daily marts. Local times become instants
    in the user's current zone as PostgreSQL's AT TIME ZONE resolves them (a time in a spring-forward gap
    takes the offset before it, an ambiguous one the standard offset); "24:00" is the next local midnight.
    A slot whose instants come out empty (it starts in the gap and ends right after it) adds nothing.
    A scratch table of this build's range only (recreated by every build, read only by the build): the
    calendar days of the range are found by the index on app.user_calendar_days(date).
-#}

with users as (
    select
        user_id,
        metric_timezone
    from {{ ref('stg_app__users') }}
),

focus_instants as (
    select
        focus.user_id,
        focus.date,
        focus.day_updated_at,
        ((focus.date + focus.start_minute * interval '1 minute') at time zone users.metric_timezone) as focus_start,
        ((focus.date + focus.end_minute * interval '1 minute') at time zone users.metric_timezone) as focus_end
    from {{ ref('int_focus_slots_parsed') }} as focus
    inner join users on focus.user_id = users.user_id
    where
        focus.invalid_reason is null
        and focus.date >= {{ range_start_date() }}
        and focus.date < {{ range_end_date() }}
),

unioned as (
    select
        user_id,
        date,
        max(day_updated_at) as day_updated_at,
        range_agg(tstzrange(focus_start, focus_end)) as focus_ranges
    from focus_instants
    where focus_start < focus_end
    group by user_id, date
)

select
    user_id,
    date,
    day_updated_at,
    focus_ranges,
    {{ multirange_minutes('focus_ranges') }} as focus_available_minutes
from unioned
