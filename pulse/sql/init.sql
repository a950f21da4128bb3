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

-- How a ranged warehouse build finds the tasks of its dates without scanning history: the dates a task's
-- slots can touch. Every instant the slot grammar accepts (dbt model int_task_slots_parsed) starts with
-- its 'YYYY-MM-DD' date at its own offset, and a local date differs from that by at most two days
-- (offsets stay within +-16 h), so every date from the first to the last of a slot's two date prefixes,
-- widened by the build, holds every local date of every valid slot (per slot, so one stray date in a task
-- does not make it span years). A slot spanning more than 62 days stands for 'infinity' instead, which
-- every ranged build asks for too. Pure text and integer arithmetic on the prefixes (never a cast that
-- could fail), hence IMMUTABLE and indexable; null when no slot has two date prefixes. A loose superset
-- filter, not a second grammar: which slots are valid is decided in dbt.
-- An array under GIN, not a datemultirange under GiST: GiST keeps one bounding range per task, so every
-- match was rechecked by calling the function again (2-day build, 10,000 users x 90 days: 5.5 s of the
-- 8.9 s spent finding and parsing the range's slots); GIN answers && on arrays exactly (0.1 s).
create or replace function app.task_slot_days(slots jsonb) returns date[]
language sql immutable parallel safe as $$
    select array_agg(distinct slot_day)
    from (
        select
            make_date(substr(slot ->> 'start', 1, 4)::integer, substr(slot ->> 'start', 6, 2)::integer, 1)
                + (substr(slot ->> 'start', 9, 2)::integer - 1) as start_date,
            make_date(substr(slot ->> 'end', 1, 4)::integer, substr(slot ->> 'end', 6, 2)::integer, 1)
                + (substr(slot ->> 'end', 9, 2)::integer - 1) as end_date
        from jsonb_array_elements(case when jsonb_typeof(slots) = 'array' then slots else '[]'::jsonb end) as slot
        where
            jsonb_typeof(slot) = 'object'
            and slot ->> 'start' ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
            and slot ->> 'end' ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
            and substr(slot ->> 'start', 1, 4) <> '0000'
            and substr(slot ->> 'end', 1, 4) <> '0000'
    ) as slot_dates
    cross join lateral (
        select least(start_date, end_date) + day_offset as slot_day
        from generate_series(0, abs(end_date - start_date)) as day_offsets (day_offset)
        where abs(end_date - start_date) <= 62
        union all
        select 'infinity'::date where abs(end_date - start_date) > 62
    ) as slot_days
$$;

-- What the warehouse, the change sensor and the API read by.
create index if not exists tasks_slot_days_idx on app.tasks using gin (app.task_slot_days(scheduled_slots));
create index if not exists tasks_completed_at_idx on app.tasks (completed_at);
-- The GiST index this one replaced cost every write to app.tasks a call of its function: gone.
drop index if exists app.tasks_slot_dates_idx;
drop function if exists app.task_slot_dates(jsonb);

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
-- The change queue: the sensor and `pulse refresh` (as pulse_transform) claim, release and delete its rows;
-- the app's roles write it only through the security definer triggers above.
grant usage on schema pulse_state to pulse_transform;
grant select, insert, update, delete on all tables in schema pulse_state to pulse_transform;
grant usage, select, update on all sequences in schema pulse_state to pulse_transform;

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

-- Nobody calls the trigger function directly.
revoke all on function pulse_state.record_source_changes() from public;
