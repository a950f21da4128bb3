-- The values of a day's category_minutes object add up to its total_scheduled_minutes (rebuilt range only).
-- A test of its own beside category_rows_add_up_to_day_total, so the two run side by side.
select
    user_id,
    date,
    total_scheduled_minutes,
    category_minutes
from {{ ref('analytics_daily_metrics') }}
where
    date >= '{{ build_var("start_date") }}' and date < '{{ build_var("end_date") }}'
    and (
        select coalesce(sum(value::integer), 0)
        from jsonb_each_text(category_minutes)
    ) <> total_scheduled_minutes
