with

source as (

    select * from {{ source('mes', 'local_oee_report') }}

),

renamed as (

    select
        -- ids
        plant_id || ':' || asset_local_id as asset_id,
        plant_id,
        asset_local_id,
        shift_local_code as shift_code,
        shift_date,

        -- the plant's own figures, in its reporting unit and rounding (catalog/mappings/local_oee_formulas.yaml)
        availability,
        performance,
        quality,
        oee,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    where {{ in_partition_plants() }}
        and {{ in_partition_days('shift_date') }}

)

select * from renamed
