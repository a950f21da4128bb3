{#-
    The facts of the built range [start_date, end_date) per user and local date, as subqueries the
    date-partitioned marts select from (macros rather than ephemeral models, so the marts' unit tests
    exercise this logic on mocked parsed slots).
-#}

{#-
    The valid slots of counted tasks cut into pieces, one per local day of the built range
    [start_date, end_date) they overlap, in the user's current zone. Only slots overlapping the
    range's instants are read (GiST index), so a ranged build does not grow with history.
-#}
{% macro scheduled_slot_pieces_by_local_day() %}
    (
        with users as (
            select
                user_id,
                metric_timezone,
                updated_at
            from {{ ref('stg_app__users') }}
        ),

        counted_tasks as (
            select
                task_id,
                category_id,
                updated_at
            from {{ ref('int_tasks_summarized') }}
            where is_counted
        ),

        slots as (
            select
                slots.task_id,
                slots.user_id,
                counted_tasks.category_id,
                counted_tasks.updated_at as task_updated_at,
                users.metric_timezone,
                slots.start_at,
                slots.end_at
            from {{ ref('int_task_slots_parsed') }} as slots
            inner join counted_tasks on slots.task_id = counted_tasks.task_id
            inner join users on slots.user_id = users.user_id
            where
                slots.invalid_reason is null
                and tstzrange(slots.start_at, slots.end_at) && tstzrange({{ range_instant_lower() }}, {{ range_instant_upper() }})
        ),

        day_windows as (
            select
                slots.*,
                candidates.local_date,
                windows.window_start,
                windows.window_end
            from slots
            cross join {{ candidate_local_dates('slots.start_at', 'slots.end_at', 'slots.metric_timezone') }} as candidates
            cross join lateral (
                select
                    {{ local_day_start('candidates.local_date', 'slots.metric_timezone') }} as window_start,
                    {{ local_day_end('candidates.local_date', 'slots.metric_timezone') }} as window_end
                limit all offset 0
            ) as windows
        ),

        pieces as (
            select
                user_id,
                task_id,
                category_id,
                task_updated_at,
                local_date,
                greatest(start_at, window_start) as piece_start,
                least(end_at, window_end) as piece_end
            from day_windows
        )

        select
            user_id,
            task_id,
            category_id,
            task_updated_at,
            local_date as date,
            piece_start,
            piece_end,
            round(extract(epoch from piece_end - piece_start) / 60)::integer as minutes
        from pieces
        where piece_start < piece_end
    )
{% endmacro %}

{#-
    Per user and local date of the built range: the union of the day's valid focus slots as instants
    (a tstzmultirange) and its length. Local times become instants as PostgreSQL's AT TIME ZONE resolves
    them; "24:00" is the next local midnight. A slot whose instants come out empty (e.g. it starts in
    a spring-forward gap and ends right after it) adds nothing.
-#}
{% macro focus_slots_unioned_by_local_day() %}
    (
        with users as (
            select
                user_id,
                metric_timezone
            from {{ ref('stg_app__users') }}
        ),

        focus_instants as (
            select
                focus.user_id,
                focus.date,
                focus.day_updated_at,
                ((focus.date + focus.start_minute * interval '1 minute') at time zone users.metric_timezone) as focus_start,
                ((focus.date + focus.end_minute * interval '1 minute') at time zone users.metric_timezone) as focus_end
            from {{ ref('int_focus_slots_parsed') }} as focus
            inner join users on focus.user_id = users.user_id
            where
                focus.invalid_reason is null
                and focus.date >= {{ range_start_date() }}
                and focus.date < {{ range_end_date() }}
        ),

        unioned as (
            select
                user_id,
                date,
                max(day_updated_at) as day_updated_at,
                range_agg(tstzrange(focus_start, focus_end)) as focus_ranges
            from focus_instants
            where focus_start < focus_end
            group by user_id, date
        )

        select
            user_id,
            date,
            day_updated_at,
            focus_ranges,
            {{ multirange_minutes('focus_ranges') }} as focus_available_minutes
        from unioned
    )
{% endmacro %}

{#-
    Completions and due dates of the built range, one row per task and event:
    event 'completed' on the local day whose window holds completed_at (not deleted, status completed);
    event 'due' on the local day D with window_start < due_at <= window_end (counted tasks with a valid
    slot; due_at is the latest valid slot end), so a task ending exactly at local midnight is due on
    the day that ends there.
-#}
{% macro task_events_by_local_day() %}
    (
        with users as (
            select
                user_id,
                metric_timezone
            from {{ ref('stg_app__users') }}
        ),

        -- read twice (completions, dues): not materialized, so each read's range reaches its index
        tasks as not materialized (
            select
                tasks.task_id,
                tasks.user_id,
                tasks.category_id,
                tasks.updated_at as task_updated_at,
                tasks.is_counted,
                tasks.is_completed,
                tasks.completed_at,
                tasks.due_at,
                users.metric_timezone
            from {{ ref('int_tasks_summarized') }} as tasks
            inner join users on tasks.user_id = users.user_id
        ),

        completions as (
            select
                tasks.user_id,
                tasks.task_id,
                tasks.category_id,
                tasks.task_updated_at,
                tasks.is_completed,
                candidates.local_date as date,
                'completed' as event
            from tasks
            cross join {{ candidate_local_dates('tasks.completed_at', 'tasks.completed_at', 'tasks.metric_timezone') }} as candidates
            where
                tasks.is_completed
                and tasks.completed_at >= {{ range_instant_lower() }}
                and tasks.completed_at < {{ range_instant_upper() }}
                and tasks.completed_at >= {{ local_day_start('candidates.local_date', 'tasks.metric_timezone') }}
                and tasks.completed_at < {{ local_day_end('candidates.local_date', 'tasks.metric_timezone') }}
        ),

        dues as (
            select
                tasks.user_id,
                tasks.task_id,
                tasks.category_id,
                tasks.task_updated_at,
                tasks.is_completed,
                candidates.local_date as date,
                'due' as event
            from tasks
            cross join {{ candidate_local_dates('tasks.due_at', 'tasks.due_at', 'tasks.metric_timezone') }} as candidates
            where
                tasks.is_counted
                and tasks.due_at > {{ range_instant_lower() }}
                and tasks.due_at <= {{ range_instant_upper() }}
                and tasks.due_at > {{ local_day_start('candidates.local_date', 'tasks.metric_timezone') }}
                and tasks.due_at <= {{ local_day_end('candidates.local_date', 'tasks.metric_timezone') }}
        )

        select * from completions
        union all
        select * from dues
    )
{% endmacro %}

{#-
    The built range's scheduled pieces per user, local date and category: minutes, the union of the
    pieces (a tstzmultirange) and the latest task update behind them. Both daily marts start from it;
    analytics_daily_metrics adds the categories up per day (one sort feeds both aggregates).
-#}
{% macro scheduled_by_category(pieces) %}
    (
        select
            user_id,
            date,
            category_id,
            sum(minutes) as scheduled_minutes,
            range_agg(tstzrange(piece_start, piece_end)) as scheduled_ranges,
            max(task_updated_at) as source_updated_at
        from {{ pieces }}
        group by user_id, date, category_id
    )
{% endmacro %}

{#- Completed, due and due-completed task counts of the built range's events, grouped by `group_columns`. -#}
{% macro event_counts(events, group_columns) %}
    (
        select
            {{ group_columns | join(', ') }},
            count(*) filter (where event = 'completed') as completed_tasks_count,
            count(*) filter (where event = 'due') as tasks_due_count,
            count(*) filter (where event = 'due' and is_completed) as tasks_due_completed_count,
            max(task_updated_at) as source_updated_at
        from {{ events }}
        group by {{ group_columns | join(', ') }}
    )
{% endmacro %}
