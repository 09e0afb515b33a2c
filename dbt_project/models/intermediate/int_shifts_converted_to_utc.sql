with

shifts as (

    select * from {{ ref('stg_mes__shifts') }}

),

plants as (

    select * from {{ ref('plants') }}

),

shifts_in_utc as (

    select
        shifts.plant_id,
        plants.plant_name,
        plants.timezone,
        shifts.shift_code,
        shifts.shift_date,
        shifts.started_at_local,
        shifts.ended_at_local,

        -- Wall clock -> instant in the plant's IANA zone: a night shift over a DST change lasts 7 h or 9 h, not 8 h.
        timezone(plants.timezone, shifts.started_at_local) as shift_started_at,
        timezone(plants.timezone, shifts.ended_at_local) as shift_ended_at,

        shifts.ingested_at

    from shifts
    left join plants on shifts.plant_id = plants.plant_id

),

with_overnight_reach as (

    select
        *,
        -- the same instants as epoch microseconds, for integer arithmetic in the large joins downstream
        epoch_us(shift_started_at) as shift_started_us,
        epoch_us(shift_ended_at) as shift_ended_us,
        -- How far into the next local day the plant's night shifts reach (06:00 for a 22:00-06:00 shift; 0 for
        -- a plant without a night shift). An event starting later in the day than this cannot belong to the previous
        -- production day's shifts, which keeps the event-to-shift lookups to one candidate day for most events.
        greatest(
            max(ended_at_local - cast(shift_date as timestamp)) over (partition by plant_id) - interval 1 day,
            interval 0 second
        ) as overnight_reach

    from shifts_in_utc

)

select * from with_overnight_reach
