select
    task_id,
    user_id,
    category_id,
    title,
    status,
    scheduled_slots,
    completed_at,
    deleted_at,
    created_at,
    updated_at,
    deleted_at is null and status <> 'cancelled' as is_counted,
    deleted_at is null and status = 'completed' as is_completed
from {{ source('app', 'tasks') }}
