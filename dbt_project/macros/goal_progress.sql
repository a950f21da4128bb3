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

{% macro goal_progress(now_expr) %}
    (
        with users as (
            select
                user_id,
                metric_timezone
            from {{ ref('stg_app__users') }}
        ),

        goals as (
            select
                goals.goal_id,
                goals.user_id,
                goals.target_type,
                goals.target_value,
                goals.time_period,
                goals.category_id,
                {{ now_expr }} as taken_at,
                (goals.created_at at time zone users.metric_timezone)::date as created_local_date,
                ({{ now_expr }} at time zone users.metric_timezone)::date as local_today
            from {{ ref('stg_app__goals') }} as goals
            inner join users on goals.user_id = users.user_id
            where goals.is_active
        ),

        periods as (
            select
                goals.*,
                series.period_start::date as period_start,
                (series.period_start + {{ goal_period_step('goals.time_period') }})::date - 1 as period_end
            from goals
            cross join lateral generate_series(
                ({{ goal_period_start('goals.created_local_date', 'goals.time_period') }})::timestamp,
                ({{ goal_period_start('goals.local_today', 'goals.time_period') }})::timestamp,
                {{ goal_period_step('goals.time_period') }}
            ) as series (period_start)
        ),

        sums as (
            select
                periods.goal_id,
                periods.period_start,
                coalesce(sum(daily.scheduled_minutes) filter (
                    where periods.category_id is null or daily.category_id = periods.category_id
                ), 0) as goal_minutes,
                coalesce(sum(daily.completed_tasks_count) filter (
                    where periods.category_id is null or daily.category_id = periods.category_id
                ), 0) as goal_completed_tasks,
                coalesce(sum(daily.scheduled_minutes), 0) as all_minutes
            from periods
            left join {{ ref('daily_category_metrics') }} as daily
                on
                    periods.user_id = daily.user_id
                    and daily.date >= periods.period_start
                    and daily.date <= periods.period_end
            group by periods.goal_id, periods.period_start
        ),

        achieved as (
            select
                periods.*,
                (case periods.target_type
                    when 'minutes' then sums.goal_minutes
                    when 'task_count' then sums.goal_completed_tasks
                    else
                        case
                            when periods.category_id is null or sums.all_minutes = 0 then 0
                            else round(100.0 * sums.goal_minutes / sums.all_minutes)
                        end
                end)::integer as achieved_value,
                periods.local_today - periods.period_start + 1 as elapsed_days,
                periods.period_end - periods.period_start + 1 as period_days
            from periods
            inner join sums
                on
                    periods.goal_id = sums.goal_id
                    and periods.period_start = sums.period_start
        )

        select
            goal_id,
            user_id,
            period_start,
            period_end,
            time_period,
            target_type,
            target_value,
            achieved_value,
            least(round(100.0 * achieved_value / target_value, 2), 999.99)::numeric(5, 2) as percent_complete,
            case
                when period_end < local_today
                    then case when achieved_value >= target_value then 'achieved' else 'missed' end
                when achieved_value >= target_value then 'achieved'
                when target_type = 'percentage'
                    then
                        case
                            when 5 * achieved_value >= 4 * target_value then 'at_risk'
                            else 'behind'
                        end
                -- pace: expected = target x elapsed / period days, compared without rounding
                when achieved_value::bigint * period_days >= target_value::bigint * elapsed_days then 'on_track'
                when 5 * achieved_value::bigint * period_days >= 4 * target_value::bigint * elapsed_days then 'at_risk'
                else 'behind'
            end as status,
            taken_at,
            category_id,
            local_today
        from achieved
    )
{% endmacro %}
