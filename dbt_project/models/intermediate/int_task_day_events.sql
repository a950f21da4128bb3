{{ config(materialized='table', tags=['daily'], pre_hook="{{ build_work_mem() }}") }}

{#-
    Completions and due dates of the local dates of the built range [start_date, end_date), one row per
    task and event, in the user's current zone:
    - 'completed' on the local day whose window holds completed_at (task not deleted, status completed),
      found through the index on app.tasks(completed_at);
    - 'due' on the local day D with D 00:00 < due_at <= D+1 00:00, due_at being the latest end of the
      valid slots of a counted task (so a task ending exactly at local midnight is due on the day that
      ends there), from the slots of the range's tasks (int_task_slots_of_range).
    A scratch table of this build's range only (recreated by every build, read only by the build).
-#}

with users as (
    select
        user_id,
        metric_timezone
    from {{ ref('stg_app__users') }}
),

completions as (
    select
        source_tasks.user_id,
        source_tasks.task_id,
        source_tasks.category_id,
        source_tasks.updated_at as task_updated_at,
        source_tasks.is_completed,
        'completed' as event,
        source_tasks.completed_at as moment
    from {{ ref('stg_app__tasks') }} as source_tasks
    where
        source_tasks.is_completed
        and source_tasks.completed_at >= {{ range_instant_lower() }}
        and source_tasks.completed_at < {{ range_instant_upper() }}
),

dues as (
    select
        slots.user_id,
        slots.task_id,
        slots.category_id,
        slots.task_updated_at,
        slots.is_completed,
        'due' as event,
        -- the window (D 00:00, D+1 00:00] holding due_at is the one [D 00:00, D+1 00:00) holding due_at - 1 us
        max(slots.end_at) - interval '1 microsecond' as moment
    from {{ ref('int_task_slots_of_range') }} as slots
    group by slots.user_id, slots.task_id, slots.category_id, slots.task_updated_at, slots.is_completed
),

events as (
    select
        moments.user_id,
        moments.task_id,
        moments.category_id,
        moments.task_updated_at,
        moments.is_completed,
        moments.event,
        {{ local_date_of('moments.moment', 'users.metric_timezone') }} as date
    from (
        select * from completions
        union all
        select * from dues
    ) as moments
    inner join users on moments.user_id = users.user_id
)

select
    user_id,
    task_id,
    category_id,
    task_updated_at,
    is_completed,
    date,
    event
from events
where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
