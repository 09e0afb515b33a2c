with

source as (

    select * from {{ source('erp', 'shipments') }}

),

renamed as (

    select
        -- ids
        plant_id,
        shipment_id,
        order_id,
        material_local_id,

        -- quantities
        ordered_qty,
        shipped_qty,

        -- plant-local dates
        promised_date,
        shipped_date,

        -- weight in the plant's unit (converted where it is used)
        gross_weight,
        weight_unit,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    -- a shipment is read with its order (an order is counted on its due date, the shipment's promised date)
    where {{ in_partition_plants() }}
        and {{ in_partition_days('promised_date') }}

)

select * from renamed
