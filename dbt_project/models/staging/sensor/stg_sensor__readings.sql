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
        kafka_offset

    from source

)

select * from renamed
