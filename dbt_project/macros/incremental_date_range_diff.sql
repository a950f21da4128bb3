{#-
    dbt incremental strategy `date_range_diff` of the date-partitioned tables: make the built local-date
    range [start_date, end_date) of the table equal to the model's fresh rows by writing only what differs.
    Rows of the range with no identical fresh row are deleted; fresh rows with no identical stored row are
    inserted. Rebuilding a range whose source did not change writes nothing, so a ranged build's writes
    (heap pages, index entries, WAL) follow the changes, not the range or the history; the delete + insert
    of the whole range it replaces dirtied a page per row, spread over a heap the size of the history.
    `unique_key`: equality columns for the hash joins (never null); every other column is compared with
    IS NOT DISTINCT FROM. The rows of a table must be unique within a date (its key plus the rest), which
    each model's unique test or index guarantees. Nested loops are off for the two statements: the fresh
    rows are a temporary table without statistics, and a nested loop over the date index would read a
    date's rows once per fresh row.
-#}
{% macro get_incremental_date_range_diff_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set fresh = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] if arg_dict['unique_key'] is not string else [arg_dict['unique_key']] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set quoted = get_quoted_csv(columns) -%}
    {%- set same_row -%}
        {% for key in keys -%}
            fresh.{{ adapter.quote(key) }} = stored.{{ adapter.quote(key) }}
            {%- if not loop.last %} and {% endif %}
        {%- endfor %}
        {%- for column in columns if column not in keys %}
            and fresh.{{ adapter.quote(column) }} is not distinct from stored.{{ adapter.quote(column) }}
        {%- endfor %}
    {%- endset -%}
    set local enable_nestloop = off;
    delete from {{ target }} as stored
    where
        stored.date >= {{ range_start_date() }} and stored.date < {{ range_end_date() }}
        and not exists (select 1 from {{ fresh }} as fresh where {{ same_row }});
    insert into {{ target }} ({{ quoted }})
    select {{ quoted }}
    from {{ fresh }} as fresh
    where not exists (
        select 1
        from {{ target }} as stored
        where stored.date >= {{ range_start_date() }} and stored.date < {{ range_end_date() }} and {{ same_row }}
    );
    reset enable_nestloop
{%- endmacro %}
