{#-
    The on-run-end hook that tells the API which local dates a build changed, so its response cache
    drops exactly those entries (api/core/invalidation.py listens). One NOTIFY on channel
    pulse_marts_changed, sent after every model has committed:
    - {"start_date": D1, "end_date": D2}: a ranged build of local dates [D1, D2) (end exclusive, like the
      vars start_date / end_date);
    - {}: anything may have changed (a full refresh, or a build of all history).
    Nothing is sent when no model succeeded (a failed build that wrote nothing, `dbt test`, a parse).
    A build that failed part-way still notifies: the models that did succeed have committed.
-#}
{% macro notify_marts_changed() -%}
    {%- set wrote = [] -%}
    {%- if execute -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'model' and result.status == 'success' -%}
                {%- do wrote.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if wrote -%}
        {%- set all_history = flags.FULL_REFRESH
            or (build_var('start_date') | string) <= '1900-01-01'
            or (build_var('end_date') | string) >= '9999-01-01' -%}
        {%- if all_history -%}
            {%- set payload = {} -%}
        {%- else -%}
            {%- set payload = {'start_date': build_var('start_date') | string, 'end_date': build_var('end_date') | string} -%}
        {%- endif -%}
        select pg_notify('pulse_marts_changed', '{{ tojson(payload) }}')
    {%- else -%}
        select 'no model written: nothing to announce' as pulse_marts_changed
    {%- endif -%}
{%- endmacro %}
