-- Focus minutes never exceed focus available minutes nor scheduled minutes (rebuilt range only).
select *
from {{ ref('analytics_daily_metrics') }}
where
    date >= '{{ build_var("start_date") }}' and date < '{{ build_var("end_date") }}'
    and (
        focus_minutes > focus_available_minutes
        or focus_minutes > total_scheduled_minutes
        or tasks_due_completed_count > tasks_due_count
    )
