{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        tags=['daily'],
        indexes=[
            {'columns': ['goal_id', 'period_start', 'period_end'], 'unique': true},
            {'columns': ['user_id', 'time_period', 'period_start']},
            {'columns': ['period_start']},
        ],
        pre_hook="
            {% if incremental_run() %}
            -- 1. every row of a goal deleted, no longer active or redefined (definition or user zone: its
            -- stored goal_definition differs from int_goals_defined's); the stored goals are read by a skip
            -- scan of the unique index, one probe per goal, not a scan of every period
            with recursive stored_goals as (
                (select goal_id, goal_definition from {{ this }} order by goal_id limit 1)
                union all
                select next_goal.goal_id, next_goal.goal_definition
                from stored_goals
                cross join lateral (
                    select stored.goal_id, stored.goal_definition
                    from {{ this }} as stored
                    where stored.goal_id > stored_goals.goal_id
                    order by stored.goal_id
                    limit 1
                ) as next_goal
            )
            delete from {{ this }} as stored
            using stored_goals
            where
                stored.goal_id = stored_goals.goal_id
                and not exists (
                    select 1
                    from {{ ref('int_goals_defined') }} as goals
                    where goals.goal_id = stored_goals.goal_id and goals.goal_definition = stored_goals.goal_definition
                );
            -- 2. each goal's latest stored period (it may have been the current one) and every period from
            -- the current one as of this build's as_of (an earlier as_of has no rows after it)
            delete from {{ this }} as stored
            using (
                select
                    goals.goal_id,
                    least(
                        (select max(latest.period_start) from {{ this }} as latest where latest.goal_id = goals.goal_id),
                        {{ goal_period_start(local_date_of(build_as_of(), 'goals.metric_timezone'), 'goals.time_period') }}
                    ) as recompute_from
                from {{ ref('int_goals_defined') }} as goals
            ) as bounds
            where stored.goal_id = bounds.goal_id and stored.period_start >= bounds.recompute_from;
            -- 3. every period overlapping the built range (a period is at most 31 days long, so its start is
            -- a range of the index on period_start)
            delete from {{ this }}
            where
                period_start >= {{ range_start_date() }} - 31
                and period_start < {{ range_end_date() }}
                and period_end >= {{ range_start_date() }}
            {% endif %}
        ",
    )
}}

{#-
    Progress of every active goal in every period from the one holding its creation to the current one
    as of the build's as_of, by the goal rules of the macro goal_progress (shared with the live view
    goal_progress_live). Exact by content, whatever the goals' updated_at: each build recomputes what its
    pre-hook deleted (the goals that changed, by their definition hash; the latest and current periods;
    the periods overlapping the built range, whose daily marts it just rebuilt), and keeps the rest.
-#}

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
    category_id,
    goal_definition
from {{ goal_progress(build_as_of(), this if incremental_run() else none) }} as progress
