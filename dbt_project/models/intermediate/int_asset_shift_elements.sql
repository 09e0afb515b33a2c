-- The ISO 22400-2 time elements and quantities of every scheduled asset-shift, plus the elements of the maintenance
-- and energy KPIs and what the KPI table's confidence fields are computed from. Every column a KPI formula uses is
-- additive, so any rollup is a sum of these rows (ratios of sums).
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

    select * from {{ ref('int_asset_shifts_scheduled') }}

),

clipped_states as (

    select * from {{ ref('int_machine_states_clipped_to_shifts') }}
    -- the staging margins bring in parts of the neighbouring days' shifts: keep exactly the window
    where {{ in_partition() }}

),

quantities as (

    select * from {{ ref('int_asset_shift_quantities_summarized') }}

),

energy as (

    select * from {{ ref('int_asset_shift_energy_metered') }}

),

time_elements as (

    -- One pass over the clipped states (the largest input of the build), keyed by the plant-local asset id: the
    -- enterprise id is attached once per asset-shift below, not once per state. Loss categories come from the
    -- governed mapping (catalog/mappings/machine_states.yaml): failures are the breakdown category, preventive
    -- maintenance the planned_maintenance category.
    select
        plant_id,
        asset_local_id,
        shift_date,
        shift_code,
        sum(duration_s) filter (where iso_element = 'PDOT') as pdot_s,
        sum(duration_s) filter (where iso_element = 'APT') as apt_s,
        sum(duration_s) filter (where iso_element = 'AUST') as aust_s,
        sum(duration_s) filter (where iso_element = 'ADET') as adet_s,
        sum(duration_s) filter (where iso_element = 'ADOT') as adot_s,
        sum(duration_s) filter (where not is_mapped) as unmapped_s,
        sum(duration_s) filter (where is_mapped) as covered_s,
        sum(duration_s) filter (where loss_category = 'breakdown') as cmt_s,
        sum(duration_s) filter (where loss_category = 'planned_maintenance') as pmt_s,
        -- a failure counts once, in the shift where the breakdown starts
        count(*) filter (where loss_category = 'breakdown' and starts_in_shift) as failure_events,
        {% for category in time_loss_categories() -%}
        sum(duration_s) filter (where loss_category = '{{ category }}') as loss_{{ category }}_s,
        {% endfor -%}
        max(ingested_at) as ingested_at

    from clipped_states
    group by plant_id, asset_local_id, shift_date, shift_code

),

joined as (

    select
        asset_shifts.plant_id,
        asset_shifts.plant_name,
        asset_shifts.asset_id,
        asset_shifts.asset_local_id,
        asset_shifts.line_id,
        asset_shifts.shift_code,
        asset_shifts.shift_date,
        asset_shifts.shift_started_at,
        asset_shifts.shift_ended_at,

        -- POT is the shift's real length (UTC instants: a night shift over a DST change lasts 7 h or 9 h)
        {{ seconds_between('asset_shifts.shift_started_at', 'asset_shifts.shift_ended_at') }} as pot_s,
        coalesce(time_elements.pdot_s, 0) as pdot_s,
        coalesce(time_elements.apt_s, 0) as apt_s,
        coalesce(time_elements.aust_s, 0) as aust_s,
        coalesce(time_elements.adet_s, 0) as adet_s,
        coalesce(time_elements.adot_s, 0) as adot_s,
        coalesce(time_elements.unmapped_s, 0) as unmapped_s,
        coalesce(time_elements.covered_s, 0) as covered_s,
        coalesce(time_elements.cmt_s, 0) as cmt_s,
        coalesce(time_elements.pmt_s, 0) as pmt_s,
        cast(coalesce(time_elements.failure_events, 0) as bigint) as failure_events,
        {% for category in time_loss_categories() -%}
        coalesce(time_elements.loss_{{ category }}_s, 0) as loss_{{ category }}_s,
        {% endfor -%}
        coalesce(quantities.aoet_s, 0) as aoet_s,

        coalesce(quantities.pq, 0) as pq,
        coalesce(quantities.gq, 0) as gq,
        coalesce(quantities.sq, 0) as sq,
        coalesce(quantities.rq, 0) as rq,
        coalesce(quantities.pri_pq_s, 0) as pri_pq_s,
        coalesce(quantities.pri_gq_s, 0) as pri_gq_s,
        coalesce(quantities.pri_sq_s, 0) as pri_sq_s,
        coalesce(quantities.pri_rq_s, 0) as pri_rq_s,
        coalesce(quantities.unknown_cycle_time_count, 0) as unknown_cycle_time_count,
        -- standard cost of the produced and the scrapped quantity, in the plant's currency, and the good quantity
        -- of the intervals with a cost (the basis of cost per good unit)
        coalesce(quantities.produced_cost, 0) as produced_cost,
        coalesce(quantities.scrap_cost, 0) as scrap_cost,
        coalesce(quantities.costed_gq, 0) as costed_gq,

        coalesce(energy.is_metered, false) as is_metered,
        energy.energy_kwh,

        greatest(
            asset_shifts.calendar_ingested_at, time_elements.ingested_at, quantities.ingested_at
        ) as freshness_at

    from asset_shifts
    left join time_elements
        on asset_shifts.plant_id = time_elements.plant_id
        and asset_shifts.asset_local_id = time_elements.asset_local_id
        and asset_shifts.shift_date = time_elements.shift_date
        and asset_shifts.shift_code = time_elements.shift_code
    left join quantities
        on asset_shifts.plant_id = quantities.plant_id
        and asset_shifts.asset_local_id = quantities.asset_local_id
        and asset_shifts.shift_date = quantities.shift_date
        and asset_shifts.shift_code = quantities.shift_code
    left join energy
        on asset_shifts.plant_id = energy.plant_id
        and asset_shifts.asset_local_id = energy.asset_local_id
        and asset_shifts.shift_date = energy.shift_date
        and asset_shifts.shift_code = energy.shift_code

),

derived as (

    select
        *,
        -- PBT = POT - PDOT by definition; whether APT + AUST + ADET + ADOT add up to it is tested, not assumed
        pot_s - pdot_s as pbt_s,
        apt_s + aust_s as aupt_s,
        apt_s + aust_s + adet_s as aubt_s,
        -- with good, scrap and rework counted per interval and every part inspected: GP = GQ, IP = PQ
        gq as gp,
        pq as ip,
        case when is_metered then gq else 0 end as metered_gq,
        case when is_metered then pot_s else 0 end as metered_pot_s

    from joined

),

checked as (

    select
        * exclude (energy_kwh),
        coalesce(energy_kwh, 0) as energy_kwh,

        -- the row-level checks behind the KPI table's checks_passed
        abs(pbt_s - (apt_s + aust_s + adet_s + adot_s)) <= 1e-6 and unmapped_s = 0 as has_closed_time_elements,
        unknown_cycle_time_count = 0 as has_known_cycle_times,
        -- effectiveness above 1 means a wrong ideal cycle time (catalog/kpis/effectiveness.yaml): flagged
        pri_pq_s <= apt_s + 1e-6 as has_plausible_effectiveness

    from derived

),

final as (

    select
        *,
        has_closed_time_elements and has_known_cycle_times and has_plausible_effectiveness as checks_passed

    from checked

)

select * from final
