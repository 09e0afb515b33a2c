-- The OEE subset of the asset-shift elements, in the columns of its contract
-- (catalog/contracts/silver.intermediate.int_asset_shifts_summarized.yaml): the input of the published OEE marts.
with

asset_shift_elements as (

    select * from {{ ref('int_asset_shift_elements') }}

),

final as (

    select
        plant_id,
        plant_name,
        asset_id,
        line_id,
        shift_code,
        shift_date,
        shift_started_at,
        shift_ended_at,
        pot_s,
        pdot_s,
        apt_s,
        aust_s,
        adet_s,
        adot_s,
        unmapped_s,
        pq,
        gq,
        sq,
        rq,
        pri_pq_s,
        pbt_s

    from asset_shift_elements

)

select * from final
