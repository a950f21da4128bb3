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

{#- An instant surely before every local window of the range in any time zone (offsets stay within ±16 h). -#}
{% macro range_instant_lower() -%}
    (({{ range_start_date() }} - 2)::timestamp at time zone 'UTC')
{%- endmacro %}

{#- An instant surely after every local window of the range in any time zone. -#}
{% macro range_instant_upper() -%}
    (({{ range_end_date() }} + 2)::timestamp at time zone 'UTC')
{%- endmacro %}

{#- The instants of every local window of the range in any time zone, as a tstzrange. -#}
{% macro range_instants() -%}
    tstzrange({{ range_instant_lower() }}, {{ range_instant_upper() }})
{%- endmacro %}

{#- Start instant of local date `local_date` in zone `tz`. -#}
{% macro local_day_start(local_date, tz) -%}
    (({{ local_date }})::timestamp at time zone {{ tz }})
{%- endmacro %}

{#-
    The local date whose window holds `instant` in zone `tz`. Usually the wall-clock date; but when a
    local midnight is ambiguous (clocks fall back onto it), the window of that date starts at the later
    midnight, so an instant in the first pass of the repeated hour belongs to the date before.
-#}
{% macro local_date_of(instant, tz) -%}
    (
        ({{ instant }} at time zone {{ tz }})::date
        - case
            when {{ instant }} < {{ local_day_start('(' ~ instant ~ ' at time zone ' ~ tz ~ ')::date', tz) }}
                then 1
            else 0
        end
    )
{%- endmacro %}

{#- End instant (exclusive) of local date `local_date` in zone `tz`: the next local midnight. -#}
{% macro local_day_end(local_date, tz) -%}
    ((({{ local_date }}) + 1)::timestamp at time zone {{ tz }})
{%- endmacro %}

{#-
    A lateral subquery of the local dates whose windows can hold a part of [first_instant, last_instant]
    in zone tz, limited to the built range: from the local date of the first instant minus one to the
    local date of the last instant plus one (an ambiguous local midnight can put an instant in the
    window of the date before its local date). Callers keep the dates whose real window overlaps.
-#}
{% macro candidate_local_dates(first_instant, last_instant, tz, start_date=none, end_date=none) -%}
    lateral (
        select bounds.first_date + offsets.day_offset as local_date
        from (
            select
                greatest(
                    ({{ first_instant }} at time zone {{ tz }})::date - 1,
                    {{ start_date or range_start_date() }}
                ) as first_date,
                least(
                    ({{ last_instant }} at time zone {{ tz }})::date + 1,
                    {{ end_date or range_end_date() }} - 1
                ) as last_date
        ) as bounds
        cross join lateral generate_series(0, bounds.last_date - bounds.first_date) as offsets (day_offset)
    )
{%- endmacro %}

{#- Whole minutes in a tstzmultirange (0 for null or empty). -#}
{% macro multirange_minutes(multirange) -%}
    coalesce((
        select round(sum(extract(epoch from upper(part) - lower(part))) / 60)::integer
        from unnest({{ multirange }}) as part
    ), 0)
{%- endmacro %}

{#- Pre-hook of the date-partitioned marts: delete the rebuilt local-date range (same transaction as the insert). -#}
{% macro delete_built_date_range() -%}
    {% if incremental_run() -%}
        delete from {{ this }}
        where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
    {%- endif %}
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
