{#-
    Local days and the built date range. A local day D of a user is the instant range
    [(D 00:00) at time zone tz, (D+1 00:00) at time zone tz): PostgreSQL's `timestamp AT TIME ZONE`
    resolves gap times with the offset before the transition and ambiguous times with the offset
    after it, exactly as SPEC section 2 says, so DST days are 23 or 25 hours long.
-#}

{#- First local date of the rebuilt range (dbt var start_date, inclusive). -#}
{% macro range_start_date() -%}
    '{{ var("start_date") }}'::date
{%- endmacro %}

{#- End of the rebuilt range (dbt var end_date, exclusive). -#}
{% macro range_end_date() -%}
    '{{ var("end_date") }}'::date
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

{#- Slots at most this long are found by their start through a btree index; longer ones by their end. -#}
{% macro short_slot_limit() -%}
    interval '2 days'
{%- endmacro %}

{#-
    The valid parsed slots (`alias` a row of int_task_slots_parsed) overlapping the instants of every local
    window of the built range in any time zone. Written for two btree indexes instead of one GiST index
    (which cost a full build several seconds): a slot overlapping the range either starts at most
    short_slot_limit() before it (index on start_at) or is longer than that (partial index on end_at of
    the few long slots); PostgreSQL ORs the two index scans. The default range (all history) reads every
    slot by a scan.
-#}
{% macro valid_slot_overlaps_range(alias) -%}
    {{ alias }}.invalid_reason is null
    and {{ alias }}.start_at < {{ range_instant_upper() }}
    and {{ alias }}.end_at > {{ range_instant_lower() }}
    and (
        {{ alias }}.start_at >= {{ range_instant_lower() }} - {{ short_slot_limit() }}
        or {{ alias }}.end_at - {{ alias }}.start_at > {{ short_slot_limit() }}
    )
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

{#- End instant (exclusive) of local date `local_date` in zone `tz`: the next local midnight. -#}
{% macro local_day_end(local_date, tz) -%}
    ((({{ local_date }}) + 1)::timestamp at time zone {{ tz }})
{%- endmacro %}

{#- Whole minutes in a tstzmultirange (0 for null or empty). -#}
{% macro multirange_minutes(multirange) -%}
    coalesce((
        select round(sum(extract(epoch from upper(part) - lower(part))) / 60)::integer
        from unnest({{ multirange }}) as part
    ), 0)
{%- endmacro %}

{#- "Now" of a build: dbt var as_of (ISO timestamp with offset), else the run's start time. -#}
{% macro build_as_of() -%}
    {%- if var("as_of") -%}
        '{{ var("as_of") }}'::timestamptz
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
