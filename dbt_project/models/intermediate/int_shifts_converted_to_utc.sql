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
        timezone(plants.timezone, shifts.ended_at_local) as shift_ended_at

    from shifts
    left join plants on shifts.plant_id = plants.plant_id

)

select * from shifts_in_utc
