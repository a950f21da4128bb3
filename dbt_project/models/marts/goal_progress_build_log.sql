{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

{#-
    One row per build of the goal snapshots: when it ran and its as_of, the "now" its statuses were
    judged at. goal_progress_snapshots reads the latest row for taken_at. Appended after
    int_goal_period_progress is built; never rebuilt by --full-refresh.
-#}

-- depends_on: {{ ref('int_goal_period_progress') }}

select
    '{{ run_started_at.isoformat() }}'::timestamptz as built_at,
    {{ build_as_of() }} as as_of,
    '{{ invocation_id }}'::text as invocation_id
