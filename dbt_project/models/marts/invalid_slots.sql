{{
    config(
        materialized='table',
        indexes=[{'columns': ['user_id']}],
    )
}}

{#- Every invalid slot of every source row (deleted and cancelled tasks included), with a reason. -#}

select
    user_id,
    'scheduled' as source,
    task_id,
    null::date as date,
    slot_index,
    slot,
    invalid_reason as reason
from {{ ref('int_task_slots_parsed') }}
where invalid_reason is not null
union all
select
    user_id,
    'focus' as source,
    null::uuid as task_id,
    date,
    slot_index,
    slot,
    invalid_reason as reason
from {{ ref('int_focus_slots_parsed') }}
where invalid_reason is not null
