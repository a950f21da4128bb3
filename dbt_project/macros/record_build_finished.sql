{#-
    The on-run-end hook that completes this invocation's row of mart_build_log with when the build
    ended: finished_at and duration_seconds (from built_at, the invocation's start), after every model
    and test has run. Nothing to do when the build log was not written (a failed or unranged-only build).
-#}
{% macro record_build_finished() -%}
    {%- set logged = [] -%}
    {%- if execute -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'model' and result.node.name == 'mart_build_log'
                and result.status == 'success' -%}
                {%- do logged.append(api.Relation.create(schema=result.node.schema, identifier=result.node.alias)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if logged -%}
        update {{ logged[0] }}
        set finished_at = clock_timestamp(),
            duration_seconds = extract(epoch from clock_timestamp() - built_at)::float8
        where invocation_id = '{{ invocation_id }}'
    {%- else -%}
        select 'no build logged: nothing to record' as record_build_finished
    {%- endif -%}
{%- endmacro %}
