-- Energy per asset and shift from the asset's energy meter (a cumulative counter): the counter at the shift's end
-- minus the counter at its start, each the last reading at or before that instant and at most meter_max_gap_s old.
-- Consecutive shifts therefore add up to the meter's advance over their whole span, with nothing counted twice or
-- lost at a boundary. The meter tag and the gap are parameters of catalog/kpis/energy_per_good_unit.yaml (the
-- generated kpi_parameter macro).
{%- set meter_tag = kpi_parameter('energy_per_good_unit', 'meter_tag') %}
{%- set max_gap_us = kpi_parameter('energy_per_good_unit', 'meter_max_gap_s') * 1000000 %}
with

asset_shifts as (

    select * from {{ ref('int_asset_shifts_scheduled') }}

),

meter_readings as (

    -- the enterprise energy meter tag, bucketed by the longest gap a boundary reading may have
    select
        plant_id,
        asset_local_id,
        reading_at,
        value as counter_kwh,
        epoch_us(reading_at) as reading_us,
        epoch_us(reading_at) // {{ max_gap_us }} as gap_bucket

    from {{ ref('stg_sensor__readings') }}
    where tag = '{{ meter_tag }}'

),

boundaries as (

    select plant_id, asset_local_id, shift_date, shift_code, 'start' as boundary, epoch_us(shift_started_at) as boundary_us
    from asset_shifts
    union all
    select plant_id, asset_local_id, shift_date, shift_code, 'end' as boundary, epoch_us(shift_ended_at) as boundary_us
    from asset_shifts

),

boundary_buckets as (

    -- a reading at most one gap before the boundary lies in the boundary's bucket or the one before
    select
        *,
        unnest([
            boundary_us // {{ max_gap_us }},
            boundary_us // {{ max_gap_us }} - 1
        ]) as gap_bucket

    from boundaries

),

boundary_readings as (

    -- The last reading at or before each boundary, within the gap. An equi-join on the bucket rather than an as-of
    -- join over the whole sensor history, which sorted tens of millions of readings and dominated the build.
    select
        boundary_buckets.plant_id,
        boundary_buckets.asset_local_id,
        boundary_buckets.shift_date,
        boundary_buckets.shift_code,
        boundary_buckets.boundary,
        arg_max(meter_readings.counter_kwh, meter_readings.reading_us) as counter_kwh

    from boundary_buckets
    inner join meter_readings
        on boundary_buckets.plant_id = meter_readings.plant_id
        and boundary_buckets.asset_local_id = meter_readings.asset_local_id
        and boundary_buckets.gap_bucket = meter_readings.gap_bucket
    where meter_readings.reading_us <= boundary_buckets.boundary_us
        and meter_readings.reading_us >= boundary_buckets.boundary_us - {{ max_gap_us }}
    group by all

),

metered as (

    select
        plant_id,
        asset_local_id,
        shift_date,
        shift_code,
        max(counter_kwh) filter (where boundary = 'start') as start_counter_kwh,
        max(counter_kwh) filter (where boundary = 'end') as end_counter_kwh

    from boundary_readings
    group by plant_id, asset_local_id, shift_date, shift_code

),

final as (

    select
        plant_id,
        asset_local_id,
        shift_date,
        shift_code,
        -- Metered only with a reading for both boundaries and a counter that did not run backwards (a meter exchange
        -- or reset): otherwise the shift's energy is unknown, never guessed.
        coalesce(end_counter_kwh >= start_counter_kwh, false) as is_metered,
        case when end_counter_kwh >= start_counter_kwh then end_counter_kwh - start_counter_kwh end as energy_kwh

    from metered

)

select * from final
