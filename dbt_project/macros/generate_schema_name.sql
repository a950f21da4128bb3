{#-
    Schemas are exactly the configured names, one per layer (dbt_project.yml): `staging`, `intermediate`
    (neither readable by analysts) and `analytics` (the public marts and documented views), never
    prefixed with the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
