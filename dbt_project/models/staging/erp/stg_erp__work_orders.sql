with

source as (

    select * from {{ source('erp', 'work_orders') }}

),

renamed as (

    select
        -- ids
        plant_id,
        order_id,
        material_local_id,
        -- the work center the order is scheduled on
        asset_local_id,

        -- planned good quantity and the scrap planned on top of it (PSQ)
        order_qty,
        planned_scrap_qty,

        -- plant-local dates
        released_date,
        due_date,

        -- lineage
        source_file,
        source_line,
        ingested_at

    from source
    -- delivery counts an order on its due date
    where {{ in_partition_plants() }}
        and {{ in_partition_days('due_date') }}

)

select * from renamed
