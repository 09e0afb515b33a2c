with

source as (

    select * from {{ source('mes', 'shift_calendar') }}

),

renamed as (

    select
        -- ids
        plant_id,
        shift_local_code as shift_code,

        -- production day: the local date on which the shift starts
        shift_date,

        -- plant-local wall clock, end exclusive
        started_at_local,
        ended_at_local,

        -- lineage
        ingested_at

    from source
    -- The day before the window too: a count interval early on the window's first day belongs to the night shift
    -- that started the day before; the day after, for the states of the window's last night shift.
    where {{ in_partition_plants() }}
        and {{ in_partition_days('shift_date', days_before=1, days_after=1) }}

)

select * from renamed
