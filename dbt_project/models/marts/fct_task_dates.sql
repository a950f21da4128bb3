{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
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
    Where the daily marts last put each task: every local date of the built range a task contributes to
    (scheduled minutes, completion or due), rebuilt with the marts by replace_date_range. The change
    sensor compares it with the view task_local_dates (where the task is now, read from the source) so
    that a moved slot also rebuilds the date it left.
-#}

select
    user_id,
    task_id,
    date
from {{ ref('int_scheduled_slot_pieces') }}
union
select
    user_id,
    task_id,
    date
from {{ ref('int_task_day_events') }}
