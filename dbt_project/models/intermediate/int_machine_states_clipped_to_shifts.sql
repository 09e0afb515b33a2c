with

machine_states as (

    select * from {{ ref('int_machine_states_mapped') }}

),

plants as (

    select * from {{ ref('plants') }}

),

shifts as (

    select * from {{ ref('int_shifts_converted_to_utc') }}

),

states_in_utc as (

    -- Converted once per state, before pairing with shifts: a time-zone conversion with a per-row zone costs
    -- about a microsecond, and a state pairs with several candidate shifts.
    select
        machine_states.*,
        timezone(plants.timezone, machine_states.started_at_local) as state_started_at,
        timezone(plants.timezone, machine_states.ended_at_local) as state_ended_at

    from machine_states
    left join plants on machine_states.plant_id = plants.plant_id

),

states_with_candidate_shift_dates as (

    -- A state can only overlap shifts that start between the local day before it starts (a night shift) and the
    -- day it ends. Listing those production days makes the shift lookup an equi-join on (plant, day) instead of a
    -- range join against every shift of the plant, whose cost grows with the square of the history.
    select
        *,
        cast(unnest(generate_series(
            cast(started_at_local as date) - 1,
            cast(ended_at_local as date),
            interval 1 day
        )) as date) as candidate_shift_date

    from states_in_utc

),

states_paired_with_shifts as (

    select
        states.asset_id,
        states.plant_id,
        shifts.shift_date,
        shifts.shift_code,
        states.state_local_code,
        states.enterprise_state,
        states.iso_element,
        states.loss_category,
        states.is_mapped,
        states.state_started_at,
        states.state_ended_at,
        shifts.shift_started_at,
        shifts.shift_ended_at

    from states_with_candidate_shift_dates as states
    inner join shifts
        on states.plant_id = shifts.plant_id
        and states.candidate_shift_date = shifts.shift_date
    where states.state_started_at < shifts.shift_ended_at
        and states.state_ended_at > shifts.shift_started_at

),

clipped as (

    -- states cross shift boundaries; each shift gets only its own part of the state
    select
        asset_id,
        plant_id,
        shift_date,
        shift_code,
        state_local_code,
        enterprise_state,
        iso_element,
        loss_category,
        is_mapped,
        greatest(state_started_at, shift_started_at) as started_at,
        least(state_ended_at, shift_ended_at) as ended_at,
        {{ seconds_between(
            'greatest(state_started_at, shift_started_at)',
            'least(state_ended_at, shift_ended_at)'
        ) }} as duration_s

    from states_paired_with_shifts

)

select * from clipped
