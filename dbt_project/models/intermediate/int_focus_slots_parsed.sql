{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_reparsed_rows(
            source('app', 'user_calendar_days'), ['user_id', 'date'],
            'parsed.date >= ' ~ range_start_date() ~ ' and parsed.date < ' ~ range_end_date()) }}",
        post_hook="{{ create_index_once('invalid', '(parsed_at) where invalid_reason is not null') }}",
        indexes=[
            {'columns': ['date']},
            {'columns': ['user_id', 'date']},
            {'columns': ['parsed_at']},
        ],
    )
}}

{#-
    Every element of every calendar day's focus_slots, validated and parsed into local wall-clock
    minutes (0-1440). They become instants only when a day is built, in the user's current zone.
    Incremental by (user_id, date) like int_task_slots_parsed: only the days changed since the last parse.
-#}

with days_to_parse as (
    select
        source_days.user_id,
        source_days.date,
        source_days.focus_slots,
        source_days.updated_at
    from {{ ref('stg_app__user_calendar_days') }} as source_days
    {{ rows_to_parse('source_days', ['user_id', 'date']) }}
)

select
    user_id,
    date,
    day_updated_at,
    slot_index,
    case when invalid_reason is not null then slot end as slot,
    start_minute,
    end_minute,
    invalid_reason,
    now() as parsed_at
from {{ focus_slots_parsed('days_to_parse') }} as parsed_slots
