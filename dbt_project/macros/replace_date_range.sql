{#-
    dbt incremental strategy `replace_date_range` of the date-partitioned marts: the built local-date range
    [start_date, end_date) of the table becomes exactly the model's fresh rows (delete the range, insert
    them), in one transaction. Rows outside the range are never read or written.
-#}
{% macro get_incremental_replace_date_range_sql(arg_dict) -%}
    {%- set quoted = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }};
    insert into {{ arg_dict['target_relation'] }} ({{ quoted }})
    select {{ quoted }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
