select
    user_id,
    date,
    focus_slots,
    updated_at
from {{ source('app', 'user_calendar_days') }}
