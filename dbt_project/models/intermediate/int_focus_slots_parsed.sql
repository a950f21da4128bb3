{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{{ delete_stale_parsed_rows(source('app', 'user_calendar_days'), ['user_id', 'date'], 'day_updated_at') }}",
        indexes=[
            {'columns': ['date']},
            {'columns': ['user_id', 'date']},
        ],
    )
}}

{#-
    Every element of every calendar day's focus_slots, validated and parsed into local wall-clock
    minutes (0-1440). They become instants only when a day is built, in the user's current zone.
    Incremental by (user_id, date) like int_task_slots_parsed.
-#}

with days_to_parse as (
    select
        source_days.user_id,
        source_days.date,
        source_days.focus_slots,
        source_days.updated_at
    from {{ ref('stg_app__user_calendar_days') }} as source_days
    {% if incremental_run() -%}
        where not exists (
            select 1 from {{ this }} as parsed
            where parsed.user_id = source_days.user_id and parsed.date = source_days.date
        )
    {%- endif %}
)

select
    user_id,
    date,
    day_updated_at,
    slot_index,
    slot,
    start_minute,
    end_minute,
    invalid_reason
from {{ focus_slots_parsed('days_to_parse') }} as parsed_slots
