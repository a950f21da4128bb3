{#-
    The facts of the built range [start_date, end_date) per user and local date, as subqueries the
    date-partitioned marts select from (macros rather than ephemeral models, so the marts' unit tests
    exercise this logic on mocked parsed slots).
-#}

{#-
    The valid slots of counted tasks cut into pieces, one per local day of the built range
    [start_date, end_date) they overlap, in the user's current zone. Only slots overlapping the
    range's instants are read (through indexes, valid_slot_overlaps_range), so a ranged build does not
    scan history.
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

        slots as (
            select
                slots.task_id,
                slots.slot_index,
                slots.user_id,
                slots.category_id,
                slots.task_updated_at,
                users.metric_timezone,
                slots.start_at,
                slots.end_at
            from {{ ref('int_task_slots_parsed') }} as slots
            inner join users on slots.user_id = users.user_id
            where
                slots.is_counted
                and {{ valid_slot_overlaps_range('slots') }}
        ),

        -- the local dates of the windows holding the slot's first and last instant (local_date_of, with
        -- each wall date computed once)
        walls as (
            select
                slots.*,
                (slots.start_at at time zone slots.metric_timezone)::date as start_wall,
                ((slots.end_at - interval '1 microsecond') at time zone slots.metric_timezone)::date as end_wall
            from slots
            limit all offset 0
        ),

        spans as (
            select
                walls.*,
                {{ local_date_of('walls.start_at', 'walls.metric_timezone', 'walls.start_wall') }} as first_date,
                {{ local_date_of(
                    "(walls.end_at - interval '1 microsecond')", 'walls.metric_timezone', 'walls.end_wall'
                ) }} as last_date
            from walls
            limit all offset 0
        ),

        -- one piece per local date of the span inside the built range; window bounds are computed only
        -- for the dates a slot does not start or end on (slots crossing a local midnight)
        pieces as (
            select
                spans.user_id,
                spans.task_id,
                spans.slot_index,
                spans.category_id,
                spans.task_updated_at,
                days.local_date,
                case
                    when days.local_date = spans.first_date then spans.start_at
                    else {{ local_day_start('days.local_date', 'spans.metric_timezone') }}
                end as piece_start,
                case
                    when days.local_date = spans.last_date then spans.end_at
                    else {{ local_day_end('days.local_date', 'spans.metric_timezone') }}
                end as piece_end
            from spans
            cross join lateral (
                select greatest(spans.first_date, {{ range_start_date() }}) + day_offset as local_date
                from generate_series(
                    0,
                    least(spans.last_date, {{ range_end_date() }} - 1) - greatest(spans.first_date, {{ range_start_date() }})
                ) as offsets (day_offset)
            ) as days
        )

        select
            user_id,
            task_id,
            slot_index,
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

        -- the instant that decides the day, and its wall date: completed_at for completions (the window
        -- holding it), due_at - 1 us for dues (the window (D 00:00, D+1 00:00] holding due_at). Both
        -- this and `events` are `offset 0` fences: without them PostgreSQL copies the wall date and
        -- local_date_of into every reference, and pushes the range filter on `date` into the join,
        -- computing each AT TIME ZONE three times (the full build's events took twice as long)
        moments as (
            select both_moments.*
            from (
                select
                    tasks.*,
                    'completed' as event,
                    tasks.completed_at as moment,
                    (tasks.completed_at at time zone tasks.metric_timezone)::date as wall
                from tasks
                where
                    tasks.is_completed
                    and tasks.completed_at >= {{ range_instant_lower() }}
                    and tasks.completed_at < {{ range_instant_upper() }}
                union all
                select
                    tasks.*,
                    'due' as event,
                    tasks.due_at - interval '1 microsecond' as moment,
                    ((tasks.due_at - interval '1 microsecond') at time zone tasks.metric_timezone)::date as wall
                from tasks
                where
                    tasks.is_counted
                    and tasks.due_at > {{ range_instant_lower() }}
                    and tasks.due_at <= {{ range_instant_upper() }}
            ) as both_moments
            limit all offset 0
        ),

        -- the local date of the window holding the moment (local_date_of, the wall date computed once)
        events as (
            select
                user_id,
                task_id,
                category_id,
                task_updated_at,
                is_completed,
                {{ local_date_of('moment', 'metric_timezone', 'wall') }} as date,
                event
            from moments
            limit all offset 0
        )

        select *
        from events
        where date >= {{ range_start_date() }} and date < {{ range_end_date() }}
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
