{#-
    The build's range and "now": `start_date`, `end_date` (local dates, end exclusive) and `as_of`.
    Pulse passes them in the environment (PULSE_BUILD_START_DATE, PULSE_BUILD_END_DATE, PULSE_BUILD_AS_OF;
    pulse/dbt.py build_env), read only while executing, never while parsing: dbt hashes --vars into its
    saved parse state and parses the whole project again whenever they change, and reparses every file
    that read a changed env var at parse time. An unset or empty variable means var(name): the value of
    --vars (by hand, and dbt unit tests' overrides) or the default in dbt_project.yml (all history).
    Nothing the range decides is fixed at parse time: the models' refs and configs never depend on it.
-#}
{% macro build_var(name) -%}
    {%- set value = env_var('PULSE_BUILD_' ~ (name | upper), '') if execute else '' -%}
    {{ return(value if value else var(name)) }}
{%- endmacro %}

{#-
    dbt's get_where_subquery with the placeholders __start_date__ and __end_date__ of a test's `where`
    replaced by the build's range when the test runs: dbt renders a `where` from YAML while parsing, when
    the range is not known (see build_var).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where
            | replace('__start_date__', build_var('start_date') | string)
            | replace('__end_date__', build_var('end_date') | string) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
