{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook="{{ delete_built_date_range() }}",
        indexes=[
            {'columns': ['user_id', 'date'], 'unique': true},
            {'columns': ['date']},
        ],
    )
}}

{#- Per user and local date: rebuilt for [start_date, end_date) by delete + insert. -#}

with users as (
    select
        user_id,
        updated_at
    from {{ ref('stg_app__users') }}
),

pieces as (
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

category_minutes as (
    select
        user_id,
        date,
        jsonb_object_agg(category_key, minutes order by category_key) as category_minutes
    from (
        select
            user_id,
            date,
            coalesce(category_id::text, 'uncategorized') as category_key,
            sum(minutes)::integer as minutes
        from pieces
        group by user_id, date, category_id
    ) as per_category
    group by user_id, date
),

facts as (
    select
        user_id,
        date,
        minutes as scheduled_minutes,
        tstzrange(piece_start, piece_end) as piece,
        0 as completed_tasks,
        0 as tasks_due,
        0 as tasks_due_completed,
        task_updated_at as source_updated_at
    from pieces
    union all
    select
        user_id,
        date,
        0 as scheduled_minutes,
        null as piece,
        (event = 'completed')::integer as completed_tasks,
        (event = 'due')::integer as tasks_due,
        (event = 'due' and is_completed)::integer as tasks_due_completed,
        task_updated_at as source_updated_at
    from events
    union all
    select
        user_id,
        date,
        0 as scheduled_minutes,
        null as piece,
        0 as completed_tasks,
        0 as tasks_due,
        0 as tasks_due_completed,
        day_updated_at as source_updated_at
    from focus
),

by_day as (
    select
        user_id,
        date,
        sum(scheduled_minutes) as total_scheduled_minutes,
        range_agg(piece) filter (where piece is not null) as scheduled_ranges,
        sum(completed_tasks) as completed_tasks_count,
        sum(tasks_due) as tasks_due_count,
        sum(tasks_due_completed) as tasks_due_completed_count,
        max(source_updated_at) as source_updated_at
    from facts
    group by user_id, date
)

select
    by_day.user_id,
    by_day.date,
    by_day.total_scheduled_minutes::integer as total_scheduled_minutes,
    {{ multirange_minutes('by_day.scheduled_ranges * focus.focus_ranges') }} as focus_minutes,
    coalesce(focus.focus_available_minutes, 0) as focus_available_minutes,
    by_day.completed_tasks_count::integer as completed_tasks_count,
    by_day.tasks_due_count::integer as tasks_due_count,
    by_day.tasks_due_completed_count::integer as tasks_due_completed_count,
    coalesce(category_minutes.category_minutes, '{}'::jsonb) as category_minutes,
    greatest(by_day.source_updated_at, users.updated_at) as updated_at
from by_day
inner join users on by_day.user_id = users.user_id
left join focus
    on
        by_day.user_id = focus.user_id
        and by_day.date = focus.date
left join category_minutes
    on
        by_day.user_id = category_minutes.user_id
        and by_day.date = category_minutes.date
