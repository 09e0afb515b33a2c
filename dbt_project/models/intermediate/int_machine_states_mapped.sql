with

machine_states as (

    select * from {{ ref('stg_mes__machine_states') }}

),

mappings as (

    select * from {{ ref('machine_state_mappings') }}

),

mapping_versions as (

    -- each version of a code's mapping applies from its valid_from until the next version's
    select
        *,
        coalesce(
            lead(valid_from) over (partition by plant_id, local_code order by valid_from),
            date '9999-12-31'
        ) as valid_until

    from mappings

),

mapped as (

    -- An equi-join on the code with the version's validity as a range condition: one match per state, and no
    -- window over the (large) state table to pick the latest version.
    select
        machine_states.asset_id,
        machine_states.plant_id,
        machine_states.asset_local_id,
        machine_states.state_local_code,

        -- An unmapped code keeps its time, marked UNMAPPED, so it stays visible and countable
        -- (and the time elements of its shift do not close) instead of silently vanishing.
        coalesce(mapping_versions.enterprise_state, 'UNMAPPED') as enterprise_state,
        coalesce(mapping_versions.iso_element, 'UNMAPPED') as iso_element,
        coalesce(mapping_versions.loss_category, 'unmapped') as loss_category,
        mapping_versions.valid_from is not null as is_mapped,
        mapping_versions.valid_from as mapping_valid_from,

        machine_states.started_at_local,
        machine_states.ended_at_local,
        machine_states.source_file,
        machine_states.source_line,
        machine_states.ingested_at

    from machine_states
    -- the version in force on the local day the state starts
    left join mapping_versions
        on machine_states.plant_id = mapping_versions.plant_id
        and machine_states.state_local_code = mapping_versions.local_code
        and cast(machine_states.started_at_local as date) >= mapping_versions.valid_from
        and cast(machine_states.started_at_local as date) < mapping_versions.valid_until

)

select * from mapped
