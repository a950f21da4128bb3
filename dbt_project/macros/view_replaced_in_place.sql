{#-
    The view materialization of this project, for views that the API and analysts read while builds run:
    - a view whose definition is unchanged is left alone: the new SQL is compiled into a temporary view
      first and compared (pg_get_viewdef), so a routine build takes no lock on the views at all;
    - a changed view is replaced in place (CREATE OR REPLACE VIEW, waiting at most lock_timeout 5 s for
      a reader) instead of dbt's default (create a new view, rename the old one away, DROP it with
      CASCADE), which drops every view built on the old one and deadlocks when two threads replace two
      staging views that a third view reads;
    - only a change PostgreSQL cannot make in place (a column removed, renamed or retyped) drops the
      view (CASCADE: the views built on it are downstream and rebuilt by the same build) and creates it.
-#}
{%- materialization view, adapter='postgres' -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is not none and not existing_relation.is_view -%}
        {{ drop_relation_if_exists(existing_relation) }}
        {%- set existing_relation = none -%}
    {%- endif -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- set unchanged = false -%}
    {%- set replaceable = true -%}
    {%- if existing_relation is not none -%}
        {%- set candidate = 'pulse_view_candidate_' ~ this.identifier -%}
        {%- call statement('candidate', fetch_result=True) -%}
            create temporary view {{ candidate }} as {{ sql }};
            select
                pg_get_viewdef('{{ candidate }}'::regclass) = pg_get_viewdef('{{ target_relation }}'::regclass),
                not exists (
                    select attnum, attname, atttypid from pg_attribute
                    where attrelid = '{{ target_relation }}'::regclass and attnum > 0 and not attisdropped
                    except
                    select attnum, attname, atttypid from pg_attribute
                    where attrelid = '{{ candidate }}'::regclass and attnum > 0
                )
        {%- endcall -%}
        {%- set comparison = load_result('candidate')['data'][0] -%}
        {%- set unchanged = comparison[0] -%}
        {%- set replaceable = comparison[1] -%}
        {%- do run_query('drop view ' ~ candidate) -%}
    {%- endif -%}
    {%- call statement('main') -%}
        {%- if unchanged %}
        select 'unchanged'
        {%- else %}
        set local lock_timeout = '5s';
        {%- if not replaceable %}
        drop view {{ target_relation }} cascade;
        {%- endif %}
        {{ get_create_view_as_sql(target_relation, sql) | trim | replace('create view', 'create or replace view', 1) }}
        {%- endif %}
    {%- endcall -%}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=True) -%}
    {%- if not unchanged -%}
        {%- do persist_docs(target_relation, model) -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}
