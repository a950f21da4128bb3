{{
    config(
        materialized='incremental',
        incremental_strategy='date_range_diff',
        unique_key=['task_id', 'date'],
        on_schema_change='append_new_columns',
        tags=['daily'],
        pre_hook=[
            "{{ drop_index_kind('valid_range', ref('int_task_slots_parsed')) }}",
            "{{ create_index_once('valid_start', '(start_at) where invalid_reason is null',
                ref('int_task_slots_parsed')) }}",
            "{{ create_index_once('valid_long_end',
                '(end_at) where invalid_reason is null and end_at - start_at > ' ~ short_slot_limit(),
                ref('int_task_slots_parsed')) }}",
            "{{ build_work_mem() }}",
        ],
        indexes=[
            {'columns': ['date']},
            {'columns': ['task_id']},
        ],
    )
}}

{#-
    The valid slots of counted tasks cut into one piece per local day they overlap (user's current
    zone), for the built range [start_date, end_date): computed once per build and read by the three
    date-partitioned marts. Rebuilt over the range like them
    (tag daily, strategy date_range_diff: only the rows that differ are written); unique per task, slot
    and date.
    Its pre-hooks create the two btree indexes on int_task_slots_parsed that its ranged reads use
    (valid_slot_overlaps_range), when missing (after that table was built whole): off the path parse ->
    task summary -> events -> marts. They replace the GiST index of earlier versions, which took a full
    build several seconds to make (its leftover is dropped).
-#}

select
    user_id,
    task_id,
    slot_index,
    category_id,
    task_updated_at,
    date,
    piece_start,
    piece_end,
    minutes
from {{ scheduled_slot_pieces_by_local_day() }} as pieces
