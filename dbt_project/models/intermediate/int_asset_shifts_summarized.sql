with

assets as (

    select * from {{ ref('stg_mes__assets') }}

),

shifts as (

    select * from {{ ref('int_shifts_converted_to_utc') }}

),

machine_states as (

    select * from {{ ref('int_machine_states_clipped_to_shifts') }}

),

production_counts as (

    select * from {{ ref('int_production_counts_assigned_to_shifts') }}

),

scheduled_asset_shifts as (

    -- every asset of a plant is scheduled in every shift of the plant's calendar (design.md)
    select
        shifts.plant_id,
        shifts.plant_name,
        assets.asset_id,
        assets.line_id,
        shifts.shift_code,
        shifts.shift_date,
        shifts.shift_started_at,
        shifts.shift_ended_at

    from shifts
    inner join assets on shifts.plant_id = assets.plant_id

),

time_elements as (

    select
        asset_id,
        shift_date,
        shift_code,
        sum(duration_s) filter (where iso_element = 'PDOT') as pdot_s,
        sum(duration_s) filter (where iso_element = 'APT') as apt_s,
        sum(duration_s) filter (where iso_element = 'AUST') as aust_s,
        sum(duration_s) filter (where iso_element = 'ADET') as adet_s,
        sum(duration_s) filter (where iso_element = 'ADOT') as adot_s,
        sum(duration_s) filter (where not is_mapped) as unmapped_s

    from machine_states
    group by asset_id, shift_date, shift_code

),

quantities as (

    select
        asset_id,
        shift_date,
        shift_code,
        cast(sum(produced_qty) as bigint) as pq,
        cast(sum(good_qty) as bigint) as gq,
        cast(sum(scrap_qty) as bigint) as sq,
        cast(sum(rework_qty) as bigint) as rq,
        sum(pri_pq_s) as pri_pq_s

    from production_counts
    group by asset_id, shift_date, shift_code

),

asset_shifts as (

    select
        scheduled.plant_id,
        scheduled.plant_name,
        scheduled.asset_id,
        scheduled.line_id,
        scheduled.shift_code,
        scheduled.shift_date,
        scheduled.shift_started_at,
        scheduled.shift_ended_at,

        -- ISO 22400-2 time elements in seconds; POT is the shift's real length
        {{ seconds_between('scheduled.shift_started_at', 'scheduled.shift_ended_at') }} as pot_s,
        coalesce(time_elements.pdot_s, 0) as pdot_s,
        coalesce(time_elements.apt_s, 0) as apt_s,
        coalesce(time_elements.aust_s, 0) as aust_s,
        coalesce(time_elements.adet_s, 0) as adet_s,
        coalesce(time_elements.adot_s, 0) as adot_s,
        coalesce(time_elements.unmapped_s, 0) as unmapped_s,

        -- quantities, and the ideal time for them (sum over intervals of PRI x PQ)
        coalesce(quantities.pq, 0) as pq,
        coalesce(quantities.gq, 0) as gq,
        coalesce(quantities.sq, 0) as sq,
        coalesce(quantities.rq, 0) as rq,
        coalesce(quantities.pri_pq_s, 0) as pri_pq_s

    from scheduled_asset_shifts as scheduled
    left join time_elements
        on scheduled.asset_id = time_elements.asset_id
        and scheduled.shift_date = time_elements.shift_date
        and scheduled.shift_code = time_elements.shift_code
    left join quantities
        on scheduled.asset_id = quantities.asset_id
        and scheduled.shift_date = quantities.shift_date
        and scheduled.shift_code = quantities.shift_code

),

with_planned_busy_time as (

    select
        *,
        -- PBT = POT - PDOT by definition; whether APT + AUST + ADET + ADOT add up to it is tested, not assumed
        pot_s - pdot_s as pbt_s

    from asset_shifts

)

select * from with_planned_busy_time
