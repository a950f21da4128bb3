{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook=["{{ build_work_mem() }}", "{{ sorted_aggregates() }}"],
        indexes=[
            {'columns': ['user_id', 'date']},
            {'columns': ['date']},
        ],
    )
}}

{#- Per user, local date and category (null = uncategorized): rebuilt for [start_date, end_date)
    by replace_date_range (the range's rows become exactly the fresh ones). -#}

with pieces as (
    select *
    from {{ ref('int_scheduled_slot_pieces') }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
),

events as (
    select *
    from {{ ref('int_task_day_events') }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
),

focus as (
    select *
    from {{ ref('int_focus_by_local_day') }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
),

per_category as (
    select * from {{ scheduled_by_category('pieces') }} as scheduled_by_category
),

counts as (
    select * from {{ event_counts('events', ['user_id', 'date', 'category_id']) }} as event_counts
),

-- every (user, date, category) with pieces or events; a null category (uncategorized) joins as a zero uuid
by_category as (
    select
        coalesce(per_category.user_id, counts.user_id) as user_id,
        coalesce(per_category.date, counts.date) as date,
        coalesce(per_category.category_id, counts.category_id) as category_id,
        per_category.scheduled_minutes,
        per_category.scheduled_ranges,
        counts.completed_tasks_count,
        counts.tasks_due_count,
        counts.tasks_due_completed_count
    from per_category
    full join counts
        on
            per_category.user_id = counts.user_id
            and per_category.date = counts.date
            and coalesce(per_category.category_id, '00000000-0000-0000-0000-000000000000'::uuid)
            = coalesce(counts.category_id, '00000000-0000-0000-0000-000000000000'::uuid)
)

select
    by_category.user_id,
    by_category.date,
    by_category.category_id,
    coalesce(by_category.scheduled_minutes, 0)::integer as scheduled_minutes,
    {{ multirange_minutes('by_category.scheduled_ranges * focus.focus_ranges') }} as focus_minutes,
    coalesce(by_category.completed_tasks_count, 0)::integer as completed_tasks_count,
    coalesce(by_category.tasks_due_count, 0)::integer as tasks_due_count,
    coalesce(by_category.tasks_due_completed_count, 0)::integer as tasks_due_completed_count
from by_category
left join focus
    on
        by_category.user_id = focus.user_id
        and by_category.date = focus.date
