{{ config(materialized='table', tags=['daily']) }}

{#-
    The valid slots of the counted tasks that have a slot touching the built range [start_date, end_date)
    (every valid slot of such a task, so its latest end is known), parsed once per build: the slot pieces and
    the due dates both read them. The tasks are found through the index on their slots' date span
    (slots_may_touch_range), never by scanning history. A scratch table of this build's range only
    (recreated by every build, read only by the build). When the two read the view, a full build parsed
    every slot twice (10,000 users x 90 days: 43-55 s each time).
-#}

select
    task_id,
    slot_index,
    user_id,
    category_id,
    task_updated_at,
    is_completed,
    start_at,
    end_at
from {{ ref('int_task_slots_parsed') }}
where
    {{ slots_may_touch_range('scheduled_slots') }}
    and is_counted
    and invalid_reason is null
