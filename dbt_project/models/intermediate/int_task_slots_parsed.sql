{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{{ delete_stale_parsed_rows(source('app', 'tasks'), ['task_id'], 'task_updated_at') }}",
        indexes=[
            {'columns': ['task_id']},
            {'columns': ['tstzrange(start_at, end_at)'], 'type': 'gist'},
        ],
    )
}}

{#-
    Every element of every task's scheduled_slots, validated and parsed into instants truncated to the
    minute. Incremental by task: the pre-hook deletes the rows of tasks that changed or vanished, and
    this select parses the tasks that have no rows (new, changed, or with no slots at all). Its rows are
    instants, independent of time zones, so a user's time-zone change needs no re-parse.
-#}

with tasks_to_parse as (
    select
        source_tasks.task_id,
        source_tasks.user_id,
        source_tasks.scheduled_slots,
        source_tasks.updated_at
    from {{ ref('stg_app__tasks') }} as source_tasks
    {% if incremental_run() -%}
        where not exists (select 1 from {{ this }} as parsed where parsed.task_id = source_tasks.task_id)
    {%- endif %}
)

select
    task_id,
    user_id,
    task_updated_at,
    slot_index,
    slot,
    start_at,
    end_at,
    invalid_reason
from {{ scheduled_slots_parsed('tasks_to_parse') }} as parsed_slots
