{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
        tags=['daily'],
    )
}}

{#-
    One row per build of the date-partitioned marts: the local-date range [start_date, end_date) it
    rebuilt, when the run started (the data is at least that fresh) and dbt's invocation id. It runs
    after the marts and their tests, so a failed build leaves no row. Never rebuilt by --full-refresh.
-#}

-- depends_on: {{ ref('analytics_daily_metrics') }}
-- depends_on: {{ ref('daily_category_metrics') }}
-- depends_on: {{ ref('fct_task_dates') }}

select
    {{ range_start_date() }} as start_date,
    {{ range_end_date() }} as end_date,
    '{{ run_started_at.isoformat() }}'::timestamptz as built_at,
    '{{ invocation_id }}'::text as invocation_id
