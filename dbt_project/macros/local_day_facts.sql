{#-
    Aggregates both date-partitioned marts (analytics_daily_metrics, daily_category_metrics) take of the
    built range's pieces (int_scheduled_slot_pieces) and events (int_task_day_events).
-#}

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
