-- Published: each plant's local OEE beside the enterprise OEE per production day, with the difference attributed to
-- its causes. The asset-shift reconciliation averaged with the planned busy time as weight (how much each asset-shift
-- counts in the enterprise figure), plus the aggregation step: the enterprise plant-day OEE is a ratio of sums, not a
-- weighted mean of asset-shift OEEs. The steps add up exactly:
--   enterprise OEE + aggregation + calendar + mapping + definition + rounding + unexplained = local OEE
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        incremental_predicates=[in_partition()],
        on_schema_change='fail'
    )
}}

with

reconciled as (

    select * from {{ ref('oee_reconciliation_asset_shift') }}
    where {{ in_partition() }}
        and pbt_s > 0

),

plant_days as (

    select * from {{ ref('oee_plant_day') }}
    where {{ in_partition() }}

),

weighted as (

    select
        plant_id,
        shift_date,
        any_value(local_formula) as local_formula,
        count(*) as asset_shifts,
        sum(pbt_s) as pbt_s,
        sum(local_oee * pbt_s) / sum(pbt_s) as local_oee,
        sum(enterprise_oee * pbt_s) / sum(pbt_s) as enterprise_oee_weighted_mean,
        sum(calendar_effect * pbt_s) / sum(pbt_s) as calendar_effect,
        sum(mapping_effect * pbt_s) / sum(pbt_s) as mapping_effect,
        sum(definition_effect * pbt_s) / sum(pbt_s) as definition_effect,
        sum(rounding_effect * pbt_s) / sum(pbt_s) as rounding_effect,
        sum(unexplained_effect * pbt_s) / sum(pbt_s) as unexplained_effect

    from reconciled
    group by plant_id, shift_date

),

final as (

    select
        weighted.plant_id,
        weighted.shift_date,
        weighted.local_formula,
        weighted.asset_shifts,
        weighted.local_oee,
        plant_days.oee as enterprise_oee,
        weighted.local_oee - plant_days.oee as oee_gap,
        weighted.enterprise_oee_weighted_mean - plant_days.oee as aggregation_effect,
        weighted.calendar_effect,
        weighted.mapping_effect,
        weighted.definition_effect,
        weighted.rounding_effect,
        weighted.unexplained_effect

    from weighted
    inner join plant_days
        on weighted.plant_id = plant_days.plant_id
        and weighted.shift_date = plant_days.shift_date

)

select * from final
