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
    case when instants.end_ts > instants.start_ts then instants.start_ts end as start_at,
    case when instants.end_ts > instants.start_ts then instants.end_ts end as end_at,
    coalesce(
        reasoned.parse_reason, case when instants.end_ts <= instants.start_ts then 'end_not_after_start' end
    ) as invalid_reason
-- One slot at a time, one stage per FROM item. Each `unnest(array[...])` is computed once per slot and the
-- later stages read its columns: PostgreSQL copies an inlined expression (a subquery, a VALUES list) into
-- each place that reads it, and keeps a subquery that reads the outer row out of its parallel workers (the
-- `offset 0` subqueries this replaced parsed every slot in one process: the valid slots of 10,000 users x 90
-- days, 4,077,608 slots, took 55.0 s, and 42.7 s with the stages in the workers, same rows, measured side by
-- side). The filters of a reader still reach the scan of app.tasks.
from elements
cross join
    lateral unnest(
        array[jsonb_typeof(elements.slot)],
        -- a field's text: a JSON string's text, another value's JSON text (which no instant matches), or null
        -- when the field is missing or null or the slot is not an object
        array[elements.slot ->> 'start'],
        array[elements.slot ->> 'end']
    ) as texts (slot_type, start_text, end_text)
cross join
    lateral unnest(
        array[
            case
                when texts.start_text ~ {{ with_offset }} then 'offset'
                when texts.start_text ~ {{ without_offset }} then 'no_offset'
            end
        ],
        array[
            case
                when texts.end_text ~ {{ with_offset }} then 'offset'
                when texts.end_text ~ {{ without_offset }} then 'no_offset'
            end
        ]
    ) as shapes (start_shape, end_shape)
cross join
    lateral unnest(
        array[
            case when shapes.start_shape is not null then {{ is_real_date_time | replace('@', 'texts.start_text') }} end
        ],
        array[case when shapes.end_shape is not null then {{ is_real_date_time | replace('@', 'texts.end_text') }} end]
    ) as realness (start_is_real, end_is_real)
cross join
    lateral unnest(
        array[
            case
                when elements.early_reason is not null then elements.early_reason
                when texts.slot_type <> 'object' then 'not_an_object'
                when texts.start_text is null then 'missing_start'
                when texts.end_text is null then 'missing_end'
                when shapes.start_shape is null or not realness.start_is_real then 'unparseable_start'
                when shapes.end_shape is null or not realness.end_is_real then 'unparseable_end'
                when shapes.start_shape = 'no_offset' or shapes.end_shape = 'no_offset' then 'missing_offset'
            end
        ]
    ) as reasoned (parse_reason)
cross join lateral unnest(
    array[case when reasoned.parse_reason is null then {{ instant_to_minute | replace('@', 'texts.start_text') }} end],
    array[case when reasoned.parse_reason is null then {{ instant_to_minute | replace('@', 'texts.end_text') }} end]
) as instants (start_ts, end_ts)
