-- Source schema `app` (SPEC section 1), the `analytics` schema for the marts,
-- and the read-only analyst role. Idempotent: running it again changes nothing.

create schema if not exists app;
create schema if not exists analytics;

create table if not exists app.users (
    user_id uuid primary key,
    email text,
    timezone text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists app.categories (
    category_id uuid primary key,
    user_id uuid not null references app.users (user_id) on delete cascade,
    name text not null,
    color text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists app.tasks (
    task_id uuid primary key,
    user_id uuid not null references app.users (user_id) on delete cascade,
    category_id uuid references app.categories (category_id) on delete set null,
    title text,
    status text not null
        constraint tasks_status_check
        check (status in ('pending', 'scheduled', 'completed', 'cancelled')),
    scheduled_slots jsonb not null default '[]'::jsonb,
    completed_at timestamptz,
    deleted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists app.user_calendar_days (
    user_id uuid not null references app.users (user_id) on delete cascade,
    date date not null,
    focus_slots jsonb not null default '[]'::jsonb,
    updated_at timestamptz not null default now(),
    primary key (user_id, date)
);

create table if not exists app.goals (
    goal_id uuid primary key default gen_random_uuid(),
    user_id uuid not null references app.users (user_id) on delete cascade,
    name text not null,
    target_type text not null
        constraint goals_target_type_check
        check (target_type in ('minutes', 'percentage', 'task_count')),
    target_value integer not null constraint goals_target_value_check check (target_value > 0),
    time_period text not null
        constraint goals_time_period_check
        check (time_period in ('daily', 'weekly', 'monthly')),
    category_id uuid references app.categories (category_id) on delete set null,
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint goals_percentage_check
        check (target_type <> 'percentage' or target_value <= 100)
);

-- What the change sensor and the API read by.
create index if not exists tasks_user_id_idx on app.tasks (user_id);
create index if not exists tasks_updated_at_idx on app.tasks (updated_at);
create index if not exists tasks_category_id_idx on app.tasks (category_id);
create index if not exists categories_user_id_idx on app.categories (user_id);
create index if not exists user_calendar_days_updated_at_idx on app.user_calendar_days (updated_at);
create index if not exists user_calendar_days_date_idx on app.user_calendar_days (date);
create index if not exists goals_user_id_idx on app.goals (user_id);
create index if not exists goals_updated_at_idx on app.goals (updated_at);
create index if not exists users_updated_at_idx on app.users (updated_at);
create index if not exists categories_updated_at_idx on app.categories (updated_at);

-- How a ranged warehouse build finds the tasks of its dates without scanning history: the local
-- dates a task's slots can touch. Every instant the slot grammar accepts (dbt model int_task_slots_parsed)
-- starts with its 'YYYY-MM-DD' date at its own offset, and a local date differs from that by at most two
-- days (offsets stay within +-16 h), so this span of the slots' date prefixes, widened by the build,
-- holds every local date of every valid slot. Pure text and integer arithmetic on the prefixes (never a
-- cast that could fail), hence IMMUTABLE and indexable; null when no element has two date prefixes.
-- A loose superset filter, not a second grammar: which slots are valid is decided by the dbt model.
create or replace function app.slot_date_span(slots jsonb) returns daterange
language sql immutable parallel safe as $$
    select daterange(min(prefix_date), max(prefix_date) + 1, '[)')
    from (
        select make_date(substr(prefix, 1, 4)::integer, substr(prefix, 6, 2)::integer, 1)
            + (substr(prefix, 9, 2)::integer - 1) as prefix_date
        from jsonb_array_elements(case when jsonb_typeof(slots) = 'array' then slots else '[]'::jsonb end) as slot,
            lateral (values (slot ->> 'start'), (slot ->> 'end')) as texts (prefix)
        where
            jsonb_typeof(slot) = 'object'
            and prefix ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
            and substr(prefix, 1, 4) <> '0000'
    ) as prefixes
$$;

-- What the warehouse, the change sensor and the API read by.
create index if not exists tasks_slot_date_span_idx on app.tasks using gist (app.slot_date_span(scheduled_slots));
create index if not exists tasks_completed_at_idx on app.tasks (completed_at);

-- Read-only role for analysts: everything in `analytics`, nothing in `app`.
-- Roles are cluster-wide; a concurrent `db init` on another database may create it first.
do $$
begin
    if not exists (select from pg_roles where rolname = 'pulse_analyst') then
        create role pulse_analyst login;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

revoke all on schema app from pulse_analyst;
revoke all on all tables in schema app from pulse_analyst;
grant usage on schema analytics to pulse_analyst;
grant select on all tables in schema analytics to pulse_analyst;
alter default privileges in schema analytics grant select on tables to pulse_analyst;
