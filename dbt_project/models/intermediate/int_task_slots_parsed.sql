{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook="{{ delete_reparsed_rows(
            source('app', 'tasks'), ['task_id'],
            valid_slot_overlaps_range('parsed'),
            ['parsed_at', 'is_counted']) }}",
        post_hook="{{ create_index_once('invalid', '(parsed_at) where invalid_reason is not null') }}",
        indexes=[
            {'columns': ['task_id']},
            {'columns': ['parsed_at']},
        ],
    )
}}

{#-
    Every element of every task's scheduled_slots, validated and parsed into instants truncated to the
    minute. Incremental by task: each run re-parses only the tasks changed since the last parse (an
    index range over app.tasks.updated_at, see last_parse_watermark), so its cost follows the changes,
    not the history. Rows are instants, independent of time zones, so a user's time-zone change needs no
    re-parse. Two btree indexes (valid slots by start, the few long ones by end) serve "valid slots
    overlapping this range" (valid_slot_overlaps_range); their reader, int_scheduled_slot_pieces,
    creates them when missing, so a full build creates them beside the task summary instead of before
    it. The task's category and whether it counts ride along (a change to either changes updated_at),
    so cutting slots into days joins no task table: a join that PostgreSQL would answer by scanning
    every task.
-#}

with tasks_to_parse as (
    select
        source_tasks.task_id,
        source_tasks.user_id,
        source_tasks.category_id,
        source_tasks.is_counted,
        source_tasks.scheduled_slots,
        source_tasks.updated_at
    from {{ ref('stg_app__tasks') }} as source_tasks
    {{ rows_to_parse('source_tasks', ['task_id'], ['parsed_at', 'is_counted']) }}
)

select
    task_id,
    user_id,
    task_updated_at,
    category_id,
    is_counted,
    slot_index,
    case when invalid_reason is not null then slot end as slot,
    start_at,
    end_at,
    invalid_reason,
    now() as parsed_at
from {{ scheduled_slots_parsed('tasks_to_parse', ['category_id', 'is_counted']) }} as parsed_slots
