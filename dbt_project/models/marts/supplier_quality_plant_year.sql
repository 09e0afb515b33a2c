-- Supplier quality per enterprise plant and year: defect quantity and downtime minutes after resolving each
-- delivering system's plant name through the governed mapping (catalog/mappings/plant_names.yaml), with the exact
-- duplicate rows of the extracts counted and reported, and left out of the sums. A name without a mapping is not
-- dropped: its rows stay on a row of their own (is_mapped false) until a mapping is approved.

with

records as (

    select * from {{ ref('stg_erp__supplier_quality') }}

),

plant_names as (

    select * from {{ ref('plant_name_mappings') }}

),

numbered as (

    -- a row identical in every delivered column to an earlier line is a duplicate (the first line counts)
    select
        *,
        row_number() over (
            partition by
                source_plant_id, local_plant_name, report_date, vendor_id, vendor_name, material_local_id,
                material_type, category, defect_id, defect, defect_type, defect_qty, downtime_min
            order by source_file, source_line
        ) > 1 as is_duplicate
    from records

),

resolved as (

    select
        numbered.*,
        plant_names.enterprise_plant_id,
        plant_names.enterprise_plant_name,
        plant_names.enterprise_plant_id is not null as is_mapped
    from numbered
    left join plant_names
        on numbered.source_plant_id = plant_names.source_plant_id
        and numbered.local_plant_name = plant_names.local_name

),

summed as (

    select
        enterprise_plant_id,
        coalesce(enterprise_plant_name, local_plant_name) as plant_name,
        case when not is_mapped then source_plant_id end as unmapped_source_plant_id,
        cast(year(report_date) as integer) as year,
        is_mapped,
        count(*) as record_rows,
        count(*) filter (where is_duplicate) as duplicate_rows,
        cast(coalesce(sum(defect_qty) filter (where not is_duplicate), 0) as bigint) as defect_qty,
        cast(coalesce(sum(downtime_min) filter (where not is_duplicate), 0) as double) as downtime_min,
        cast(sum(defect_qty) as bigint) as defect_qty_reported,
        cast(sum(downtime_min) as double) as downtime_min_reported,
        min(report_date) as first_report_date,
        max(report_date) as last_report_date,
        max(ingested_at) as freshness_at
    from resolved
    group by all

)

select * from summed
