{{ config(materialized='table', indexes=[{'columns': ['name'], 'unique': true}]) }}

{#-
    The time-zone names this PostgreSQL server knows, copied once per build: reading
    pg_timezone_names parses the whole tz database (tens of milliseconds), too slow for
    the live views the API queries on every request.
-#}

select distinct name
from pg_timezone_names
