with

production_counts as (

    select * from {{ ref('int_production_counts_assigned_to_shifts') }}
    where {{ in_partition() }}

),

summarized as (

    -- keyed by the plant-local asset id: the enterprise id is attached once per asset-shift, not once per interval
    select
        plant_id,
        asset_local_id,
        shift_date,
        shift_code,
        cast(sum(produced_qty) as bigint) as pq,
        cast(sum(good_qty) as bigint) as gq,
        cast(sum(scrap_qty) as bigint) as sq,
        cast(sum(rework_qty) as bigint) as rq,
        sum(pri_pq_s) as pri_pq_s,
        sum(pri_gq_s) as pri_gq_s,
        sum(pri_sq_s) as pri_sq_s,
        sum(pri_rq_s) as pri_rq_s,
        sum(produced_cost) as produced_cost,
        sum(scrap_cost) as scrap_cost,
        -- the good quantity of the intervals whose material has a standard cost: the basis of cost per good unit
        cast(sum(good_qty) filter (where cost_per_piece is not null) as bigint) as costed_gq,
        -- order execution time: the intervals carrying an order (each interval carries exactly one)
        sum(duration_s) filter (where order_id is not null) as aoet_s,
        count(*) filter (where ideal_cycle_time_s is null) as unknown_cycle_time_count,
        max(ingested_at) as ingested_at

    from production_counts
    group by plant_id, asset_local_id, shift_date, shift_code

)

select * from summarized
