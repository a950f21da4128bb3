{#-
    Every element of every task's scheduled_slots (deleted and cancelled tasks included), checked by the
    slot rules of SPEC section 1 and parsed into instants truncated to the minute: the one copy of those
    rules. A view over the source: a reader's filter on a task column (task_id, or its slot dates through
    the macro slots_may_touch_range) reaches the scan of app.tasks and its indexes, so a ranged build
    parses only the tasks of its dates. Texts are checked BEFORE any cast: a bad cast raises in
    PostgreSQL, and one bad slot must never stop a run.

    An instant is YYYY-MM-DD, 'T' or ' ', HH:MM[:SS[.fraction]] and an offset Z, +-HH, +-HH:MM or +-HHMM
    (hours up to 15: a timestamptz holds no more), naming a real calendar date and clock time.
    Reasons, the first that applies wins: not_an_array, not_an_object, missing_start, missing_end,
    unparseable_start, unparseable_end, missing_offset, end_not_after_start (after truncation).
-#}

{%- set date_time = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?" -%}
{%- set with_offset = "'" ~ date_time ~ "(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$'" -%}
{%- set without_offset = "'" ~ date_time ~ "$'" -%}
{#- a text of either shape (as @) names a real date and clock time: fixed positions, pure arithmetic, never an error -#}
{%- set is_real_date_time -%}
    substr(@, 1, 4)::integer >= 1
    and substr(@, 6, 2)::integer between 1 and 12
    and substr(@, 9, 2)::integer between 1 and case
        when substr(@, 6, 2) in ('04', '06', '09', '11') then 30
        when substr(@, 6, 2) <> '02' then 31
        when
            substr(@, 1, 4)::integer % 4 = 0
            and (substr(@, 1, 4)::integer % 100 <> 0 or substr(@, 1, 4)::integer % 400 = 0)
            then 29
        else 28
    end
    and substr(@, 12, 2)::integer <= 23
    and substr(@, 15, 2)::integer <= 59
    and (substr(@, 17, 1) <> ':' or substr(@, 18, 2)::integer <= 59)
{%- endset -%}
{#- truncated to the minute: the seconds and fraction are cut from the text before the cast (casting first
    would round 10:00:59.9999999 up); offsets are whole minutes, so this truncates the instant itself -#}
{%- set instant_to_minute = "(substr(@, 1, 16) || ltrim(substr(@, 17), ':.0123456789'))::timestamptz" %}

with tasks as (
    select
        task_id,
        user_id,
        category_id,
        is_counted,
        is_completed,
        completed_at,
        updated_at as task_updated_at,
        scheduled_slots
    from {{ ref('stg_app__tasks') }}
),

elements as (
    select
        tasks.task_id,
        tasks.user_id,
        tasks.category_id,
        tasks.is_counted,
        tasks.is_completed,
        tasks.completed_at,
        tasks.task_updated_at,
        tasks.scheduled_slots,
        element.slot_index,
        element.slot,
        element.early_reason
    from tasks
    cross join {{ json_array_elements_or_not_an_array('tasks.scheduled_slots') }} as element
)

select
    elements.task_id,
    elements.user_id,
    elements.category_id,
    elements.is_counted,
    elements.is_completed,
    elements.completed_at,
    elements.task_updated_at,
    elements.scheduled_slots,
    elements.slot_index,
    elements.slot,
    case when slot_checks.end_ts > slot_checks.start_ts then slot_checks.start_ts end as start_at,
    case when slot_checks.end_ts > slot_checks.start_ts then slot_checks.end_ts end as end_at,
    coalesce(
        slot_checks.parse_reason, case when slot_checks.end_ts <= slot_checks.start_ts then 'end_not_after_start' end
    ) as invalid_reason
-- One slot at a time; each stage is an `offset 0` subquery, so every expression is computed once per slot
-- (PostgreSQL would otherwise copy it into each later reference) and the filters of a reader still reach
-- the scan of app.tasks.
from elements
cross join lateral (  -- noqa: ST05
    select
        reasoned.parse_reason,
        case
            when reasoned.parse_reason is null then {{ instant_to_minute | replace('@', 'reasoned.start_text') }}
        end as start_ts,
        case
            when reasoned.parse_reason is null then {{ instant_to_minute | replace('@', 'reasoned.end_text') }}
        end as end_ts
    from (
        select
            shaped.start_text,
            shaped.end_text,
            case
                when elements.early_reason is not null then elements.early_reason
                when shaped.slot_type <> 'object' then 'not_an_object'
                when shaped.start_text is null then 'missing_start'
                when shaped.end_text is null then 'missing_end'
                when shaped.start_shape is null or not shaped.start_is_real then 'unparseable_start'
                when shaped.end_shape is null or not shaped.end_is_real then 'unparseable_end'
                when shaped.start_shape = 'no_offset' or shaped.end_shape = 'no_offset' then 'missing_offset'
            end as parse_reason
        from (
            select
                typed.*,
                case
                    when typed.start_shape is not null then {{ is_real_date_time | replace('@', 'typed.start_text') }}
                end as start_is_real,
                case
                    when typed.end_shape is not null then {{ is_real_date_time | replace('@', 'typed.end_text') }}
                end as end_is_real
            from (
                select
                    texts.*,
                    case
                        when texts.start_text ~ {{ with_offset }} then 'offset'
                        when texts.start_text ~ {{ without_offset }} then 'no_offset'
                    end as start_shape,
                    case
                        when texts.end_text ~ {{ with_offset }} then 'offset'
                        when texts.end_text ~ {{ without_offset }} then 'no_offset'
                    end as end_shape
                from (
                    -- a field's text: a JSON string's text, another value's JSON text (which no instant
                    -- matches), or null when the field is missing or null or the slot is not an object
                    select
                        jsonb_typeof(elements.slot) as slot_type,
                        elements.slot ->> 'start' as start_text,
                        elements.slot ->> 'end' as end_text
                    limit all offset 0
                ) as texts
                limit all offset 0
            ) as typed
            limit all offset 0
        ) as shaped
        limit all offset 0
    ) as reasoned
    limit all offset 0
) as slot_checks
