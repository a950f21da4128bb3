{#-
    dbt's `where` test config, with one placeholder resolved when the test runs (dbt's documented way
    to give `where` runtime logic): __this_build__ is the start of this dbt invocation, less 10 seconds
    for clock skew between dbt's host and the database (NTP keeps them far closer; with a larger skew a
    test checks fewer rows, never fails wrongly). Tests on history-sized tables written with
    `parsed_at >= __this_build__` check the rows this build (re)parsed, so a build's tests follow its
    changes, not the history.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace(
            '__this_build__', "('" ~ run_started_at.isoformat() ~ "'::timestamptz - interval '10 seconds')"
        ) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
