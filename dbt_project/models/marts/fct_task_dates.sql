{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook="{{ delete_built_date_range() }}",
        indexes=[
            {'columns': ['task_id']},
            {'columns': ['date']},
        ],
    )
}}

{#-
    Where the daily marts last put each task: every local date of the built range a task contributes
    to (scheduled minutes, completion or due). The change sensor compares it with the view
    task_local_dates (where the task is now) so a moved slot also rebuilds the date it left.
-#}

select distinct
    user_id,
    task_id,
    date
from (
    select
        user_id,
        task_id,
        date
    from {{ ref('int_scheduled_slot_pieces') }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
    union all
    select
        user_id,
        task_id,
        date
    from {{ ref('int_task_day_events') }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
) as contributions
