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

-- What the warehouse, the change sensor and the API read by.
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

-- Tombstones of hard deletes, written by statement-level triggers on the two tables the warehouse
-- parses incrementally: a ranged build removes the parsed rows of exactly the keys deleted since its last
-- parse (macro delete_reparsed_rows) instead of checking every parsed row of its range against the source,
-- a check whose index probes grow with history. A TRUNCATE leaves one row with a null key. Where these
-- tables come from other DDL (no triggers), builds fall back to that check. Old rows can be deleted at any
-- time once every build has run past them (the warehouse reads the last parse_lookback, default 1 hour).
create table if not exists app.source_deletes (
    table_name text not null,
    key jsonb,
    deleted_at timestamptz not null default now()
);
create index if not exists source_deletes_table_name_deleted_at_idx on app.source_deletes (table_name, deleted_at);

create or replace function app.record_source_deletes() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_op = 'TRUNCATE' then
        insert into app.source_deletes (table_name, key) values (tg_table_name, null);
    else
        -- the trigger's arguments name the key columns
        insert into app.source_deletes (table_name, key)
        select tg_table_name, (select jsonb_object_agg(name, to_jsonb(gone) -> name) from unnest(tg_argv) as name)
        from gone;
    end if;
    return null;
end
$$;

create or replace trigger tasks_record_deletes
    after delete on app.tasks referencing old table as gone
    for each statement execute function app.record_source_deletes('task_id');
create or replace trigger tasks_record_truncates
    after truncate on app.tasks
    for each statement execute function app.record_source_deletes();
create or replace trigger user_calendar_days_record_deletes
    after delete on app.user_calendar_days referencing old table as gone
    for each statement execute function app.record_source_deletes('user_id', 'date');
create or replace trigger user_calendar_days_record_truncates
    after truncate on app.user_calendar_days
    for each statement execute function app.record_source_deletes();

-- Roles of least privilege (pulse/roles.py says which service uses which; pulse/schema.py sets their
-- passwords and the analyst's timeouts and connection limit). Roles are cluster-wide; a concurrent
-- `db init` on another database may create one first. Keep this block last: it grants on what the
-- blocks above create.
do $$
declare
    role_name text;
begin
    foreach role_name in array array['pulse_api', 'pulse_transform', 'pulse_analyst'] loop
        if not exists (select from pg_roles where rolname = role_name) then
            begin
                execute format('create role %I login', role_name);
            exception when duplicate_object or unique_violation then
                null;
            end;
        end if;
    end loop;
end
$$;

-- The warehouse schemas and everything in them belong to pulse_transform: dbt must own what it
-- replaces. Relations an earlier build made as another role (a superuser) change owner here.
create schema if not exists staging;
create schema if not exists intermediate;
alter schema analytics owner to pulse_transform;
alter schema staging owner to pulse_transform;
alter schema intermediate owner to pulse_transform;
do $$
declare
    rel record;
begin
    for rel in
        select
            c.oid::regclass as relation,
            case c.relkind
                when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
                when 'f' then 'foreign table' else 'table'
            end as kind
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where
            n.nspname in ('analytics', 'staging', 'intermediate')
            and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
            and c.relowner <> 'pulse_transform'::regrole
            -- a sequence owned by a column moves with its table
            and not exists (
                select from pg_depend as d
                where d.objid = c.oid and d.classid = 'pg_class'::regclass and d.deptype in ('a', 'i')
            )
    loop
        execute format('alter %s %s owner to pulse_transform', rel.kind, rel.relation);
    end loop;
end
$$;

-- pulse_transform (dbt, Dagster): reads app, owns the warehouse, reads and writes pulse_state.
grant usage on schema app to pulse_transform;
grant select on all tables in schema app to pulse_transform;
alter default privileges in schema app grant select on tables to pulse_transform;
do $$
begin
    if exists (select from pg_namespace where nspname = 'pulse_state') then
        grant usage on schema pulse_state to pulse_transform;
        grant select, insert, update, delete on all tables in schema pulse_state to pulse_transform;
        grant usage, select, update on all sequences in schema pulse_state to pulse_transform;
        alter default privileges in schema pulse_state
        grant select, insert, update, delete on tables to pulse_transform;
        alter default privileges in schema pulse_state grant usage, select, update on sequences to pulse_transform;
    end if;
end
$$;

-- pulse_api: reads the public marts and views and the app tables it shows; writes app.goals only.
grant usage on schema app to pulse_api;
revoke all on all tables in schema app from pulse_api;
grant select on app.users, app.categories to pulse_api;
grant select, insert, update, delete on app.goals to pulse_api;

-- pulse_analyst: reads analytics, nothing else.
revoke all on schema app from pulse_analyst;
revoke all on all tables in schema app from pulse_analyst;

-- Both read what pulse_transform builds in analytics; staging and intermediate stay the transformation's.
grant usage on schema analytics to pulse_api, pulse_analyst;
grant select on all tables in schema analytics to pulse_api, pulse_analyst;
alter default privileges for role pulse_transform in schema analytics grant select on tables to pulse_api, pulse_analyst;
revoke all on schema staging, intermediate from pulse_api, pulse_analyst;
revoke all on all tables in schema staging, intermediate from pulse_api, pulse_analyst;
-- Staging and intermediate models that builds from before their move left in analytics hold app data.
do $$
declare
    rel record;
begin
    for rel in
        select c.oid::regclass as relation
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = 'analytics' and c.relkind in ('r', 'p', 'v', 'm') and c.relname ~ '^(stg|int)_'
    loop
        execute format('revoke all on %s from pulse_api, pulse_analyst', rel.relation);
    end loop;
end
$$;

-- Nobody calls the trigger functions directly.
revoke all on function app.record_source_deletes() from public;
