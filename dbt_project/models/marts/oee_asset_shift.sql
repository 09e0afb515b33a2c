-- Incremental: a partition run (vars min_date, max_date, plant_ids) replaces exactly its (plant, day) window.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        incremental_predicates=[in_partition()],
        on_schema_change='fail'
    )
}}

with

asset_shifts as (

    select * from {{ ref('int_asset_shifts_summarized') }}
    where {{ in_partition() }}

),

final as (

    select
        -- grain: asset x shift
        plant_id,
        plant_name,
        asset_id,
        line_id,
        shift_code,
        shift_date,
        shift_started_at,
        shift_ended_at,

        -- ISO 22400-2 time elements, seconds
        pot_s,
        pdot_s,
        pbt_s,
        apt_s,
        aust_s,
        adet_s,
        adot_s,

        -- quantities
        pq,
        gq,
        sq,
        rq,
        pri_pq_s,

        -- KPIs, formulas generated from catalog/kpis/*.yaml
        {{ kpi_availability() }} as availability,
        {{ kpi_effectiveness() }} as effectiveness,
        {{ kpi_quality_ratio() }} as quality_ratio,
        {{ kpi_oee() }} as oee

    from asset_shifts

)

select * from final
