select
    goal_id,
    user_id,
    name as goal_name,
    target_type,
    target_value,
    time_period,
    category_id,
    is_active,
    created_at,
    updated_at
from {{ source('app', 'goals') }}
