with

source as (

    select * from {{ source('ehs', 'incidents') }}

),

renamed as (

    select
        -- ids
        plant_id,
        incident_id,
        nullif(trim(line_local_id), '') as line_local_id,

        -- plant-local classification, mapped to the enterprise incident type downstream
        incident_type as incident_local_type,

        -- facts
        lost_days,
        description,

        -- plant-local wall clock; its local date is the day the incident counts on
        occurred_at_local,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    where {{ in_partition_plants() }}
        and {{ in_partition_instants('occurred_at_local') }}

)

select * from renamed
