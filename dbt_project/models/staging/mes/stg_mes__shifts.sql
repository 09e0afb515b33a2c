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
        ended_at_local

    from source

)

select * from renamed
