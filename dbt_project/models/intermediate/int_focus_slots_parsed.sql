{#-
    Every element of every calendar day's focus_slots, checked by the rules of SPEC section 1 and parsed
    into local wall-clock minutes of the day (start 0-1439, end 1-1440: "24:00" is the next local
    midnight). They become instants only when a day is built, in the user's current zone
    (int_focus_by_local_day). A view over the source: a reader's filter on user_id or date reaches the
    scan of app.user_calendar_days and its indexes.

    A time is "HH:MM", 00:00 to 23:59 ("24:00" too as an end). Reasons, the first that applies wins:
    not_an_array, not_an_object, missing_start, missing_end, unparseable_start, unparseable_end,
    end_not_after_start.
-#}

with days as (
    select
        user_id,
        date,
        focus_slots,
        updated_at as day_updated_at
    from {{ ref('stg_app__user_calendar_days') }}
),

elements as (
    select
        days.user_id,
        days.date,
        days.day_updated_at,
        element.slot_index,
        element.slot,
        element.early_reason,
        jsonb_typeof(element.slot) as slot_type,
        element.slot ->> 'start' as start_text,
        element.slot ->> 'end' as end_text
    from days
    cross join {{ json_array_elements_or_not_an_array('days.focus_slots') }} as element
),

minutes as (
    select
        elements.*,
        case
            when elements.start_text ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                then substr(elements.start_text, 1, 2)::integer * 60 + substr(elements.start_text, 4, 2)::integer
        end as start_minute_of_day,
        case
            when elements.end_text ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$'
                then substr(elements.end_text, 1, 2)::integer * 60 + substr(elements.end_text, 4, 2)::integer
        end as end_minute_of_day
    from elements
),

checked as (
    select
        minutes.*,
        case
            when minutes.early_reason is not null then minutes.early_reason
            when minutes.slot_type <> 'object' then 'not_an_object'
            when minutes.start_text is null then 'missing_start'
            when minutes.end_text is null then 'missing_end'
            when minutes.start_minute_of_day is null then 'unparseable_start'
            when minutes.end_minute_of_day is null then 'unparseable_end'
            when minutes.end_minute_of_day <= minutes.start_minute_of_day then 'end_not_after_start'
        end as invalid_reason
    from minutes
)

select
    user_id,
    date,
    day_updated_at,
    slot_index,
    slot,
    case when invalid_reason is null then start_minute_of_day end as start_minute,
    case when invalid_reason is null then end_minute_of_day end as end_minute,
    invalid_reason
from checked
