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
    from {{ scheduled_slots_parsed('tasks') }} as parsed
    inner join tasks on parsed.task_id = tasks.task_id
    where parsed.invalid_reason is null and tasks.is_counted
),

scheduled_dates as (
    select
        valid_slots.user_id,
        valid_slots.task_id,
        candidates.local_date as date
    from valid_slots
    cross join {{ candidate_local_dates(
        'valid_slots.start_at', 'valid_slots.end_at', 'valid_slots.metric_timezone',
        "'1900-01-01'::date", "'9999-01-01'::date") }} as candidates
    where
        valid_slots.start_at < {{ local_day_end('candidates.local_date', 'valid_slots.metric_timezone') }}
        and valid_slots.end_at > {{ local_day_start('candidates.local_date', 'valid_slots.metric_timezone') }}
),

due_dates as (
    select
        valid_slots.user_id,
        valid_slots.task_id,
        candidates.local_date as date
    from valid_slots
    cross join {{ candidate_local_dates(
        'valid_slots.due_at', 'valid_slots.due_at', 'valid_slots.metric_timezone',
        "'1900-01-01'::date", "'9999-01-01'::date") }} as candidates
    where
        valid_slots.end_at = valid_slots.due_at
        and valid_slots.due_at > {{ local_day_start('candidates.local_date', 'valid_slots.metric_timezone') }}
        and valid_slots.due_at <= {{ local_day_end('candidates.local_date', 'valid_slots.metric_timezone') }}
),

completion_dates as (
    select
        tasks.user_id,
        tasks.task_id,
        candidates.local_date as date
    from tasks
    cross join {{ candidate_local_dates(
        'tasks.completed_at', 'tasks.completed_at', 'tasks.metric_timezone',
        "'1900-01-01'::date", "'9999-01-01'::date") }} as candidates
    where
        tasks.is_completed
        and tasks.completed_at >= {{ local_day_start('candidates.local_date', 'tasks.metric_timezone') }}
        and tasks.completed_at < {{ local_day_end('candidates.local_date', 'tasks.metric_timezone') }}
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
union
select
    user_id,
    task_id,
    date
from completion_dates
