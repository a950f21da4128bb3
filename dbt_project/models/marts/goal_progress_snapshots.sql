{{ config(materialized='view') }}

{#-
    Goal progress as of the latest build's as_of, for every period of every active goal up to the current
    one: the incrementally kept int_goal_period_progress with taken_at from goal_progress_build_log.
-#}

with latest_build as (
    select builds.as_of
    from {{ ref('goal_progress_build_log') }} as builds
    order by builds.built_at desc
    limit 1
)

select
    progress.goal_id,
    progress.user_id,
    progress.period_start,
    progress.period_end,
    progress.time_period,
    progress.target_type,
    progress.target_value,
    progress.achieved_value,
    progress.percent_complete,
    progress.status,
    latest_build.as_of as taken_at,
    progress.category_id
from {{ ref('int_goal_period_progress') }} as progress
cross join latest_build
