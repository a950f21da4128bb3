-- The scheduled minutes of a day's daily_category_metrics rows add up to the day's total_scheduled_minutes in
-- analytics_daily_metrics (rebuilt range only).
with day_totals as (
    select
        user_id,
        date,
        total_scheduled_minutes
    from {{ ref('analytics_daily_metrics') }}
    where date >= '{{ build_var("start_date") }}' and date < '{{ build_var("end_date") }}'
),

category_totals as (
    select
        user_id,
        date,
        sum(scheduled_minutes) as category_minutes
    from {{ ref('daily_category_metrics') }}
    where date >= '{{ build_var("start_date") }}' and date < '{{ build_var("end_date") }}'
    group by user_id, date
)

select
    day_totals.*,
    category_totals.category_minutes
from day_totals
full outer join category_totals
    on
        day_totals.user_id = category_totals.user_id
        and day_totals.date = category_totals.date
where coalesce(category_totals.category_minutes, 0) <> coalesce(day_totals.total_scheduled_minutes, 0)
