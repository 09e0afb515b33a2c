with

source as (

    select * from {{ source('erp', 'materials') }}

),

renamed as (

    select
        -- ids
        plant_id,
        material_local_id,

        -- text
        material_name,

        -- ideal cycle time (PRI) in the plant's unit; converted to seconds downstream
        ideal_cycle_time,
        ideal_cycle_time_unit

    from source
    where {{ in_partition_plants() }}

)

select * from renamed
