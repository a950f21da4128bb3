{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook=["{{ build_work_mem() }}", "{{ sorted_aggregates() }}"],
        indexes=[
            {'columns': ['user_id', 'date'], 'unique': true},
            {'columns': ['date']},
        ],
    )
}}

{#-
    Per user and local date of the built range [start_date, end_date) (SPEC section 2), replaced by every
    build (strategy replace_date_range):
    - total_scheduled_minutes: the sum of the day's pieces (int_scheduled_slot_pieces: counted tasks'
      valid slots cut by local day), overlapping slots each counting;
    - focus_minutes: the length of (union of the day's pieces) * (union of the day's focus slots,
      int_focus_by_local_day), never more than focus_available_minutes, the latter's length;
    - completed, due and due-completed counts from int_task_day_events;
    - category_minutes: the per-category sums (null category = 'uncategorized'), adding up to the total.
-#}

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
    select *
    from {{ ref('int_focus_by_local_day') }}
    where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
),

per_category as (
    select * from {{ scheduled_by_category('pieces') }} as scheduled_by_category
),

-- the per-category rows added up per day: minutes, the union of all pieces, the category_minutes object
scheduled as (
    select
        user_id,
        date,
        sum(scheduled_minutes) as total_scheduled_minutes,
        range_agg(scheduled_ranges) as scheduled_ranges,
        jsonb_object_agg(coalesce(category_id::text, 'uncategorized'), scheduled_minutes) as category_minutes,
        max(source_updated_at) as source_updated_at
    from per_category
    group by user_id, date
),

counts as (
    select * from {{ event_counts('events', ['user_id', 'date']) }} as event_counts
),

-- every (user, date) with pieces, events or focus
by_day as (
    select
        coalesce(scheduled.user_id, counts.user_id) as user_id,
        coalesce(scheduled.date, counts.date) as date,
        scheduled.total_scheduled_minutes,
        scheduled.scheduled_ranges,
        scheduled.category_minutes,
        counts.completed_tasks_count,
        counts.tasks_due_count,
        counts.tasks_due_completed_count,
        greatest(scheduled.source_updated_at, counts.source_updated_at) as source_updated_at
    from scheduled
    full join counts on scheduled.user_id = counts.user_id and scheduled.date = counts.date
)

select
    coalesce(by_day.user_id, focus.user_id) as user_id,
    coalesce(by_day.date, focus.date) as date,
    coalesce(by_day.total_scheduled_minutes, 0)::integer as total_scheduled_minutes,
    {{ multirange_minutes('by_day.scheduled_ranges * focus.focus_ranges') }} as focus_minutes,
    coalesce(focus.focus_available_minutes, 0) as focus_available_minutes,
    coalesce(by_day.completed_tasks_count, 0)::integer as completed_tasks_count,
    coalesce(by_day.tasks_due_count, 0)::integer as tasks_due_count,
    coalesce(by_day.tasks_due_completed_count, 0)::integer as tasks_due_completed_count,
    coalesce(by_day.category_minutes, '{}'::jsonb) as category_minutes,
    greatest(by_day.source_updated_at, focus.day_updated_at, users.updated_at) as updated_at
from by_day
full join focus on by_day.user_id = focus.user_id and by_day.date = focus.date
inner join users on coalesce(by_day.user_id, focus.user_id) = users.user_id
