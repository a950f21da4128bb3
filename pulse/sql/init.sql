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

-- Change queue of the orchestration (orchestration/change_queue.py): every committed change of an app table,
-- written by statement-level triggers, so a change becomes visible to the change sensor exactly when its
-- transaction commits, whatever its updated_at. The sensor and `pulse refresh` claim visible rows into a batch
-- (column batch), launch runs tagged with it, and delete the batch's rows when its runs succeed (or release
-- the claim when they fail). A statement touching more than 10,000 rows (a COPY, a reload) leaves one
-- row of kind 'bulk' without keys instead (rebuild every date), so a load of millions of rows writes one row.
-- The functions are security definer: the app's roles write the queue only through these triggers. The
-- transformation role (the one Dagster runs as) must select, update and delete rows of the queue.
create schema if not exists pulse_state;
create table if not exists pulse_state.source_changes (
    change_id bigint generated always as identity primary key,
    table_name text not null,
    kind text not null, -- insert, update, delete, truncate, bulk, repair
    user_id uuid,
    task_id uuid,
    date date,
    recorded_at timestamptz not null default now(),
    batch text,
    claimed_at timestamptz,
    attempts integer not null default 0
);
create index if not exists source_changes_batch_idx on pulse_state.source_changes (batch);

create or replace function pulse_state.record_source_changes() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    -- tg_argv: the expressions recorded as task_id and date from each row ('null::...' when the table has none)
    relations text[] := case tg_op
        when 'INSERT' then array['new_rows'] when 'DELETE' then array['old_rows'] else array['old_rows', 'new_rows']
    end;
    touched bigint;
begin
    if tg_op = 'TRUNCATE' then
        insert into pulse_state.source_changes (table_name, kind) values (tg_table_name, 'truncate');
        return null;
    end if;
    execute format('select count(*) from %I', relations[1]) into touched;
    if touched > 10000 then
        insert into pulse_state.source_changes (table_name, kind) values (tg_table_name, 'bulk');
        return null;
    end if;
    -- an update's old and new keys, once each (a moved calendar day records both dates)
    execute format(
        'insert into pulse_state.source_changes (table_name, kind, user_id, task_id, date) %s',
        (
            select string_agg(format('select %L, %L, user_id, %s, %s from %I',
                tg_table_name, lower(tg_op), tg_argv[0], tg_argv[1], relation), ' union ')
            from unnest(relations) as relation
        )
    );
    return null;
end
$$;

do $$
declare
    source record;
begin
    for source in
        select * from (values
            ('tasks', 'task_id', 'null::date'),
            ('user_calendar_days', 'null::uuid', 'date'),
            ('users', 'null::uuid', 'null::date'),
            ('categories', 'null::uuid', 'null::date'),
            ('goals', 'null::uuid', 'null::date')
        ) as t (table_name, task_expression, date_expression)
    loop
        execute format(
            'create or replace trigger %1$I after insert on app.%2$I referencing new table as new_rows'
            ' for each statement execute function pulse_state.record_source_changes(%3$L, %4$L)',
            source.table_name || '_queue_inserts', source.table_name, source.task_expression, source.date_expression
        );
        execute format(
            'create or replace trigger %1$I after update on app.%2$I'
            ' referencing old table as old_rows new table as new_rows'
            ' for each statement execute function pulse_state.record_source_changes(%3$L, %4$L)',
            source.table_name || '_queue_updates', source.table_name, source.task_expression, source.date_expression
        );
        execute format(
            'create or replace trigger %1$I after delete on app.%2$I referencing old table as old_rows'
            ' for each statement execute function pulse_state.record_source_changes(%3$L, %4$L)',
            source.table_name || '_queue_deletes', source.table_name, source.task_expression, source.date_expression
        );
        execute format(
            'create or replace trigger %1$I after truncate on app.%2$I'
            ' for each statement execute function pulse_state.record_source_changes()',
            source.table_name || '_queue_truncates', source.table_name
        );
    end loop;
end
$$;
revoke all on schema pulse_state from public;

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
