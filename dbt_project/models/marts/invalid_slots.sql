{{ config(materialized='view') }}

{#-
    Every invalid slot of every source row (deleted and cancelled tasks included), with a reason: a view
    over the invalid rows of the parsed-slot tables (partial indexes), so a build never rescans history
    for it. Rows of source rows deleted since their parse are left out.
-#}

select
    parsed.user_id,
    'scheduled' as source,
    parsed.task_id,
    null::date as date,
    parsed.slot_index,
    parsed.slot,
    parsed.invalid_reason as reason,
    parsed.parsed_at
from {{ ref('int_task_slots_parsed') }} as parsed
where
    parsed.invalid_reason is not null
    and exists (
        select 1
        from {{ ref('stg_app__tasks') }} as source_tasks
        where source_tasks.task_id = parsed.task_id
    )
union all
select
    parsed.user_id,
    'focus' as source,
    null::uuid as task_id,
    parsed.date,
    parsed.slot_index,
    parsed.slot,
    parsed.invalid_reason as reason,
    parsed.parsed_at
from {{ ref('int_focus_slots_parsed') }} as parsed
where
    parsed.invalid_reason is not null
    and exists (
        select 1
        from {{ ref('stg_app__user_calendar_days') }} as source_days
        where source_days.user_id = parsed.user_id and source_days.date = parsed.date
    )
