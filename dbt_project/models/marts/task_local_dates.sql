{{ config(materialized='view') }}

{#-
    Every local date each task contributes to NOW, computed from the current source rows (not the
    marts): scheduled minutes, completion or due, with the same rules and macros as the marts. The
    change sensor reads it filtered by task_id (the filter reaches the source scan), next to the table
    fct_task_dates (where the last build put the task).
-#}

with users as (
    select
        user_id,
        metric_timezone
    from {{ ref('stg_app__users') }}
),

tasks as not materialized (
    select
        task_rows.task_id,
        task_rows.user_id,
        task_rows.scheduled_slots,
        task_rows.updated_at,
        task_rows.is_counted,
        task_rows.is_completed,
        task_rows.completed_at,
        users.metric_timezone
    from {{ ref('stg_app__tasks') }} as task_rows
    inner join users on task_rows.user_id = users.user_id
),

valid_slots as not materialized (
    select
        parsed.task_id,
        parsed.user_id,
        parsed.start_at,
        parsed.end_at,
        tasks.metric_timezone,
        max(parsed.end_at) over (partition by parsed.task_id) as due_at
    from {{ scheduled_slots_parsed('tasks', per_row=true) }} as parsed
    inner join tasks on parsed.task_id = tasks.task_id
    where parsed.invalid_reason is null and tasks.is_counted
),

-- the local dates from the window holding a slot's start to the one holding its last instant
scheduled_dates as (
    select
        slot_spans.user_id,
        slot_spans.task_id,
        greatest(slot_spans.first_date, '1900-01-01'::date) + day_offsets.day_offset as date
    from (
        select
            valid_slots.user_id,
            valid_slots.task_id,
            {{ local_date_of('valid_slots.start_at', 'valid_slots.metric_timezone') }} as first_date,
            {{ local_date_of("(valid_slots.end_at - interval '1 microsecond')", 'valid_slots.metric_timezone') }}
                as last_date
        from valid_slots
    ) as slot_spans
    cross join lateral generate_series(
        0, least(slot_spans.last_date, '9998-12-31'::date) - greatest(slot_spans.first_date, '1900-01-01'::date)
    ) as day_offsets (day_offset)
),

-- due on the day whose window (D 00:00, D+1 00:00] holds the latest slot end
due_dates as (
    select
        valid_slots.user_id,
        valid_slots.task_id,
        {{ local_date_of("(valid_slots.due_at - interval '1 microsecond')", 'valid_slots.metric_timezone') }} as date
    from valid_slots
    where valid_slots.end_at = valid_slots.due_at
),

completion_dates as (
    select
        tasks.user_id,
        tasks.task_id,
        {{ local_date_of('tasks.completed_at', 'tasks.metric_timezone') }} as date
    from tasks
    where tasks.is_completed
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
