{#-
    The goal rules of SPEC section 3, once: one row per active goal and period from the period holding
    the goal's creation (local date) to the period holding "now" (local date), with achieved value,
    percent complete and status as of `now_expr`. goal_progress_snapshots calls it with the build's
    as_of, the view goal_progress_live with now().
-#}

{#- First day of the period of `time_period` holding local date `local_date` (ISO weeks start on Monday). -#}
{% macro goal_period_start(local_date, time_period) -%}
    case {{ time_period }}
        when 'daily' then {{ local_date }}
        when 'weekly' then date_trunc('week', ({{ local_date }})::timestamp)::date
        else date_trunc('month', ({{ local_date }})::timestamp)::date
    end
{%- endmacro %}

{#- The length of one period of `time_period` as an interval. -#}
{% macro goal_period_step(time_period) -%}
    case {{ time_period }}
        when 'daily' then interval '1 day'
        when 'weekly' then interval '7 days'
        else interval '1 month'
    end
{%- endmacro %}

{#-
    One query, no CTE used twice and the period sums in a lateral subquery, so that a filter on the
    view (a user, a period type, a date inside the period) reaches app.goals and the period series
    before any sum is computed: the API reads one user's goals in about a millisecond.

    `recompute` (int_goal_period_progress's incremental runs) limits the periods to those a run must
    recompute: every period after the goal's latest stored one (`recompute.stored`), and every period
    overlapping a local-date range of `recompute.rebuilt_ranges` (start_date, end_date half-open).
    Without it, every period from the goal's creation to "now".
-#}
{% macro goal_progress(now_expr, recompute=none) %}
    (
        select
            goals.goal_id,
            goals.user_id,
            periods.period_start,
            periods.period_end,
            goals.time_period,
            goals.target_type,
            goals.target_value,
            achieved.achieved_value,
            least(round(100.0 * achieved.achieved_value / goals.target_value, 2), 999.99)::numeric(
                5, 2
            ) as percent_complete,
            case
                when periods.period_end < moments.local_today
                    then case when achieved.achieved_value >= goals.target_value then 'achieved' else 'missed' end
                when achieved.achieved_value >= goals.target_value then 'achieved'
                when goals.target_type = 'percentage'
                    then
                        case
                            when 5 * achieved.achieved_value >= 4 * goals.target_value then 'at_risk'
                            else 'behind'
                        end
                -- pace: expected = target x elapsed days / period days, compared without rounding
                when
                    achieved.achieved_value::bigint * achieved.period_days
                    >= goals.target_value::bigint * achieved.elapsed_days
                    then 'on_track'
                when
                    5 * achieved.achieved_value::bigint * achieved.period_days
                    >= 4 * goals.target_value::bigint * achieved.elapsed_days
                    then 'at_risk'
                else 'behind'
            end as status,
            moments.taken_at,
            goals.category_id,
            moments.local_today,
            goals.updated_at as goal_updated_at,
            users.metric_timezone
        from {{ ref('stg_app__goals') }} as goals
        inner join {{ ref('stg_app__users') }} as users on goals.user_id = users.user_id
        cross join lateral (
            select
                {{ now_expr }} as taken_at,
                {{ local_date_of(now_expr, 'users.metric_timezone') }} as local_today,
                {{ local_date_of('goals.created_at', 'users.metric_timezone') }} as created_local_date
        ) as moments
        cross join lateral (
            select
                series.period_start::date as period_start,
                (series.period_start + {{ goal_period_step('goals.time_period') }})::date - 1 as period_end
            from (
                {%- set first_period = "(" ~ goal_period_start('moments.created_local_date', 'goals.time_period') ~ ")::timestamp" %}
                {%- set current_period = "(" ~ goal_period_start('moments.local_today', 'goals.time_period') ~ ")::timestamp" %}
                {%- if recompute is none %}
                select generate_series({{ first_period }}, {{ current_period }}, {{ goal_period_step('goals.time_period') }})
                    as period_start
                {%- else %}
                select generate_series(
                    coalesce(
                        (
                            select max(stored.period_start)
                            from {{ recompute.stored }} as stored
                            where stored.goal_id = goals.goal_id
                        )::timestamp + {{ goal_period_step('goals.time_period') }},
                        {{ first_period }}
                    ),
                    {{ current_period }},
                    {{ goal_period_step('goals.time_period') }}
                ) as period_start
                union
                select generate_series(
                    greatest(
                        ({{ goal_period_start('rebuilt.start_date', 'goals.time_period') }})::timestamp, {{ first_period }}
                    ),
                    least(
                        ({{ goal_period_start('rebuilt.end_date - 1', 'goals.time_period') }})::timestamp, {{ current_period }}
                    ),
                    {{ goal_period_step('goals.time_period') }}
                ) as period_start
                from {{ recompute.rebuilt_ranges }} as rebuilt
                {%- endif %}
            ) as series
        ) as periods
        cross join lateral (
            select
                coalesce(sum(daily.scheduled_minutes) filter (
                    where goals.category_id is null or daily.category_id = goals.category_id
                ), 0) as goal_minutes,
                coalesce(sum(daily.completed_tasks_count) filter (
                    where goals.category_id is null or daily.category_id = goals.category_id
                ), 0) as goal_completed_tasks,
                coalesce(sum(daily.scheduled_minutes), 0) as all_minutes
            from {{ ref('daily_category_metrics') }} as daily
            where
                daily.user_id = goals.user_id
                and daily.date >= periods.period_start
                and daily.date <= periods.period_end
        ) as sums
        cross join lateral (
            select
                (case goals.target_type
                    when 'minutes' then sums.goal_minutes
                    when 'task_count' then sums.goal_completed_tasks
                    else
                        case
                            when goals.category_id is null or sums.all_minutes = 0 then 0
                            else round(100.0 * sums.goal_minutes / sums.all_minutes)
                        end
                end)::integer as achieved_value,
                moments.local_today - periods.period_start + 1 as elapsed_days,
                periods.period_end - periods.period_start + 1 as period_days
        ) as achieved
        where goals.is_active
    )
{% endmacro %}

{#-
    What an incremental run of int_goal_period_progress recomputes, read once as literals (so the pre-hook
    and the insert agree even though the pre-hook deletes rows): the local-date ranges of the daily builds
    (mart_build_log) after the latest build the table covers (`covered`) up to the latest one (`latest`).
-#}
{% macro goal_rebuild_window() -%}
    {%- set window = {'covered': none, 'latest': none} -%}
    {%- if execute and incremental_run() -%}
        {%- set result = run_query(
            "select (select max(covers_builds_through) from " ~ this ~ ")::text,"
            ~ " (select max(built_at) from " ~ ref('mart_build_log') ~ ")::text"
        ) -%}
        {%- do window.update({'covered': result.columns[0].values()[0], 'latest': result.columns[1].values()[0]}) -%}
    {%- endif -%}
    {{ return(window) }}
{%- endmacro %}

{#- The newest daily build a run reflects, as SQL (null before any daily build). -#}
{% macro goal_latest_build_sql() -%}
    {%- set latest = goal_rebuild_window().latest -%}
    {%- if latest -%}
        '{{ latest }}'::timestamptz
    {%- else -%}
        (select max(builds.built_at) from {{ ref('mart_build_log') }} as builds)
    {%- endif -%}
{%- endmacro %}

{#- The local-date ranges of the daily builds a run has not reflected yet, as a subquery. -#}
{% macro goal_rebuilt_ranges_sql() -%}
    {%- set window = goal_rebuild_window() -%}
    (
        select
            builds.start_date,
            builds.end_date
        from {{ ref('mart_build_log') }} as builds
        where
            builds.built_at > {% if window.covered %}'{{ window.covered }}'::timestamptz{% else %}'-infinity'::timestamptz{% endif %}
            and builds.built_at <= {{ goal_latest_build_sql() }}
    )
{%- endmacro %}

{#-
    Pre-hook of int_goal_period_progress: delete the stored periods a run recomputes, so that the insert
    (goal_progress with `recompute`) puts back exactly those. Every step is an index lookup per goal or
    per rebuilt period, so the cost follows goals and changes, not history:
      1. every row of a goal no longer active (or deleted): a skip scan over the stored goal ids;
      2. every row of an active goal whose definition or user time zone changed (checked on its latest
         row), else its latest row (it may have been the current period) and any row at or after the
         current period as of this build (a build with an earlier as_of drops future periods);
      3. every row whose period overlaps a local-date range rebuilt by a daily build since the last run.
    Stored periods stay contiguous from each goal's first period, which the insert relies on.
-#}
{% macro delete_goal_periods_to_recompute() -%}
    {% if incremental_run() -%}
        {{ index_lookups_only() }}
        with recursive stored_goals as (
            (select stored.goal_id from {{ this }} as stored order by stored.goal_id limit 1)
            union all
            select (
                select stored.goal_id
                from {{ this }} as stored
                where stored.goal_id > stored_goals.goal_id
                order by stored.goal_id
                limit 1
            )
            from stored_goals
            where stored_goals.goal_id is not null
        )

        delete from {{ this }}
        where goal_id in (
            select stored_goals.goal_id from stored_goals where stored_goals.goal_id is not null
            except
            select goals.goal_id from {{ ref('stg_app__goals') }} as goals where goals.is_active
        );

        -- materialized, so each goal's bound is an index condition of the delete, not a filter after it
        with bounds as materialized (
            select
                goals.goal_id,
                case
                    when
                        latest.goal_updated_at is distinct from goals.updated_at
                        or latest.metric_timezone is distinct from users.metric_timezone
                        then '-infinity'::date
                    else least(
                        latest.period_start,
                        {{ goal_period_start(local_date_of(build_as_of(), 'users.metric_timezone'), 'goals.time_period') }}
                    )
                end as recompute_from
            from {{ ref('stg_app__goals') }} as goals
            inner join {{ ref('stg_app__users') }} as users on goals.user_id = users.user_id
            cross join lateral (
                select
                    stored.period_start,
                    stored.goal_updated_at,
                    stored.metric_timezone
                from {{ this }} as stored
                where stored.goal_id = goals.goal_id
                order by stored.period_start desc
                limit 1
            ) as latest
            where goals.is_active
        )

        delete from {{ this }} as stored
        using bounds
        where stored.goal_id = bounds.goal_id and stored.period_start >= bounds.recompute_from;

        -- a period overlapping a rebuilt range starts at most 30 days before it (a month is the longest
        -- period): a range of the btree index on period_start
        delete from {{ this }} as stored
        using {{ goal_rebuilt_ranges_sql() }} as rebuilt
        where
            stored.period_start >= rebuilt.start_date - 30
            and stored.period_start < rebuilt.end_date
            and stored.period_end >= rebuilt.start_date;
        {{ any_join_again() }}
    {%- endif %}
{%- endmacro %}
