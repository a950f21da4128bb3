{#-
    Local days and the built date range. A local day D of a user is the instant range
    [(D 00:00) at time zone tz, (D+1 00:00) at time zone tz): PostgreSQL's `timestamp AT TIME ZONE`
    resolves gap times with the offset before the transition and ambiguous times with the offset
    after it, exactly as SPEC section 2 says, so DST days are 23 or 25 hours long.
-#}

{#- First local date of the rebuilt range (start_date, inclusive; macros/build_var.sql). -#}
{% macro range_start_date() -%}
    '{{ build_var("start_date") }}'::date
{%- endmacro %}

{#- End of the rebuilt range (end_date, exclusive; macros/build_var.sql). -#}
{% macro range_end_date() -%}
    '{{ build_var("end_date") }}'::date
{%- endmacro %}

{#-
    An instant surely before every local window of the range in any time zone: PostgreSQL's UTC offsets
    stay within ±16 h, so the start date's UTC midnight less one day is before its earliest local midnight.
    The tighter the margin, the fewer slots and events a ranged build reads around its range.
-#}
{% macro range_instant_lower() -%}
    (({{ range_start_date() }} - 1)::timestamp at time zone 'UTC')
{%- endmacro %}

{#- An instant surely after every local window of the range in any time zone (see range_instant_lower). -#}
{% macro range_instant_upper() -%}
    (({{ range_end_date() }} + 1)::timestamp at time zone 'UTC')
{%- endmacro %}

{#-
    True for a task whose slots can touch a local date of the built range: pulse db init's
    app.task_slot_days of scheduled_slots (per slot, every date between its two 'YYYY-MM-DD' prefixes, or
    'infinity' for a slot spanning more than 62 days; a GIN-indexed expression) shares a date with the range
    widened by 3 days (a local date is at most 2 days from a slot text's own date), or is 'infinity'.
    Written as the indexed expression so that a ranged build reads its tasks through the index; `true`
    for the default range (all history), where a scan is the right plan anyway.
-#}
{% macro slots_may_touch_range(scheduled_slots) -%}
    {%- if build_var('start_date') == '1900-01-01' and build_var('end_date') == '9999-01-01' -%}
        true
    {%- else -%}
        app.task_slot_days({{ scheduled_slots }}) && (
            array(
                select range_day::date
                from generate_series({{ range_start_date() }} - 3, {{ range_end_date() }} + 2, interval '1 day') as range_day
            ) || 'infinity'::date
        )
    {%- endif -%}
{%- endmacro %}

{#- Start instant of local date `local_date` in zone `tz`. -#}
{% macro local_day_start(local_date, tz) -%}
    (({{ local_date }})::timestamp at time zone {{ tz }})
{%- endmacro %}

{#-
    The local date whose window holds `instant` in zone `tz`. Usually the wall-clock date; but when a
    local midnight is ambiguous (clocks fall back onto it), the window of that date starts at the later
    midnight, so an instant in the first pass of the repeated hour belongs to the date before. `wall`:
    the instant's wall date when the caller has computed it already (one AT TIME ZONE call fewer).
-#}
{% macro local_date_of(instant, tz, wall=none) -%}
    {%- set wall = wall or '(' ~ instant ~ ' at time zone ' ~ tz ~ ')::date' -%}
    (
        {{ wall }}
        - case
            when {{ instant }} < {{ local_day_start(wall, tz) }}
                then 1
            else 0
        end
    )
{%- endmacro %}

{#- Whole minutes in a tstzmultirange (0 for null or empty). -#}
{% macro multirange_minutes(multirange) -%}
    coalesce((
        select round(sum(extract(epoch from upper(part) - lower(part))) / 60)::integer
        from unnest({{ multirange }}) as part
    ), 0)
{%- endmacro %}

{#- "Now" of a build: as_of (ISO timestamp with offset; macros/build_var.sql), else the run's start time. -#}
{% macro build_as_of() -%}
    {%- if build_var('as_of') -%}
        '{{ build_var("as_of") }}'::timestamptz
    {%- else -%}
        '{{ run_started_at.isoformat() }}'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#-
    is_incremental(), except while sqlfluff lints without a database (the var lint_without_database is
    set in .sqlfluff): is_incremental() asks the database whether the table exists.
-#}
{% macro incremental_run() -%}
    {{ return(not var('lint_without_database', false) and is_incremental()) }}
{%- endmacro %}
