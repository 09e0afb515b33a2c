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

    select * from {{ ref('oee_asset_shift') }}
    where {{ in_partition() }}

),

summed as (

    -- Ratios of sums, never averages of ratios: sum the elements, then apply the same KPI formulas once.
    select
        plant_id,
        plant_name,
        shift_date,

        sum(pot_s) as pot_s,
        sum(pdot_s) as pdot_s,
        sum(pbt_s) as pbt_s,
        sum(apt_s) as apt_s,
        sum(aust_s) as aust_s,
        sum(adet_s) as adet_s,
        sum(adot_s) as adot_s,

        cast(sum(pq) as bigint) as pq,
        cast(sum(gq) as bigint) as gq,
        cast(sum(sq) as bigint) as sq,
        cast(sum(rq) as bigint) as rq,
        sum(pri_pq_s) as pri_pq_s

    from asset_shifts
    group by plant_id, plant_name, shift_date

),

final as (

    select
        *,
        {{ kpi_availability() }} as availability,
        {{ kpi_effectiveness() }} as effectiveness,
        {{ kpi_quality_ratio() }} as quality_ratio,
        {{ kpi_oee() }} as oee

    from summed

)

select * from final
