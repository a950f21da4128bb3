{#-
    Every element of every task's scheduled_slots (deleted and cancelled tasks included), checked by the
    slot rules of SPEC section 1 and parsed into instants truncated to the minute: the one copy of those
    rules. A view over the source: a reader's filter on a task column (task_id, or slot_date_span through
    the macro slots_may_touch_range) reaches the scan of app.tasks and its indexes, so a ranged build
    parses only the tasks of its dates. Texts are checked BEFORE any cast: a bad cast raises in
    PostgreSQL, and one bad slot must never stop a run.

    An instant is YYYY-MM-DD, 'T' or ' ', HH:MM[:SS[.fraction]] and an offset Z, +-HH, +-HH:MM or +-HHMM
    (hours up to 15: a timestamptz holds no more), naming a real calendar date and clock time.
    Reasons, the first that applies wins: not_an_array, not_an_object, missing_start, missing_end,
    unparseable_start, unparseable_end, missing_offset, end_not_after_start (after truncation).
-#}

{%- set with_offset = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$'" -%}
{%- set without_offset = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?$'" -%}

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
    case when checked.end_ts > checked.start_ts then checked.start_ts end as start_at,
    case when checked.end_ts > checked.start_ts then checked.end_ts end as end_at,
    coalesce(checked.parse_reason, case when checked.end_ts <= checked.start_ts then 'end_not_after_start' end)
        as invalid_reason
-- One slot at a time; each stage is an `offset 0` subquery, so every expression is computed once per slot
-- (PostgreSQL would otherwise copy it into each later reference) and the filters of a reader still reach
-- the scan of app.tasks.
from elements
cross join lateral (
    select
        reasoned.parse_reason,
        -- truncated to the minute by cutting the seconds and fraction from the text before the cast (an
        -- offset is whole minutes, so this truncates the instant itself)
        {%- for field in ['start', 'end'] %}
        case
            when reasoned.parse_reason is null
                then (substr(reasoned.{{ field }}_text, 1, 16) || ltrim(substr(reasoned.{{ field }}_text, 17), ':.0123456789'))::timestamptz
        end as {{ field }}_ts{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            shaped.start_text,
            shaped.end_text,
            case
                when elements.early_reason is not null then elements.early_reason
                when shaped.slot_type <> 'object' then 'not_an_object'
                when shaped.start_text is null then 'missing_start'
                when shaped.end_text is null then 'missing_end'
                {%- for field in ['start', 'end'] %}
                {%- set t = 'shaped.' ~ field ~ '_text' %}
                when shaped.{{ field }}_shape is null then 'unparseable_{{ field }}'
                -- a real date and clock time: fixed positions, pure arithmetic, never an error
                when not (
                    substr({{ t }}, 1, 4)::integer >= 1
                    and substr({{ t }}, 6, 2)::integer between 1 and 12
                    and substr({{ t }}, 9, 2)::integer between 1 and case
                        when substr({{ t }}, 6, 2) in ('04', '06', '09', '11') then 30
                        when substr({{ t }}, 6, 2) <> '02' then 31
                        when substr({{ t }}, 1, 4)::integer % 4 = 0
                            and (substr({{ t }}, 1, 4)::integer % 100 <> 0 or substr({{ t }}, 1, 4)::integer % 400 = 0)
                            then 29
                        else 28
                    end
                    and substr({{ t }}, 12, 2)::integer <= 23
                    and substr({{ t }}, 15, 2)::integer <= 59
                    and (substr({{ t }}, 17, 1) <> ':' or substr({{ t }}, 18, 2)::integer <= 59)
                ) then 'unparseable_{{ field }}'
                {%- endfor %}
                when shaped.start_shape = 'no_offset' or shaped.end_shape = 'no_offset' then 'missing_offset'
            end as parse_reason
        from (
            select
                texts.slot_type,
                texts.start_text,
                texts.end_text,
                {%- for field in ['start', 'end'] %}
                case
                    when texts.{{ field }}_text ~ {{ with_offset }} then 'offset'
                    when texts.{{ field }}_text ~ {{ without_offset }} then 'no_offset'
                end as {{ field }}_shape{{ ',' if not loop.last }}
                {%- endfor %}
            from (
                -- a field's text: a JSON string's text, another value's JSON text (which no instant matches),
                -- or null when the field is missing or null or the slot is not an object
                select
                    jsonb_typeof(elements.slot) as slot_type,
                    elements.slot ->> 'start' as start_text,
                    elements.slot ->> 'end' as end_text
                limit all offset 0
            ) as texts
            limit all offset 0
        ) as shaped
        limit all offset 0
    ) as reasoned
    limit all offset 0
) as checked
