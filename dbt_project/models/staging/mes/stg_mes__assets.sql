with

source as (

    select * from {{ source('mes', 'assets') }}

),

renamed as (

    select
        -- ids
        plant_id || ':' || asset_local_id as asset_id,
        plant_id || ':' || line_local_id as line_id,
        plant_id,
        asset_local_id,
        line_local_id,

        -- text
        asset_name

    from source
    where {{ in_partition_plants() }}

)

select * from renamed
