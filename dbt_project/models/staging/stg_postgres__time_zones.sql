{{ config(materialized='incremental', indexes=[{'columns': ['name'], 'unique': true}]) }}

{#-
    The time-zone names this PostgreSQL server knows: reading pg_timezone_names parses the whole tz
    database (tens of milliseconds), too slow for the live views the API queries on every request.
    Incremental (a build adds the names a server upgrade brought) rather than a table rebuilt by every
    full build: replacing a table drops, with CASCADE, every view built on it (stg_app__users and the
    views over it), which the API and analysts read.
-#}

select distinct zones.name
from pg_timezone_names as zones
{%- if incremental_run() %}
where not exists (select 1 from {{ this }} as known where known.name = zones.name)
{%- endif %}
