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
    -- Days before the window too: the counts read for the orders due in the window (order_lookback_days before it,
    -- see stg_mes__production_counts) need their shifts, and the earliest of them may belong to a night shift that
    -- started the day before; the day after, for the states of the window's last night shift.
    where {{ in_partition_plants() }}
        and {{ in_partition_days('shift_date', days_before=var('order_lookback_days') + 1, days_after=1) }}

)

select * from renamed
