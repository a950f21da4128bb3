{#-
    Every active goal with what its periods and figures depend on: its definition, its user's current
    time zone and the local date of its creation (the first period holds it). goal_definition is a hash
    of all of that: goal_progress_snapshots keeps it on every stored row and recomputes every period of a
    goal whose stored hash differs from this one. A view over the source, so a filter by user or goal
    reaches app.goals (the API's live goal progress reads it through goal_progress_live).
-#}

with goals as (
    select
        goal_id,
        user_id,
        target_type,
        target_value,
        time_period,
        category_id,
        created_at
    from {{ ref('stg_app__goals') }}
    where is_active
),

users as (
    select
        user_id,
        metric_timezone
    from {{ ref('stg_app__users') }}
)

select
    goals.goal_id,
    goals.user_id,
    goals.target_type,
    goals.target_value,
    goals.time_period,
    goals.category_id,
    users.metric_timezone,
    {{ local_date_of('goals.created_at', 'users.metric_timezone') }} as created_local_date,
    md5(concat_ws(
        '|', goals.target_type, goals.target_value, goals.time_period, goals.category_id, goals.created_at,
        users.metric_timezone
    )) as goal_definition
from goals
inner join users on goals.user_id = users.user_id
