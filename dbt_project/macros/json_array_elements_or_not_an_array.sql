{#-
    The elements of a jsonb column that should be an array, as a lateral FROM item (both slot models,
    int_task_slots_parsed and int_focus_slots_parsed): one row per element (slot_index 1-based,
    early_reason null), or one row with slot_index null, the value itself as slot and early_reason
    'not_an_array' when it is not an array (SPEC 1: such a value counts as one invalid slot).
-#}
{% macro json_array_elements_or_not_an_array(json_column) -%}
    lateral (
        select
            case when jsonb_typeof({{ json_column }}) = 'array' then element.slot_index::integer end as slot_index,
            element.slot,
            case when jsonb_typeof({{ json_column }}) <> 'array' then 'not_an_array' end as early_reason
        from jsonb_array_elements(
            case
                when jsonb_typeof({{ json_column }}) = 'array' then {{ json_column }}
                else jsonb_build_array({{ json_column }})
            end
        ) with ordinality as element (slot, slot_index)
    )
{%- endmacro %}
