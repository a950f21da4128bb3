{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['goal_id', 'period_start', 'period_end'], 'unique': true},
            {'columns': ['user_id', 'time_period', 'period_start']},
        ],
    )
}}

{#- Goal progress as of the build's as_of, for every period of every active goal up to the current one. -#}

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
from {{ goal_progress(build_as_of()) }} as progress
