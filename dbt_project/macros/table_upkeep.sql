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
    The names of the indexes of `kind` that create_index_once made on `relation` (names starting with
    `<table>_<kind>_`); none while dbt parses (no database), which both hooks below treat as "none yet".
-#}
{% macro indexes_of_kind(kind, relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select pg_class.relname from pg_index join pg_class on pg_class.oid = pg_index.indexrelid"
        ~ " where pg_index.indrelid = to_regclass('" ~ relation ~ "') and starts_with(pg_class.relname, '"
        ~ relation.identifier ~ "_" ~ kind ~ "_')"
    ) -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{#-
    Hook: `create index <name> on <relation> <definition>` (relation: this model's table by default),
    unless the table already has an index of that kind (indexes_of_kind). For the indexes dbt's `indexes`
    config cannot express (partial, GiST). The name carries this invocation's id: when a build replaces a
    table, dbt renames the old one to a backup that keeps its indexes (and their names) until the commit,
    so a fixed name with `if not exists` would find the backup's index and create nothing on the new table.
-#}
{% macro create_index_once(kind, definition, relation=none) -%}
    {%- set relation = relation or this -%}
    {%- if not indexes_of_kind(kind, relation) -%}
        create index "{{ relation.identifier ~ '_' ~ kind ~ '_' ~ invocation_id[:8] }}" on {{ relation }} {{ definition }}
    {%- endif -%}
{%- endmacro %}

{#- Hook: drop the indexes of `kind` that create_index_once made on `relation`, a kind a later version no longer uses. -#}
{% macro drop_index_kind(kind, relation) -%}
    {%- for name in indexes_of_kind(kind, relation) or [] -%}
        drop index {{ relation.schema }}."{{ name }}";
    {% endfor -%}
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
    Pre-hook of the two daily marts: no hash aggregates for this statement. The pieces are then sorted
    once by (user, date, category) and that order feeds both stacked group aggregates (per category,
    then per day); hash aggregates of multiranges spilled to disk on a full build, and the per-day step
    sorted their output again. SET LOCAL ends with the model's transaction.
-#}
{% macro sorted_aggregates() -%}
    set local enable_hashagg = off
{%- endmacro %}
