{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook="{{ delete_built_date_range() }}",
        indexes=[
            {'columns': ['user_id', 'date']},
            {'columns': ['date']},
        ],
    )
}}

{#- Per user, local date and category (null = uncategorized): rebuilt for [start_date, end_date) by delete + insert. -#}

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
    select * from {{ focus_slots_unioned_by_local_day() }} as focus_slots_unioned
),

facts as (
    select
        user_id,
        date,
        category_id,
        minutes as scheduled_minutes,
        tstzrange(piece_start, piece_end) as piece,
        0 as completed_tasks,
        0 as tasks_due,
        0 as tasks_due_completed
    from pieces
    union all
    select
        user_id,
        date,
        category_id,
        0 as scheduled_minutes,
        null as piece,
        (event = 'completed')::integer as completed_tasks,
        (event = 'due')::integer as tasks_due,
        (event = 'due' and is_completed)::integer as tasks_due_completed
    from events
),

by_category as (
    select
        user_id,
        date,
        category_id,
        sum(scheduled_minutes) as scheduled_minutes,
        range_agg(piece) filter (where piece is not null) as scheduled_ranges,
        sum(completed_tasks) as completed_tasks_count,
        sum(tasks_due) as tasks_due_count,
        sum(tasks_due_completed) as tasks_due_completed_count
    from facts
    group by user_id, date, category_id
)

select
    by_category.user_id,
    by_category.date,
    by_category.category_id,
    by_category.scheduled_minutes::integer as scheduled_minutes,
    {{ multirange_minutes('by_category.scheduled_ranges * focus.focus_ranges') }} as focus_minutes,
    by_category.completed_tasks_count::integer as completed_tasks_count,
    by_category.tasks_due_count::integer as tasks_due_count,
    by_category.tasks_due_completed_count::integer as tasks_due_completed_count
from by_category
left join focus
    on
        by_category.user_id = focus.user_id
        and by_category.date = focus.date
