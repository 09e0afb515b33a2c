-- A table, not a view: sensor history is by far the largest input, and hourly aggregates are what every consumer
-- (energy per good unit, condition trends) reads.
{{ config(materialized='table') }}

with

readings as (

    select * from {{ ref('stg_sensor__readings') }}

),

hourly as (

    select
        plant_id,
        asset_id,
        tag,
        unit,
        date_trunc('hour', reading_at) as hour_started_at,
        count(*) as reading_count,
        avg(value) as value_avg,
        min(value) as value_min,
        max(value) as value_max

    from readings
    group by plant_id, asset_id, tag, unit, date_trunc('hour', reading_at)

)

select * from hourly
