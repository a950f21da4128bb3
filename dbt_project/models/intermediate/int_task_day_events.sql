{{
    config(
        materialized='incremental',
        incremental_strategy='date_range_diff',
        unique_key=['task_id', 'date'],
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook="{{ build_work_mem() }}",
        indexes=[
            {'columns': ['date']},
            {'columns': ['task_id']},
        ],
    )
}}

{#-
    Completions and due dates of the built range [start_date, end_date), one row per task and event
    ('completed' or 'due'), computed once per build for the three date-partitioned marts. Rebuilt by
    date_range_diff over the range like them (tag daily): only the rows that differ are written.
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
