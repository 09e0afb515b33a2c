-- A table, and incremental: sensor history is by far the largest input (a month of 1-minute readings of 480 assets
-- is 80 M rows), and hourly aggregates are what every consumer (condition trends) reads. A partition run replaces the
-- UTC hours its staging window reads (the window's days with one day before and two after, whole days, so every hour
-- in it is complete).
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        incremental_predicates=[
            in_partition_plants() ~ ' and ' ~ in_partition_instants('hour_started_at', days_before=1, days_after=2)
        ],
        on_schema_change='fail'
    )
}}

with

readings as (

    select * from {{ ref('stg_sensor__readings') }}

),

hourly as (

    -- Grouped on the plant-local asset id and the hour as an integer (the enterprise id and the timestamp are
    -- formed once per hour, not once per reading: date_trunc on a timestamptz goes through ICU's calendar).
    select
        plant_id,
        asset_local_id,
        tag,
        unit,
        epoch_us(reading_at) // 3600000000 as hour_number,
        count(*) as reading_count,
        avg(value) as value_avg,
        min(value) as value_min,
        max(value) as value_max

    from readings
    group by plant_id, asset_local_id, tag, unit, epoch_us(reading_at) // 3600000000

),

final as (

    select
        plant_id,
        plant_id || ':' || asset_local_id as asset_id,
        tag,
        unit,
        to_timestamp(hour_number * 3600) as hour_started_at,
        reading_count,
        value_avg,
        value_min,
        value_max

    from hourly

)

select * from final
