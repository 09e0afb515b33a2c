with

production_counts as (

    select * from {{ ref('stg_mes__production_counts') }}

),

shifts as (

    select * from {{ ref('int_shifts_converted_to_utc') }}

),

plant_hours as (

    select * from {{ ref('int_plant_hours_converted_to_utc') }}

),

materials as (

    select * from {{ ref('stg_erp__materials') }}

),

unit_conversions as (

    select * from {{ ref('unit_conversions') }}

),

standard_costs as (

    select * from {{ ref('stg_erp__standard_costs') }}

),

cost_versions as (

    -- each cost of a material applies from its valid_from until the next one's
    select
        plant_id,
        material_local_id,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by plant_id, material_local_id order by valid_from),
            date '9999-12-31'
        ) as valid_until,
        standard_cost / price_unit as cost_per_piece

    from standard_costs

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

counts_with_shift as (

    -- An interval belongs to the shift containing its start (design.md): a shift of the start's local day or, for a
    -- night shift, of the day before (a shift lasts at most a day). Two equi-joins on (plant, day) with the
    -- containment as a range condition; shifts do not overlap, so at most one of them matches. (An as-of join sorts
    -- both sides and was several times slower here.) No match: a gap in the calendar, and a data test fails.
    select
        production_counts.*,
        coalesce(same_day.shift_date, previous_day.shift_date) as shift_date,
        coalesce(same_day.shift_code, previous_day.shift_code) as shift_code

    from production_counts
    left join shifts as same_day
        on production_counts.plant_id = same_day.plant_id
        and cast(production_counts.interval_started_at_local as date) = same_day.shift_date
        and production_counts.interval_started_at_local >= same_day.started_at_local
        and production_counts.interval_started_at_local < same_day.ended_at_local
    left join shifts as previous_day
        on production_counts.plant_id = previous_day.plant_id
        and cast(production_counts.interval_started_at_local as date) - 1 = previous_day.shift_date
        and production_counts.interval_started_at_local >= previous_day.started_at_local
        and production_counts.interval_started_at_local < previous_day.ended_at_local

),

counts_in_utc as (

    -- the interval's real length (a DST change inside it makes the wall clock lie) is its share of the order
    -- execution time (AOET); integer instants, as for the machine states
    select
        counts.*,
        {{ local_to_utc_us('counts.interval_started_at_local', 'start_hours') }} as interval_started_us,
        {{ local_to_utc_us('counts.interval_ended_at_local', 'end_hours') }} as interval_ended_us

    from counts_with_shift as counts
    left join plant_hours as start_hours
        on counts.plant_id = start_hours.plant_id
        and {{ local_hour_key('counts.interval_started_at_local') }} = start_hours.local_hour
    left join plant_hours as end_hours
        on counts.plant_id = end_hours.plant_id
        and {{ local_hour_key('counts.interval_ended_at_local') }} = end_hours.local_hour

),

assigned as (

    select
        counts.plant_id,
        counts.asset_local_id,

        counts.shift_date,
        counts.shift_code,

        counts.order_id,
        counts.material_local_id,
        counts.interval_started_at_local,
        counts.interval_ended_at_local,
        (counts.interval_ended_us - counts.interval_started_us) / 1e6 as duration_s,
        counts.produced_qty,
        counts.good_qty,
        counts.scrap_qty,
        counts.rework_qty,

        -- ideal time (PRI x quantity) per interval, so that the six-big-losses waterfall closes exactly:
        -- PRI x PQ = PRI x GQ + PRI x SQ + PRI x RQ interval by interval, whatever the material mix
        materials.ideal_cycle_time_s,
        materials.ideal_cycle_time_s * counts.produced_qty as pri_pq_s,
        materials.ideal_cycle_time_s * counts.good_qty as pri_gq_s,
        materials.ideal_cycle_time_s * counts.scrap_qty as pri_sq_s,
        materials.ideal_cycle_time_s * counts.rework_qty as pri_rq_s,

        -- standard cost in force on the production day, in the plant's currency
        costs.cost_per_piece,
        costs.cost_per_piece * counts.produced_qty as produced_cost,
        costs.cost_per_piece * counts.scrap_qty as scrap_cost,

        counts.ingested_at

    from counts_in_utc as counts
    left join materials_in_seconds as materials
        on counts.plant_id = materials.plant_id
        and counts.material_local_id = materials.material_local_id
    left join cost_versions as costs
        on counts.plant_id = costs.plant_id
        and counts.material_local_id = costs.material_local_id
        and counts.shift_date >= costs.valid_from
        and counts.shift_date < costs.valid_until

)

select * from assigned
