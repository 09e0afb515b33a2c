with

source as (

    select * from {{ source('sensor', 'readings') }}

),

renamed as (

    select
        -- ids
        plant_id || ':' || asset_local_id as asset_id,
        plant_id,
        asset_local_id,
        tag,

        -- measurement
        value,
        unit,

        -- UTC
        reading_at,

        -- lineage
        kafka_partition,
        kafka_offset,
        ingested_at

    from source
    -- UTC instants: a day of margin on each side covers every plant's time zone and the meter reading just before
    -- the window's first shift starts
    where {{ in_partition_plants() }}
        and {{ in_partition_instants('reading_at', days_before=1, days_after=2) }}

)

select * from renamed
