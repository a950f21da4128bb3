{{ config(materialized='view') }}

{#- The columns of goal_progress_snapshots with "now" = the query's now(): the API's goal progress. -#}

select
    goal_id,
    user_id,
    period_start,
    period_end,
    time_period,
    target_type,
    target_value,
    achieved_value,
    percent_complete,
    status,
    taken_at,
    category_id
from {{ goal_progress('now()') }} as progress
