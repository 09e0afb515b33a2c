with

source as (

    select * from {{ source('mes', 'machine_states') }}

),

renamed as (

    select
        -- ids
        plant_id || ':' || asset_local_id as asset_id,
        plant_id,
        asset_local_id,

        -- plant-local code, mapped to the enterprise state downstream
        state_local_code,

        -- plant-local wall clock, end exclusive
        started_at_local,
        ended_at_local,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    -- the partition window's days and the next one, which its night shifts reach into
    where {{ in_partition_plants() }}
        and {{ overlaps_partition_days('started_at_local', 'ended_at_local', days_after=1) }}

)

select * from renamed
