{{ config(materialized='view') }}

{#-
    Every local date each task contributes to NOW, from the current source rows (not the marts):
    scheduled minutes, completion or due, by the same day rules as the daily builds. The change sensor
    reads it filtered by task_id (the filter reaches the scan of app.tasks), next to the table
    fct_task_dates (where the last build put the task).
-#}

with users as (
    select
        user_id,
        metric_timezone
    from {{ ref('stg_app__users') }}
),

valid_slots as (
    select
        slots.task_id,
        slots.user_id,
        slots.start_at,
        slots.end_at,
        users.metric_timezone
    from {{ ref('int_task_slots_parsed') }} as slots
    inner join users on slots.user_id = users.user_id
    where slots.is_counted and slots.invalid_reason is null
),

-- the local dates from the window holding a slot's start to the one holding its last instant
scheduled_dates as (
    select
        spans.user_id,
        spans.task_id,
        spans.first_date + day_offsets.day_offset as date
    from (
        select
            valid_slots.user_id,
            valid_slots.task_id,
            greatest({{ local_date_of('valid_slots.start_at', 'valid_slots.metric_timezone') }}, '1900-01-01'::date)
                as first_date,
            least(
                {{ local_date_of("(valid_slots.end_at - interval '1 microsecond')", 'valid_slots.metric_timezone') }},
                '9998-12-31'::date
            ) as last_date
        from valid_slots
    ) as spans
    cross join lateral generate_series(0, spans.last_date - spans.first_date) as day_offsets (day_offset)
),

-- due on the day whose window (D 00:00, D+1 00:00] holds the latest slot end
due_dates as (
    select
        valid_slots.user_id,
        valid_slots.task_id,
        {{ local_date_of("(max(valid_slots.end_at) - interval '1 microsecond')", 'valid_slots.metric_timezone') }}
            as date
    from valid_slots
    group by valid_slots.user_id, valid_slots.task_id, valid_slots.metric_timezone
),

completion_dates as (
    select
        source_tasks.user_id,
        source_tasks.task_id,
        {{ local_date_of('source_tasks.completed_at', 'users.metric_timezone') }} as date
    from {{ ref('stg_app__tasks') }} as source_tasks
    inner join users on source_tasks.user_id = users.user_id
    where source_tasks.is_completed
)

select
    user_id,
    task_id,
    date
from scheduled_dates
union
select
    user_id,
    task_id,
    date
from due_dates
where date >= '1900-01-01' and date < '9999-01-01'
union
select
    user_id,
    task_id,
    date
from completion_dates
where date >= '1900-01-01' and date < '9999-01-01'
