{{ config(materialized='view') }}

{#-
    Each user's local "today" at query time (now()), by the same day windows as the marts: the API
    reads it instead of doing time-zone arithmetic of its own.
-#}

select
    user_id,
    metric_timezone,
    local_today,
    {{ local_day_start('local_today + 1', 'metric_timezone') }} as local_today_ends_at
from (
    select
        user_id,
        metric_timezone,
        {{ local_date_of('now()', 'metric_timezone') }} as local_today
    from {{ ref('stg_app__users') }}
) as users_today
