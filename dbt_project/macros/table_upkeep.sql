{#-
    Post-hook of every table a build writes: ANALYZE it when the build wrote it whole (first build, full
    refresh, a table materialization). The next model of the same build reads it at once, before
    autovacuum would have sampled it, and without statistics PostgreSQL guesses a few thousand rows for
    millions: hash aggregates then spill to disk and joins pick the wrong side. An incremental run
    changes a small part and leaves statistics to autovacuum. ANALYZE samples a fixed number of rows, so
    it costs well under a second at any size.
-#}
{% macro analyze_when_written_whole() -%}
    {%- if config.get('materialized') in ('table', 'incremental') and not incremental_run() -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#-
    Hook: `create index <name> on <relation> <definition>` (relation: this model's table by default),
    unless the table already has an index of that kind (a name starting with `<table>_<kind>_`). For the
    indexes dbt's `indexes` config cannot express (GiST, partial). The name carries this invocation's id:
    when a build replaces a table, dbt renames the old one to a backup that keeps its indexes (and their
    names) until the commit, so a fixed name with `if not exists` would find the backup's index and create
    nothing on the new table. `analyze_after`: ANALYZE the table once the index is made, so PostgreSQL has
    statistics of an expression index.
-#}
{% macro create_index_once(kind, definition, relation=none, analyze_after=false) -%}
    {%- set relation = relation or this -%}
    {%- set prefix = relation.identifier ~ '_' ~ kind ~ '_' -%}
    {%- set found = run_query(
        "select 1 from pg_index join pg_class on pg_class.oid = pg_index.indexrelid"
        ~ " where pg_index.indrelid = to_regclass('" ~ relation ~ "') and starts_with(pg_class.relname, '" ~ prefix ~ "')"
    ) if execute else none -%}
    {%- if found is none or found.rows | length == 0 -%}
        create index "{{ prefix ~ invocation_id[:8] }}" on {{ relation }} {{ definition }}
        {%- if analyze_after %};
        analyze {{ relation }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook of models that aggregate or sort millions of rows on a full build: more memory for this
    statement (var build_work_mem, default 256MB), so sorts and hash aggregates stay in memory instead of
    spilling to disk. SET LOCAL ends with the model's transaction.
-#}
{% macro build_work_mem() -%}
    set local work_mem = '{{ var("build_work_mem") }}'
{%- endmacro %}

{#-
    Hook: drop the indexes of `kind` that create_index_once made on `relation` (names starting with
    `<table>_<kind>_`), for an index kind a later version no longer uses.
-#}
{% macro drop_index_kind(kind, relation) -%}
    {%- set prefix = relation.identifier ~ '_' ~ kind ~ '_' -%}
    {%- set found = run_query(
        "select pg_class.relname from pg_index join pg_class on pg_class.oid = pg_index.indexrelid"
        ~ " where pg_index.indrelid = to_regclass('" ~ relation ~ "') and starts_with(pg_class.relname, '" ~ prefix ~ "')"
    ) if execute else none -%}
    {%- for row in (found.rows if found is not none else []) -%}
        drop index {{ relation.schema }}."{{ row[0] }}";
    {% endfor -%}
{%- endmacro %}
