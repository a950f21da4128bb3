-- depends_on: {{ ref('stg_app__users') }}
{#
    The staging views are built one after another (stg_app__users, tasks, user_calendar_days, goals,
    categories): dbt replaces a view by renaming it and dropping the old one with CASCADE, and two threads
    replacing two views that a third reads (task_local_dates reads users and tasks) can deadlock.
-#}

select
    task_id,
    user_id,
    category_id,
    title,
    status,
    scheduled_slots,
    completed_at,
    deleted_at,
    created_at,
    updated_at,
    deleted_at is null and status <> 'cancelled' as is_counted,
    deleted_at is null and status = 'completed' as is_completed
from {{ source('app', 'tasks') }}
