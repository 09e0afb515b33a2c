with

source as (

    select * from {{ source('hr', 'attendance') }}

),

renamed as (

    select
        -- ids
        plant_id,
        employee_id,
        shift_local_code as shift_code,

        -- production day of the shift
        shift_date,

        -- scheduled, attended and order-booked working time in the plant's unit (converted downstream)
        scheduled_time,
        attended_time,
        worked_time,
        time_unit,
        nullif(trim(absence_reason), '') as absence_reason,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    where {{ in_partition_plants() }}
        and {{ in_partition_days('shift_date') }}

)

select * from renamed
