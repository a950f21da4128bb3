select
    category_id,
    user_id,
    name as category_name,
    color,
    created_at,
    updated_at
from {{ source('app', 'categories') }}
