{#-
    The goal rules of SPEC section 3, once: one row per active goal and period from the period holding
    the goal's creation (local date) to the period holding "now" (local date), with achieved value,
    percent complete and status as of `now_expr`. goal_progress_snapshots calls it with the build's
    as_of, the view goal_progress_live with now(). The goals, in their users' zones, are the view
    int_goals_defined.
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

    `stored` (goal_progress_snapshots' incremental runs, after its pre-hook deleted what must be
    recomputed) limits the periods to those missing: every period after the goal's latest stored one,
    and every period overlapping the built range [start_date, end_date). Without it, every period from
    the goal's creation to "now".
-#}
{% macro goal_progress(now_expr, stored=none) %}
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
            goals.goal_definition
        from {{ ref('int_goals_defined') }} as goals
        cross join lateral (
            select
                {{ now_expr }} as taken_at,
                {{ local_date_of(now_expr, 'goals.metric_timezone') }} as local_today
        ) as moments
        cross join lateral (
            select
                series.period_start::date as period_start,
                (series.period_start + {{ goal_period_step('goals.time_period') }})::date - 1 as period_end
            from (
                {%- set first_period = "(" ~ goal_period_start('goals.created_local_date', 'goals.time_period') ~ ")::timestamp" %}
                {%- set current_period = "(" ~ goal_period_start('moments.local_today', 'goals.time_period') ~ ")::timestamp" %}
                {%- if stored is none %}
                select generate_series({{ first_period }}, {{ current_period }}, {{ goal_period_step('goals.time_period') }})
                    as period_start
                {%- else %}
                select generate_series(
                    coalesce(
                        (
                            select max(stored.period_start)
                            from {{ stored }} as stored
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
                        ({{ goal_period_start(range_start_date(), 'goals.time_period') }})::timestamp, {{ first_period }}
                    ),
                    least(
                        ({{ goal_period_start(range_end_date() ~ ' - 1', 'goals.time_period') }})::timestamp,
                        {{ current_period }}
                    ),
                    {{ goal_period_step('goals.time_period') }}
                ) as period_start
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
    )
{% endmacro %}

