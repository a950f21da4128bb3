{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook=["{{ delete_built_date_range() }}", "{{ build_work_mem() }}"],
        indexes=[
            {'columns': ['user_id', 'date']},
            {'columns': ['date']},
            {'columns': ['task_id']},
        ],
    )
}}

{#-
    Completions and due dates of the built range [start_date, end_date), one row per task and event
    ('completed' or 'due'), computed once per build for the three date-partitioned marts. Rebuilt by
    delete + insert over the range like them (tag daily).
-#}

select
    user_id,
    task_id,
    category_id,
    task_updated_at,
    is_completed,
    date,
    event
from {{ task_events_by_local_day() }} as events
