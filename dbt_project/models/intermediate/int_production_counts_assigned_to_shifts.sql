with

production_counts as (

    select * from {{ ref('stg_mes__production_counts') }}

),

shifts as (

    select * from {{ ref('int_shifts_converted_to_utc') }}

),

materials as (

    select * from {{ ref('stg_erp__materials') }}

),

unit_conversions as (

    select * from {{ ref('unit_conversions') }}

),

materials_in_seconds as (

    select
        materials.plant_id,
        materials.material_local_id,
        materials.ideal_cycle_time * unit_conversions.factor as ideal_cycle_time_s

    from materials
    left join unit_conversions
        on materials.ideal_cycle_time_unit = unit_conversions.from_unit
        and unit_conversions.to_unit = 's'

),

counts_with_latest_shift as (

    -- An interval belongs to the shift containing its start (design.md): the plant's latest shift that started at
    -- or before it. The as-of join finds that shift without comparing against every shift of the plant.
    select
        production_counts.*,
        shifts.shift_date,
        shifts.shift_code,
        -- false when the interval starts after that shift ended: a gap in the calendar (a data test fails)
        coalesce(production_counts.interval_started_at_local < shifts.ended_at_local, false) as starts_in_shift

    from production_counts
    asof left join shifts
        on production_counts.plant_id = shifts.plant_id
        and production_counts.interval_started_at_local >= shifts.started_at_local

),

assigned as (

    select
        counts.asset_id,
        counts.plant_id,

        case when counts.starts_in_shift then counts.shift_date end as shift_date,
        case when counts.starts_in_shift then counts.shift_code end as shift_code,

        counts.order_id,
        counts.material_local_id,
        counts.interval_started_at_local,
        counts.interval_ended_at_local,
        counts.produced_qty,
        counts.good_qty,
        counts.scrap_qty,
        counts.rework_qty,
        materials.ideal_cycle_time_s,
        materials.ideal_cycle_time_s * counts.produced_qty as pri_pq_s

    from counts_with_latest_shift as counts
    left join materials_in_seconds as materials
        on counts.plant_id = materials.plant_id
        and counts.material_local_id = materials.material_local_id

)

select * from assigned
