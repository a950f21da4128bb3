{{ config(materialized='table', tags=['daily'], pre_hook="{{ build_work_mem() }}") }}

{#-
    The valid slots of counted tasks cut into one piece per local day they overlap (user's current zone),
    for the local dates of the built range [start_date, end_date). A local day D is the instant range
    [(D 00:00) at time zone tz, (D+1 00:00) at time zone tz) (macros/local_days.sql), so DST days are 23
    or 25 hours long. A scratch table of this build's range only (recreated by every build, read only by
    the build), from the valid slots of the range's tasks (int_task_slots_of_range).
-#}

with users as (
    select
        user_id,
        metric_timezone
    from {{ ref('stg_app__users') }}
),

slots as (
    select
        slots.task_id,
        slots.slot_index,
        slots.user_id,
        slots.category_id,
        slots.task_updated_at,
        users.metric_timezone,
        slots.start_at,
        slots.end_at
    from {{ ref('int_task_slots_of_range') }} as slots
    inner join users on slots.user_id = users.user_id
    where
        slots.start_at < {{ range_instant_upper() }}
        and slots.end_at > {{ range_instant_lower() }}
),

-- the local dates of the windows holding the slot's first and its last instant
spans as (
    select
        slots.*,
        {{ local_date_of('slots.start_at', 'slots.metric_timezone') }} as first_date,
        {{ local_date_of("(slots.end_at - interval '1 microsecond')", 'slots.metric_timezone') }} as last_date
    from slots
),

-- one piece per local date of the span inside the built range
pieces as (
    select
        spans.user_id,
        spans.task_id,
        spans.slot_index,
        spans.category_id,
        spans.task_updated_at,
        piece_days.local_date,
        greatest(
            spans.start_at, {{ local_day_start('piece_days.local_date', 'spans.metric_timezone') }}
        ) as piece_start,
        least(spans.end_at, {{ local_day_start('piece_days.local_date + 1', 'spans.metric_timezone') }}) as piece_end
    from spans
    cross join lateral (
        select greatest(spans.first_date, {{ range_start_date() }}) + day_offset as local_date
        from generate_series(
            0, least(spans.last_date, {{ range_end_date() }} - 1) - greatest(spans.first_date, {{ range_start_date() }})
        ) as day_offsets (day_offset)
    ) as piece_days
)

select
    user_id,
    task_id,
    slot_index,
    category_id,
    task_updated_at,
    local_date as date,
    piece_start,
    piece_end,
    round(extract(epoch from piece_end - piece_start) / 60)::integer as minutes
from pieces
where piece_start < piece_end
