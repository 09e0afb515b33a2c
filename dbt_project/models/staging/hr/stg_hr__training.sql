with

source as (

    select * from {{ source('hr', 'training') }}

),

renamed as (

    select
        -- ids
        plant_id,
        employee_id,
        course,

        -- plant-local date and duration in the plant's unit (converted downstream)
        training_date,
        training_time,
        time_unit,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    where {{ in_partition_plants() }}
        and {{ in_partition_days('training_date') }}

)

select * from renamed
