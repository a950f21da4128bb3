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
