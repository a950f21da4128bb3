{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook=[
            "{{ create_index_once('valid_range',
                'using gist (tstzrange(start_at, end_at)) where invalid_reason is null',
                ref('int_task_slots_parsed'), analyze_after=true) }}",
            "{{ delete_built_date_range() }}",
            "{{ build_work_mem() }}",
        ],
        indexes=[
            {'columns': ['user_id', 'date']},
            {'columns': ['date']},
            {'columns': ['task_id']},
        ],
    )
}}

{#-
    The valid slots of counted tasks cut into one piece per local day they overlap (user's current
    zone), for the built range [start_date, end_date): computed once per build and read by the three
    date-partitioned marts. Rebuilt by delete + insert over the range like them (tag daily).
    Its pre-hook creates the GiST index on int_task_slots_parsed that its ranged reads use, when missing
    (after that table was built whole): off the path parse -> task summary -> events -> marts. It then
    analyzes the table, so the overlap condition below has statistics (the whole history of a full build
    is read by a scan, not through the index).
-#}

select
    user_id,
    task_id,
    category_id,
    task_updated_at,
    date,
    piece_start,
    piece_end,
    minutes
from {{ scheduled_slot_pieces_by_local_day() }} as pieces
