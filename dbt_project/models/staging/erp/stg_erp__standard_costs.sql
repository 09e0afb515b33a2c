with

source as (

    select * from {{ source('erp', 'standard_costs') }}

),

renamed as (

    select
        -- ids
        plant_id,
        material_local_id,

        -- standard cost of price_unit pieces in the plant's currency, from valid_from (plant-local date)
        valid_from,
        standard_cost,
        price_unit,
        currency,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    -- effective-dated: a cost row from long before the window may still be in force, so no day filter
    where {{ in_partition_plants() }}

)

select * from renamed
