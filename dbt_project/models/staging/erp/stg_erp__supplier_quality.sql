with

source as (

    select * from {{ source('erp', 'supplier_quality') }}

),

renamed as (

    select
        -- ids: the delivering system and its spelling of the receiving plant (resolved in the mart)
        plant_id as source_plant_id,
        plant_name as local_plant_name,
        vendor_id,
        material_local_id,
        defect_id,

        -- text
        vendor_name,
        material_type,
        category,
        defect,
        defect_type,

        -- facts
        report_date,
        defect_qty,
        downtime_min,

        -- lineage: the line of the extract a row came from (the extract may hold exact duplicate rows)
        source_file,
        source_line,
        ingested_at

    -- not restricted to a partition window: the supplier-quality mart sums whole years of every plant
    from source

)

select * from renamed
