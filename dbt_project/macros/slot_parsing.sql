{#-
    Slot validation and parsing, shared by the incremental parsed-slot tables and
    the live view `task_local_dates`. Strings are validated BEFORE any cast: a bad
    cast to timestamptz raises in PostgreSQL, and one bad slot must never stop a run.

    Reason vocabulary (checked in this order, the first that applies wins):
      scheduled: not_an_array, not_an_object, missing_start, missing_end,
                 unparseable_start, unparseable_end, missing_offset, end_not_after_start
      focus:     not_an_array, not_an_object, missing_start, missing_end,
                 unparseable_start, unparseable_end, end_not_after_start
-#}

{#-
    ISO-8601 date-time shapes (boolean matches without capture groups: PostgreSQL's regex engine is
    fast for those): date, 'T' or ' ', HH:MM[:SS[.fraction]], then an offset Z / ±HH / ±HH:MM / ±HHMM.
-#}
{% macro iso_instant_with_offset_pattern() -%}
'^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)$'
{%- endmacro %}

{% macro iso_instant_without_offset_pattern() -%}
'^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$'
{%- endmacro %}

{#- 'offset', 'no_offset' or null (not an ISO-8601 date-time string) for a text that should hold an instant. -#}
{% macro iso_instant_shape(text_value) -%}
    case
        when {{ text_value }} ~ {{ iso_instant_with_offset_pattern() }} then 'offset'
        when {{ text_value }} ~ {{ iso_instant_without_offset_pattern() }} then 'no_offset'
    end
{%- endmacro %}

{#-
    True when a text of a known ISO shape names a real calendar date and clock time: fixed positions,
    pure arithmetic, never an error (so '2025-02-30T10:00Z' is unparseable and never reaches a cast).
-#}
{% macro iso_instant_fields_are_valid(t) -%}
    (
        substr({{ t }}, 1, 4)::integer >= 1
        and substr({{ t }}, 6, 2)::integer between 1 and 12
        and substr({{ t }}, 9, 2)::integer between 1 and (
            case
                when substr({{ t }}, 6, 2)::integer in (4, 6, 9, 11) then 30
                when substr({{ t }}, 6, 2)::integer = 2
                    then
                        case
                            when
                                substr({{ t }}, 1, 4)::integer % 4 = 0
                                and (substr({{ t }}, 1, 4)::integer % 100 <> 0 or substr({{ t }}, 1, 4)::integer % 400 = 0)
                                then 29
                            else 28
                        end
                else 31
            end
        )
        and substr({{ t }}, 12, 2)::integer <= 23
        and substr({{ t }}, 15, 2)::integer <= 59
        and (substr({{ t }}, 17, 1) <> ':' or substr({{ t }}, 18, 2)::integer <= 59)
    )
{%- endmacro %}

{#-
    A validated ISO instant truncated to the minute, exactly: the seconds and fraction are cut from the
    text before the cast (casting first would round 10:00:59.9999999 up to 10:01, since PostgreSQL keeps
    microseconds). Offsets are whole minutes, so cutting local seconds truncates the instant itself. The
    tail after HH:MM loses its leading seconds and fraction (ltrim), which leaves the offset.
-#}
{% macro iso_instant_to_minute(t) -%}
    (substr({{ t }}, 1, 16) || ltrim(substr({{ t }}, 17), ':.0123456789'))::timestamptz
{%- endmacro %}

{#- `= any` of the two-digit texts from..to: a hashed lookup, about twice as fast as a regex here. -#}
{% macro two_digits_between(text_expr, low, high) -%}
    {{ text_expr }} = any('{ {%- for n in range(low, high + 1) -%}{{ '%02d' % n }}{{ ',' if not loop.last }}{%- endfor -%} }')
{%- endmacro %}

{#-
    `= any` of every text '<a><separator><b>' with a in low_a..high_a and b in low_b..high_b, both two
    digits ('01-28', '23:59'): one hashed lookup checks two fields and the separator between. With
    `prefixes`, each text once per prefix ('+15:59', '-15:59'), and the `also` texts besides ('Z').
-#}
{% macro two_digit_pairs_between(text_expr, low_a, high_a, separator, low_b, high_b, prefixes=[''], also=[]) -%}
    {%- set pairs = also | list -%}
    {%- for prefix in prefixes -%}
        {%- for a in range(low_a, high_a + 1) -%}
            {%- for b in range(low_b, high_b + 1) -%}
                {%- do pairs.append(prefix ~ ('%02d' % a) ~ separator ~ ('%02d' % b)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ text_expr }} = any('{ {{- pairs | join(',') -}} }')
{%- endmacro %}

{#-
    `= any` of every 'MM-DD' that is a date in every year (all but '02-29'): one hashed lookup, no
    calendar arithmetic. Days 29-31 are a tenth of all dates, so leaving them to the full field check
    sent a tenth of all slots down the slow path.
-#}
{% macro month_day_is_valid_every_year(text_expr) -%}
    {%- set month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- set pairs = [] -%}
    {%- for days in month_days -%}
        {%- set month = loop.index -%}
        {%- for day in range(1, days + 1) -%}
            {%- do pairs.append(('%02d' % month) ~ '-' ~ ('%02d' % day)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ text_expr }} = any('{ {{- pairs | join(',') -}} }')
{%- endmacro %}

{#-
    True for the usual shape, YYYY-MM-DDTHH:MM:SS then Z or +-HH:MM, with fields that are surely valid
    (any month-day but 02-29, so no calendar check). Such a text is valid and has an offset; any other text takes the
    pattern and field checks. One LIKE for the separators, then six hashed lookups (year halves,
    month-day, hour:minute, seconds, the offset tail): each substr walks the text, so fewer, wider
    lookups check a text in about 60% of the time of one lookup per field (1.1 vs 1.7 s per million).
-#}
{% macro iso_instant_is_usual_and_valid(t) -%}
    (
        {{ t }} like '____-__-__T__:__:__%'
        and {{ two_digit_pairs_between('substr(' ~ t ~ ', 20)', 0, 15, ':', 0, 59, prefixes=['+', '-'], also=['Z']) }}
        and {{ two_digits_between('substr(' ~ t ~ ', 1, 2)', 0, 99) }}
        and {{ two_digits_between('substr(' ~ t ~ ', 3, 2)', 0, 99) }}
        and substr({{ t }}, 1, 4) <> '0000'
        and {{ month_day_is_valid_every_year('substr(' ~ t ~ ', 6, 5)') }}
        and {{ two_digit_pairs_between('substr(' ~ t ~ ', 12, 5)', 0, 23, ':', 0, 59) }}
        and {{ two_digits_between('substr(' ~ t ~ ', 18, 2)', 0, 59) }}
    )
{%- endmacro %}

{#-
    A text of the usual shape (iso_instant_is_usual_and_valid) truncated to the minute: its seconds are
    at fixed positions, so they become '00' before the cast (about half the cost of the general cut).
-#}
{% macro usual_instant_to_minute(t) -%}
    overlay({{ t }} placing '00' from 18 for 2)::timestamptz
{%- endmacro %}

{#-
    The elements of a jsonb column that should be an array, as a lateral FROM item: one row each
    (slot_index 1-based, early_reason null), or one row with slot_index null, the value itself as slot and
    early_reason 'not_an_array' when it is not an array. A plain subquery over a function call, which
    PostgreSQL pulls up: a filter on the row's key reaches the source scan, and a full parse can run in
    parallel workers.
-#}
{% macro json_array_elements_or_not_an_array(json_column) -%}
    lateral (
        select
            case when jsonb_typeof({{ json_column }}) = 'array' then element.slot_index::integer end as slot_index,
            element.slot,
            case when jsonb_typeof({{ json_column }}) <> 'array' then 'not_an_array' end as early_reason
        from jsonb_array_elements(
            case
                when jsonb_typeof({{ json_column }}) = 'array' then {{ json_column }}
                else jsonb_build_array({{ json_column }})
            end
        ) with ordinality as element (slot, slot_index)
    )
{%- endmacro %}

{#-
    A field of a slot as text: a JSON string's text, another value's JSON text (which no instant pattern
    matches), or null when the field is missing or null or the slot is not an object (`->>` of an array or
    a scalar is null, never an error). Cheap enough to repeat in every check that reads it: a
    jsonb_to_record function scan, computed once per row, cost 0.7 us more per slot.
-#}
{% macro slot_field(slot, field) -%}
    ({{ slot }} ->> '{{ field }}')
{%- endmacro %}

{#-
    True when a text is a local clock time "HH:MM" (00:00-23:59; "24:00" too with allow_24): one hashed
    lookup among the valid texts, as the usual instant shape checks its 'HH:MM'.
-#}
{% macro clock_time_is_valid(t, allow_24=false) -%}
    {{ two_digit_pairs_between(t, 0, 23, ':', 0, 59, also=(['24:00'] if allow_24 else [])) }}
{%- endmacro %}

{#- A text of the usual shape as its instant truncated to the minute; null for any other text. -#}
{% macro usual_instant_or_null(t) -%}
    case when {{ iso_instant_is_usual_and_valid(t) }} then {{ usual_instant_to_minute(t) }} end
{%- endmacro %}

{#-
    The validation of scheduled slots: a query over `rows` (a FROM item with columns slot (jsonb) and
    early_reason, and any others, which pass through) adding start_at, end_at (truncated to the minute;
    null when invalid) and invalid_reason (null when valid). Each stage is an `offset 0` subquery, so
    PostgreSQL computes every expression once per slot instead of copying it into each later reference.
    The first stage reads the fields and classifies their shapes (the costly part) in the same query
    level as the scan of `rows`, so a full parse runs it in parallel workers. As a lateral subquery over
    one slot (`rows` = `(select <slot>, <early_reason>)`) the stages run per slot and keep the caller's
    filters pushed down. A null text has a null shape.
-#}
{% macro scheduled_slot_checks(rows) -%}
    select
        cast_instants.*,
        case when cast_instants.parse_reason is null and cast_instants.end_ts > cast_instants.start_ts then cast_instants.start_ts end
            as start_at,
        case when cast_instants.parse_reason is null and cast_instants.end_ts > cast_instants.start_ts then cast_instants.end_ts end
            as end_at,
        coalesce(cast_instants.parse_reason, case when cast_instants.end_ts <= cast_instants.start_ts then 'end_not_after_start' end)
            as invalid_reason
    from (
        select
            reasoned.*,
            case
                when reasoned.parse_reason is null
                    then coalesce(reasoned.usual_start_ts, {{ iso_instant_to_minute('reasoned.start_text') }})
            end as start_ts,
            case
                when reasoned.parse_reason is null
                    then coalesce(reasoned.usual_end_ts, {{ iso_instant_to_minute('reasoned.end_text') }})
            end as end_ts
        from (
            select
                typed.*,
                case
                    when typed.early_reason is not null then typed.early_reason
                    when typed.slot_type <> 'object' then 'not_an_object'
                    when typed.start_text is null then 'missing_start'
                    when typed.end_text is null then 'missing_end'
                    when typed.start_shape is null then 'unparseable_start'
                    when typed.start_shape <> 'usual' and not {{ iso_instant_fields_are_valid('typed.start_text') }}
                        then 'unparseable_start'
                    when typed.end_shape is null then 'unparseable_end'
                    when typed.end_shape <> 'usual' and not {{ iso_instant_fields_are_valid('typed.end_text') }}
                        then 'unparseable_end'
                    when typed.start_shape = 'no_offset' or typed.end_shape = 'no_offset' then 'missing_offset'
                end as parse_reason
            from (
                select
                    fields.*,
                    case
                        when fields.usual_start_ts is not null then 'usual'
                        else {{ iso_instant_shape('fields.start_text') }}
                    end as start_shape,
                    case
                        when fields.usual_end_ts is not null then 'usual'
                        else {{ iso_instant_shape('fields.end_text') }}
                    end as end_shape
                from (
                    select
                        slot_rows.*,
                        jsonb_typeof(slot_rows.slot) as slot_type,
                        {{ slot_field('slot_rows.slot', 'start') }} as start_text,
                        {{ slot_field('slot_rows.slot', 'end') }} as end_text,
                        {{ usual_instant_or_null(slot_field('slot_rows.slot', 'start')) }} as usual_start_ts,
                        {{ usual_instant_or_null(slot_field('slot_rows.slot', 'end')) }} as usual_end_ts
                    from {{ rows }} as slot_rows
                    limit all offset 0
                ) as fields
                limit all offset 0
            ) as typed
            limit all offset 0
        ) as reasoned
        limit all offset 0
    ) as cast_instants
{%- endmacro %}

{#-
    The set-wise form of scheduled_slot_checks, for a parse of many slots: the same start_at, end_at and
    invalid_reason, with `rows`' own columns. PostgreSQL runs in parallel workers only the query level
    of the scan: each `offset 0` level above it runs in the leader, one row at a time, while the workers
    wait (the four levels of scheduled_slot_checks took 13 s of a 30 s full parse of 4.08 M slots). So
    here the workers check and cast the usual shape (iso_instant_is_usual_and_valid, almost every
    slot), and ONE level above settles each slot: at once when both instants have the usual shape, else
    by the staged rules written out in place (the same reasons in the same order as
    scheduled_slot_checks; each WHEN guards the casts of the next ones, as CASE evaluates in order and
    AND does not). Those rules repeat in each output column, which costs nothing for the usual slots
    (the CASE stops first) and a few microseconds for each other one.
-#}
{% macro scheduled_slot_checks_set(rows) -%}
    {%- set start_text = slot_field('screened.slot', 'start') -%}
    {%- set end_text = slot_field('screened.slot', 'end') -%}
    {%- set usual_pair = "screened.early_reason is null and screened.usual_start_ts is not null"
        ~ " and screened.usual_end_ts is not null" -%}
    {%- set other_reason -%}
        case
            when screened.early_reason is not null then screened.early_reason
            when jsonb_typeof(screened.slot) <> 'object' then 'not_an_object'
            when {{ start_text }} is null then 'missing_start'
            when {{ end_text }} is null then 'missing_end'
            when screened.usual_start_ts is null and ({{ iso_instant_shape(start_text) }}) is null then 'unparseable_start'
            when screened.usual_start_ts is null and not {{ iso_instant_fields_are_valid(start_text) }}
                then 'unparseable_start'
            when screened.usual_end_ts is null and ({{ iso_instant_shape(end_text) }}) is null then 'unparseable_end'
            when screened.usual_end_ts is null and not {{ iso_instant_fields_are_valid(end_text) }}
                then 'unparseable_end'
            when
                (screened.usual_start_ts is null and {{ start_text }} !~ {{ iso_instant_with_offset_pattern() }})
                or (screened.usual_end_ts is null and {{ end_text }} !~ {{ iso_instant_with_offset_pattern() }})
                then 'missing_offset'
        end
    {%- endset -%}
    {%- set other_start = "coalesce(screened.usual_start_ts, " ~ iso_instant_to_minute(start_text) ~ ")" -%}
    {%- set other_end = "coalesce(screened.usual_end_ts, " ~ iso_instant_to_minute(end_text) ~ ")" -%}
    select
        screened.*,
        case
            when {{ usual_pair }}
                then case when screened.usual_end_ts > screened.usual_start_ts then screened.usual_start_ts end
            when ({{ other_reason }}) is null
                then case when {{ other_end }} > {{ other_start }} then {{ other_start }} end
        end as start_at,
        case
            when {{ usual_pair }}
                then case when screened.usual_end_ts > screened.usual_start_ts then screened.usual_end_ts end
            when ({{ other_reason }}) is null
                then case when {{ other_end }} > {{ other_start }} then {{ other_end }} end
        end as end_at,
        case
            when {{ usual_pair }}
                then case when screened.usual_end_ts <= screened.usual_start_ts then 'end_not_after_start' end
            else coalesce(({{ other_reason }}), case when {{ other_end }} <= {{ other_start }} then 'end_not_after_start' end)
        end as invalid_reason
    from (
        select
            slot_rows.*,
            {{ usual_instant_or_null(slot_field('slot_rows.slot', 'start')) }} as usual_start_ts,
            {{ usual_instant_or_null(slot_field('slot_rows.slot', 'end')) }} as usual_end_ts
        from {{ rows }} as slot_rows
        limit all offset 0
    ) as screened
{%- endmacro %}

{#-
    One row per element of each task's scheduled_slots (one row for a value that is not an array):
    task_id, user_id, task_updated_at, slot_index (1-based; null for not_an_array), slot (raw jsonb),
    start_at, end_at (truncated to the minute, null when invalid), invalid_reason (null when valid).
    `tasks` is a relation or CTE with task_id, user_id, scheduled_slots, updated_at, and the
    `task_columns` to pass through. Set-wise by default (a parse of many tasks, parallel workers);
    `per_row=true` for a view that callers filter by task or user: the filter then reaches `tasks`.
-#}
{% macro scheduled_slots_parsed(tasks, task_columns=[], per_row=false) %}
    {%- set elements -%}
        (
            select
                source_tasks.task_id,
                source_tasks.user_id,
                source_tasks.updated_at as task_updated_at,
                {%- for column in task_columns %}
                source_tasks.{{ column }},
                {%- endfor %}
                elements.slot_index,
                elements.slot,
                elements.early_reason
            from {{ tasks }} as source_tasks
            cross join {{ json_array_elements_or_not_an_array('source_tasks.scheduled_slots') }} as elements
        )
    {%- endset -%}
    (
        select
            parsed.task_id,
            parsed.user_id,
            parsed.task_updated_at,
            {%- for column in task_columns %}
            parsed.{{ column }},
            {%- endfor %}
            parsed.slot_index,
            parsed.slot,
            {%- if per_row %}
            checked.start_at,
            checked.end_at,
            checked.invalid_reason
        from {{ elements }} as parsed
        cross join lateral ({{ scheduled_slot_checks('(select parsed.slot, parsed.early_reason)') }}) as checked
            {%- else %}
            parsed.start_at,
            parsed.end_at,
            parsed.invalid_reason
        from ({{ scheduled_slot_checks_set(elements) }}) as parsed
            {%- endif %}
    )
{% endmacro %}

{#-
    The validation of focus slots (local "HH:MM" times): a query over `rows` (a FROM item with columns
    slot and early_reason, and any others, which pass through) adding start_minute (0-1439), end_minute
    (1-1440; "24:00" = 1440 = the next local midnight) and invalid_reason. Stages as in
    scheduled_slot_checks.
-#}
{% macro focus_slot_checks(rows) -%}
    select
        reasoned.*,
        case when reasoned.invalid_reason is null then reasoned.start_minute_of_day end as start_minute,
        case when reasoned.invalid_reason is null then reasoned.end_minute_of_day end as end_minute
    from (
        select
            minutes.*,
            case
                when minutes.early_reason is not null then minutes.early_reason
                when minutes.slot_type <> 'object' then 'not_an_object'
                when minutes.start_value is null then 'missing_start'
                when minutes.end_value is null then 'missing_end'
                when minutes.start_text is null then 'unparseable_start'
                when minutes.end_text is null then 'unparseable_end'
                when minutes.end_minute_of_day <= minutes.start_minute_of_day then 'end_not_after_start'
            end as invalid_reason
        from (
            select
                typed.*,
                substr(typed.start_text, 1, 2)::integer * 60 + substr(typed.start_text, 4, 2)::integer as start_minute_of_day,
                substr(typed.end_text, 1, 2)::integer * 60 + substr(typed.end_text, 4, 2)::integer as end_minute_of_day
            from (
                select
                    slot_rows.*,
                    jsonb_typeof(slot_rows.slot) as slot_type,
                    {{ slot_field('slot_rows.slot', 'start') }} as start_value,
                    {{ slot_field('slot_rows.slot', 'end') }} as end_value,
                    case when {{ clock_time_is_valid(slot_field('slot_rows.slot', 'start')) }} then {{ slot_field('slot_rows.slot', 'start') }} end as start_text,
                    case when {{ clock_time_is_valid(slot_field('slot_rows.slot', 'end'), allow_24=true) }} then {{ slot_field('slot_rows.slot', 'end') }} end as end_text
                from {{ rows }} as slot_rows
                limit all offset 0
            ) as typed
            limit all offset 0
        ) as minutes
        limit all offset 0
    ) as reasoned
{%- endmacro %}

{#-
    One row per element of each calendar day's focus_slots (one row for a value that is not an array):
    user_id, date, day_updated_at, slot_index, slot, start_minute, end_minute, invalid_reason. Times are
    local wall-clock minutes: they become instants only in the user's current time zone, when a day is built.
-#}
{% macro focus_slots_parsed(days) %}
    {%- set elements -%}
        (
            select
                source_days.user_id,
                source_days.date,
                source_days.updated_at as day_updated_at,
                elements.slot_index,
                elements.slot,
                elements.early_reason
            from {{ days }} as source_days
            cross join {{ json_array_elements_or_not_an_array('source_days.focus_slots') }} as elements
        )
    {%- endset -%}
    (
        select
            parsed.user_id,
            parsed.date,
            parsed.day_updated_at,
            parsed.slot_index,
            parsed.slot,
            parsed.start_minute,
            parsed.end_minute,
            parsed.invalid_reason
        from ({{ focus_slot_checks(elements) }}) as parsed
    )
{% endmacro %}

{#-
    Change detection of the parsed-slot tables, which must not grow with history: a run re-parses the
    source rows whose updated_at is at or after this table's last parse (max parsed_at, the database's
    clock, indexed) minus the lookback var parse_lookback (default 1 hour): an app transaction that began
    before a parse and committed after it carries an earlier updated_at, and is caught as long as it took
    less than the lookback. An empty table, a first run, a full refresh or a table from before parsed_at
    existed parses everything. The
    instant is read once, as a literal, so the planner sees it and ranges over the updated_at index.
-#}
{% macro last_parse_watermark(required_columns=['parsed_at']) -%}
    {%- set watermark = none -%}
    {%- set columns = adapter.get_columns_in_relation(this) if execute and incremental_run() else [] -%}
    {%- set present = columns | map(attribute='name') | list -%}
    {#- a table built before one of its columns existed is parsed again whole (the column is added on the way) -#}
    {%- if columns and required_columns | reject('in', present) | list | length == 0 -%}
        {%- set result = run_query(
            "select (max(parsed_at) - interval '" ~ var('parse_lookback') ~ "')::text from " ~ this
        ) -%}
        {%- set watermark = result.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if watermark -%}
        '{{ watermark }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#-
    Around the pre-hook deletes of the incremental tables: they touch the few rows a build changes, found
    through indexes, but PostgreSQL's estimates lead it to hash a whole table (app.tasks, every stored goal
    period) to find them, a cost that grows with history. Nested loops over the indexes keep it to the
    changes. SET LOCAL and RESET bound it to these statements.
-#}
{% macro index_lookups_only() -%}
    set local enable_hashjoin = off;
    set local enable_mergejoin = off;
{%- endmacro %}

{% macro any_join_again() -%}
    reset enable_hashjoin;
    reset enable_mergejoin
{%- endmacro %}

{#-
    Pre-hook of the parsed-slot tables: delete the rows of source rows changed since the last parse (see
    last_parse_watermark), so that the model's insert re-parses exactly those, and the rows of source
    rows that no longer exist (hard deletes).
    Hard deletes are found from the tombstones of app.source_deletes where the source table has its
    triggers (pulse db init, see source_deletes_recorded): the keys deleted since the last parse, and
    after a TRUNCATE every row parsed before it; the work follows the deletes, not the history. Without
    the triggers (or in a table from before parsed_at existed), every parsed row that the built range reads (`orphans_in_range`, a condition on `parsed`
    that an index serves) is checked against the source: one index probe each, into an index the size of
    the history. Hard-deleted rows that check leaves outside the range stay until a build covers them;
    they never reach a mart (the invalid_slots view checks the source row exists).
-#}
{% macro delete_reparsed_rows(source_relation, key_columns, orphans_in_range, required_columns=['parsed_at']) -%}
    {% if incremental_run() -%}
        {%- set watermark = last_parse_watermark(required_columns) -%}
        {%- set source_row_is_gone -%}
            not exists (
                select 1
                from {{ source_relation }} as current_rows
                where
                    {% for key in key_columns -%}
                        current_rows.{{ key }} = parsed.{{ key }}{% if not loop.last %} and {% endif %}
                    {% endfor -%}
            )
        {%- endset -%}
        {{ index_lookups_only() }}
        delete from {{ this }} as parsed
        using {{ source_relation }} as changed
        where
            changed.updated_at >= {{ watermark }}
            {% for key in key_columns -%}
                and changed.{{ key }} = parsed.{{ key }}
            {% endfor %};
        {%- set has_parsed_at = 'parsed_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
        {% if has_parsed_at and source_deletes_recorded(source_relation) -%}
            {%- set tombstones = source_deletes_relation(source_relation) -%}
            delete from {{ this }} as parsed
            using {{ tombstones }} as gone
            cross join lateral jsonb_populate_record(null::{{ source_relation }}, gone.key) as deleted
            where
                gone.table_name = '{{ source_relation.identifier }}'
                and gone.deleted_at >= {{ watermark }}
                and gone.key is not null
                {% for key in key_columns -%}
                    and parsed.{{ key }} = deleted.{{ key }}
                {% endfor -%}
                and {{ source_row_is_gone }};
            delete from {{ this }} as parsed
            where
                parsed.parsed_at < (
                    select max(gone.deleted_at)
                    from {{ tombstones }} as gone
                    where
                        gone.table_name = '{{ source_relation.identifier }}'
                        and gone.deleted_at >= {{ watermark }}
                        and gone.key is null
                )
                and {{ source_row_is_gone }};
        {%- else -%}
            delete from {{ this }} as parsed
            where
                {{ orphans_in_range }}
                and {{ source_row_is_gone }};
        {%- endif %}
        {{ any_join_again() }}
    {%- endif %}
{%- endmacro %}

{#- app.source_deletes beside `source_relation`: the tombstones of hard deletes (pulse/sql/init.sql). -#}
{% macro source_deletes_relation(source_relation) -%}
    {{ return(api.Relation.create(
        database=source_relation.database, schema=source_relation.schema, identifier='source_deletes')) }}
{%- endmacro %}

{#-
    Whether hard deletes of `source_relation` are recorded in app.source_deletes: both of its triggers
    calling app.record_source_deletes (one for DELETE, one for TRUNCATE) exist and are enabled. Asked at
    run time; false while dbt parses.
-#}
{% macro source_deletes_recorded(source_relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from pg_trigger join pg_proc on pg_proc.oid = pg_trigger.tgfoid"
        ~ " where pg_trigger.tgrelid = to_regclass('" ~ source_relation ~ "')"
        ~ " and pg_proc.proname = 'record_source_deletes' and pg_trigger.tgenabled in ('O', 'A')"
        ~ " and to_regclass('" ~ source_deletes_relation(source_relation) ~ "') is not null"
    ) -%}
    {{ return(found.columns[0].values()[0] == 2) }}
{%- endmacro %}

{#-
    The source rows a run parses: changed since the last parse (see last_parse_watermark) and without
    rows in this table (the pre-hook deleted the changed ones' rows; a row changed between the pre-hook
    and this insert keeps its old rows until the next run, which sees it changed).
-#}
{% macro rows_to_parse(source_alias, key_columns, required_columns=['parsed_at']) -%}
    {% if incremental_run() -%}
        where
            {{ source_alias }}.updated_at >= {{ last_parse_watermark(required_columns) }}
            and not exists (
                select 1
                from {{ this }} as parsed
                where
                    {% for key in key_columns -%}
                        parsed.{{ key }} = {{ source_alias }}.{{ key }}{% if not loop.last %} and {% endif %}
                    {% endfor -%}
            )
    {%- endif %}
{%- endmacro %}
