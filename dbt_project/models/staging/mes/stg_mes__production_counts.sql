with

source as (

    select * from {{ source('mes', 'production_counts') }}

),

renamed as (

    select
        -- ids
        plant_id || ':' || asset_local_id as asset_id,
        plant_id,
        asset_local_id,
        order_id,
        material_local_id,

        -- quantities
        produced_qty,
        good_qty,
        scrap_qty,
        rework_qty,

        -- plant-local wall clock, end exclusive
        interval_start_local as interval_started_at_local,
        interval_end_local as interval_ended_at_local,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    -- Intervals start in their shift, and the window's night shifts end on the day after it; the days before are
    -- read for the orders due in the window (schedule adherence counts their good quantity up to the due date).
    where {{ in_partition_plants() }}
        and {{ in_partition_instants('interval_start_local', days_before=var('order_lookback_days'), days_after=1) }}

)

select * from renamed
