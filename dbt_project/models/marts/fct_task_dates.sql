{{ config(materialized='view', tags=['daily']) }}

{#-
    Where the daily marts last put each task: every local date a task contributes to (scheduled
    minutes, completion or due), read from the pieces and events the daily builds keep (indexed by
    task_id). The change sensor compares it with the view task_local_dates (where the task
    is now) so a moved slot also rebuilds the date it left. A view: a build writes nothing for it.
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
