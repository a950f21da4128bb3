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
    leaves no row. Never rebuilt by --full-refresh. finished_at and duration_seconds say when the row
    was written; the on-run-end hook record_build_finished moves them to the end of the whole invocation.
-#}

select
    {{ range_start_date() }} as start_date,
    {{ range_end_date() }} as end_date,
    '{{ run_started_at.isoformat() }}'::timestamptz as built_at,
    '{{ invocation_id }}'::text as invocation_id,
    clock_timestamp() as finished_at,
    extract(epoch from clock_timestamp() - '{{ run_started_at.isoformat() }}'::timestamptz)::float8
        as duration_seconds,
    (
        select count(*)
        from {{ ref('analytics_daily_metrics') }}
        where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
    ) as daily_rows,
    (
        select count(*)
        from {{ ref('daily_category_metrics') }}
        where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
    ) as category_rows,
    (
        select count(*)
        from {{ ref('fct_task_dates') }}
        where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
    ) as task_date_rows
