{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=["{{ drop_index_kind('period_range', this) }}", "{{ delete_goal_periods_to_recompute() }}"],
        post_hook="{{ create_index_once('period_start', '(period_start)') }}",
        indexes=[
            {'columns': ['goal_id', 'period_start', 'period_end'], 'unique': true},
            {'columns': ['user_id', 'time_period', 'period_start']},
            {'columns': ['covers_builds_through']},
            {'columns': ['computed_at']},
        ],
    )
}}

{#-
    Goal progress per active goal and period (the rules of the macro goal_progress), as of the build's
    as_of, kept incrementally: a run recomputes only what can have changed (see the pre-hook
    delete_goal_periods_to_recompute): the periods of new or changed goals, each goal's latest period
    and the newer ones, and the periods overlapping the local dates the daily builds rebuilt since the
    last run (mart_build_log). goal_progress_snapshots is the public view of it.
    The periods overlapping a rebuilt range are found through a btree index on period_start (a period
    is at most a month long), made by a hook so that tables of earlier versions get it too; it replaces
    their GiST index on the period's date range, which took a full build 2.5 s to make.
-#}

-- depends_on: {{ ref('mart_build_log') }}

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
    category_id,
    goal_updated_at,
    metric_timezone,
    {{ goal_latest_build_sql() }} as covers_builds_through,
    now() as computed_at
{% if incremental_run() -%}
    from {{ goal_progress(build_as_of(), {'stored': this, 'rebuilt_ranges': goal_rebuilt_ranges_sql()}) }} as progress
{%- else -%}
    from {{ goal_progress(build_as_of()) }} as progress
{%- endif %}
