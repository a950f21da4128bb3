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
    rebuilt, when the run started (the data is at least that fresh), dbt's invocation id and the marts'
    row counts of the range. It reads the marts, so it runs after them and their tests: a failed build
    leaves no row. Never rebuilt by --full-refresh.
-#}

select
    {{ range_start_date() }} as start_date,
    {{ range_end_date() }} as end_date,
    '{{ run_started_at.isoformat() }}'::timestamptz as built_at,
    '{{ invocation_id }}'::text as invocation_id,
    {%- for mart, column in [
        ('analytics_daily_metrics', 'daily_rows'),
        ('daily_category_metrics', 'category_rows'),
        ('fct_task_dates', 'task_date_rows'),
    ] %}
    (
        select count(*)
        from {{ ref(mart) }}
        where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
    ) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
