-- Published: the ISO 22400-2 time elements and quantities of every asset-shift, with the maintenance, loss and energy
-- elements and the confidence inputs. Every KPI of the KPI table is a ratio of sums of these columns.
--
-- A view over the incremental int_asset_shift_elements, which holds them: the published columns without a second
-- copy of every asset-shift (the contract holds the view to this column list).
{{ config(materialized='view', meta={'test_window': in_partition()}) }}

with

asset_shift_elements as (

    select * from {{ ref('int_asset_shift_elements') }}

),

final as (

    select
        -- grain: asset x shift
        plant_id,
        plant_name,
        line_id,
        asset_id,
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
        aupt_s,
        aubt_s,
        aoet_s,
        unmapped_s,

        -- time losses by the mapping's loss category (the waterfall's availability steps)
        {% for category in time_loss_categories() -%}
        loss_{{ category }}_s,
        {% endfor %}
        -- maintenance
        cmt_s,
        pmt_s,
        failure_events,

        -- quantities and ideal times
        pq,
        gq,
        sq,
        rq,
        gp,
        ip,
        pri_pq_s,
        pri_gq_s,
        pri_sq_s,
        pri_rq_s,

        -- cost (plant currency)
        produced_cost,
        scrap_cost,
        costed_gq,

        -- energy
        energy_kwh,
        metered_gq,
        metered_pot_s,

        -- confidence
        covered_s,
        freshness_at,
        has_closed_time_elements,
        has_known_cycle_times,
        has_plausible_effectiveness,
        checks_passed

    from asset_shift_elements

)

select * from final
