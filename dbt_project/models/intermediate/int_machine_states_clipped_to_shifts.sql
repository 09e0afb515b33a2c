-- Machine states cut at shift boundaries: one row per state and shift it overlaps. The largest join of the build
-- (a year of states of 480 assets is about 8 M rows), so instants are epoch microseconds and the shift lookup is an
-- equi-join on (plant, production day).
with

machine_states as (

    select * from {{ ref('int_machine_states_mapped') }}

),

plant_hours as (

    select * from {{ ref('int_plant_hours_converted_to_utc') }}

),

shifts as (

    select * from {{ ref('int_shifts_converted_to_utc') }}

),

plant_overnight_reach as (

    select distinct plant_id, overnight_reach
    from shifts

),

states_in_utc as (

    -- Converted once per state, through the plant's hour table (int_plant_hours_converted_to_utc: an equi-join
    -- instead of a per-row time-zone lookup). A state can only overlap shifts of the production days from the one
    -- whose night shift may still run when it starts (first) to the day it ends (last).
    select
        machine_states.plant_id,
        machine_states.asset_local_id,
        machine_states.state_local_code,
        machine_states.enterprise_state,
        machine_states.iso_element,
        machine_states.loss_category,
        machine_states.is_mapped,
        machine_states.ingested_at,
        {{ local_to_utc_us('machine_states.started_at_local', 'start_hours') }} as state_started_us,
        {{ local_to_utc_us('machine_states.ended_at_local', 'end_hours') }} as state_ended_us,
        cast(machine_states.started_at_local - reach.overnight_reach as date) as first_shift_date,
        cast(machine_states.ended_at_local as date) as last_shift_date

    from machine_states
    inner join plant_overnight_reach as reach on machine_states.plant_id = reach.plant_id
    left join plant_hours as start_hours
        on machine_states.plant_id = start_hours.plant_id
        and {{ local_hour_key('machine_states.started_at_local') }} = start_hours.local_hour
    left join plant_hours as end_hours
        on machine_states.plant_id = end_hours.plant_id
        and {{ local_hour_key('machine_states.ended_at_local') }} = end_hours.local_hour

),

states_with_candidate_shift_dates as (

    -- Listing the candidate days makes the shift lookup an equi-join instead of a range join against every shift of
    -- the plant (whose cost grows with the square of the history). Nearly every state has one or two candidate days;
    -- only those with more go through the (slower) list expansion.
    select *, first_shift_date as candidate_shift_date
    from states_in_utc
    union all
    select *, last_shift_date
    from states_in_utc
    where last_shift_date > first_shift_date
    union all
    select *, cast(unnest(generate_series(first_shift_date + 1, last_shift_date - 1, interval 1 day)) as date)
    from states_in_utc
    where last_shift_date > first_shift_date + 1

),

states_paired_with_shifts as (

    select
        states.*,
        shifts.shift_date,
        shifts.shift_code,
        shifts.shift_started_us,
        shifts.shift_ended_us

    from states_with_candidate_shift_dates as states
    inner join shifts
        on states.plant_id = shifts.plant_id
        and states.candidate_shift_date = shifts.shift_date
    where states.state_started_us < shifts.shift_ended_us
        and states.state_ended_us > shifts.shift_started_us

),

clipped as (

    -- states cross shift boundaries; each shift gets only its own part of the state
    select
        plant_id,
        asset_local_id,
        shift_date,
        shift_code,
        state_local_code,
        enterprise_state,
        iso_element,
        loss_category,
        is_mapped,
        greatest(state_started_us, shift_started_us) as started_us,
        least(state_ended_us, shift_ended_us) as ended_us,
        (least(state_ended_us, shift_ended_us) - greatest(state_started_us, shift_started_us)) / 1e6 as duration_s,
        -- the state begins in this shift (an event such as a failure counts once, where it starts)
        state_started_us >= shift_started_us as starts_in_shift,
        ingested_at

    from states_paired_with_shifts

)

select * from clipped
