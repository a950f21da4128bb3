{{ config(materialized='view') }}

{#-
    Every invalid slot of every source row (deleted and cancelled tasks included), with its reason: a view
    over the two slot models, so it always shows the source as it is now.
-#}

select
    parsed.user_id,
    'scheduled' as source,
    parsed.task_id,
    null::date as date,
    parsed.slot_index,
    parsed.slot,
    parsed.invalid_reason as reason
from {{ ref('int_task_slots_parsed') }} as parsed
where parsed.invalid_reason is not null
union all
select
    parsed.user_id,
    'focus' as source,
    null::uuid as task_id,
    parsed.date,
    parsed.slot_index,
    parsed.slot,
    parsed.invalid_reason as reason
from {{ ref('int_focus_slots_parsed') }} as parsed
where parsed.invalid_reason is not null
