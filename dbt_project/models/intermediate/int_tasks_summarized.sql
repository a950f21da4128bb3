{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        on_schema_change='append_new_columns',
        pre_hook=["{{ build_work_mem() }}", "{{ delete_reparsed_rows(
            source('app', 'tasks'), ['task_id'],
            '(parsed.completed_at between ' ~ range_instant_lower() ~ ' and ' ~ range_instant_upper()
            ~ ' or parsed.due_at between ' ~ range_instant_lower() ~ ' and ' ~ range_instant_upper() ~ ')') }}"],
        indexes=[
            {'columns': ['task_id'], 'unique': true},
            {'columns': ['completed_at']},
            {'columns': ['due_at']},
            {'columns': ['parsed_at']},
        ],
    )
}}

{#-
    One row per task: what the metrics need of it (counted, completed, category) and its due instant,
    the latest end of its valid slots. Incremental by task exactly like int_task_slots_parsed (only the
    tasks changed since the last parse), and a ranged build finds the tasks completed or due in its range
    through the indexes, not by a scan.
-#}

with tasks as (
    select source_tasks.*
    from {{ ref('stg_app__tasks') }} as source_tasks
    {{ rows_to_parse('source_tasks', ['task_id']) }}
),

slot_summary as (
    select
        slots.task_id,
        max(slots.end_at) as due_at,
        count(*) filter (where slots.invalid_reason is null) as valid_slot_count,
        count(*) filter (where slots.invalid_reason is not null) as invalid_slot_count
    from {{ ref('int_task_slots_parsed') }} as slots
    {% if incremental_run() -%}
        where slots.task_id in (select tasks.task_id from tasks)  -- the tasks re-parsed by this run
    {%- endif %}
    group by slots.task_id
)

select
    tasks.task_id,
    tasks.user_id,
    tasks.category_id,
    tasks.status,
    tasks.is_counted,
    tasks.is_completed,
    tasks.completed_at,
    slot_summary.due_at,
    coalesce(slot_summary.valid_slot_count, 0)::integer as valid_slot_count,
    coalesce(slot_summary.invalid_slot_count, 0)::integer as invalid_slot_count,
    tasks.updated_at,
    now() as parsed_at
from tasks
left join slot_summary on tasks.task_id = slot_summary.task_id
