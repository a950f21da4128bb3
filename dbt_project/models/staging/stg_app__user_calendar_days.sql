-- depends_on: {{ ref('stg_app__tasks') }}
{#
    The staging views are built one after another (stg_app__users, tasks, user_calendar_days, goals,
    categories): dbt replaces a view by renaming it and dropping the old one with CASCADE, and two threads
    replacing two views that a third reads (task_local_dates reads users and tasks) can deadlock.
-#}

select
    user_id,
    date,
    focus_slots,
    updated_at
from {{ source('app', 'user_calendar_days') }}
