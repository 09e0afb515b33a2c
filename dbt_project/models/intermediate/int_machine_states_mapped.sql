with

machine_states as (

    select * from {{ ref('stg_mes__machine_states') }}

),

mappings as (

    select * from {{ ref('machine_state_mappings') }}

),

states_with_mapping_versions as (

    -- every version of the state's mapping already valid on the local day the state starts
    select
        machine_states.*,
        mappings.enterprise_state,
        mappings.iso_element,
        mappings.loss_category,
        mappings.valid_from as mapping_valid_from

    from machine_states
    left join mappings
        on machine_states.plant_id = mappings.plant_id
        and machine_states.state_local_code = mappings.local_code
        and mappings.valid_from <= cast(machine_states.started_at_local as date)

),

states_with_effective_mapping as (

    -- the latest of those versions applies; a state without any mapping keeps its single row
    select * from states_with_mapping_versions
    qualify row_number() over (
        partition by asset_id, started_at_local
        order by mapping_valid_from desc nulls last
    ) = 1

),

mapped as (

    select
        asset_id,
        plant_id,
        asset_local_id,
        state_local_code,

        -- An unmapped code keeps its time, marked UNMAPPED, so it stays visible and countable
        -- (and the time elements of its shift do not close) instead of silently vanishing.
        coalesce(enterprise_state, 'UNMAPPED') as enterprise_state,
        coalesce(iso_element, 'UNMAPPED') as iso_element,
        coalesce(loss_category, 'unmapped') as loss_category,
        mapping_valid_from is not null as is_mapped,
        mapping_valid_from,

        started_at_local,
        ended_at_local,
        source_file,
        source_line

    from states_with_effective_mapping

)

select * from mapped
