-- The summed elements of every grain of the KPI table: the asset-shift rows as they are, and the rollups above them.
-- A partition run tests the periods it recomputed (macros/test_window.sql).
{{ config(meta={'test_window': overlaps_partition_periods('period_start', 'period_end')}) }}

with

asset_shifts as (

    select * from {{ ref('int_asset_shift_elements') }}

),

rolled_up as (

    select * from {{ ref('int_kpi_elements_rolled_up') }}

),

asset_shift_grain as (

    select
        plant_id,
        line_id,
        asset_id,
        shift_code,
        {% for element in kpi_rollup_elements() -%}
        {{ element }},
        {% endfor -%}
        1 as asset_shift_count,
        shift_started_at as period_started_at,
        shift_ended_at as period_ended_at,
        freshness_at,
        checks_passed,
        'asset' as entity_level,
        'shift' as period_level,
        shift_date as period_start,
        'asset_shift' as grain,
        shift_date + 1 as period_end

    from asset_shifts

),

unioned as (

    select * from asset_shift_grain
    union all by name
    select * from rolled_up

),

sqdcp as (

    select * from {{ ref('int_sqdcp_elements_rolled_up') }}

),

with_sqdcp as (

    -- Plant and enterprise rows carry both: the asset-shift sums and the SQDCP facts of the same period. A plant-day
    -- with SQDCP facts but no shift (an incident on a holiday) is a row of its own.
    select
        coalesce(unioned.grain, sqdcp.grain) as grain,
        coalesce(unioned.entity_level, sqdcp.entity_level) as entity_level,
        coalesce(unioned.period_level, sqdcp.period_level) as period_level,
        coalesce(unioned.plant_id, sqdcp.plant_id) as plant_id,
        unioned.line_id,
        unioned.asset_id,
        unioned.shift_code,
        coalesce(unioned.period_start, sqdcp.period_start) as period_start,
        coalesce(
            unioned.period_end,
            case coalesce(unioned.period_level, sqdcp.period_level)
                when 'week' then coalesce(unioned.period_start, sqdcp.period_start) + 7
                when 'month' then cast(coalesce(unioned.period_start, sqdcp.period_start) + interval 1 month as date)
                else coalesce(unioned.period_start, sqdcp.period_start) + 1
            end
        ) as period_end,
        unioned.period_started_at,
        unioned.period_ended_at,
        coalesce(unioned.asset_shift_count, 0) as asset_shift_count,
        greatest(unioned.freshness_at, sqdcp.sqdcp_freshness_at) as freshness_at,
        coalesce(unioned.checks_passed, true) as checks_passed,
        {% for element in kpi_rollup_elements('asset_shift') -%}
        unioned.{{ element }},
        {% endfor -%}
        {% for element in kpi_rollup_elements('plant_day') -%}
        sqdcp.{{ element }}{{ ',' if not loop.last }}
        {% endfor %}

    from unioned
    full outer join sqdcp
        on unioned.grain = sqdcp.grain
        and unioned.plant_id is not distinct from sqdcp.plant_id
        and unioned.period_start = sqdcp.period_start

)

select * from with_sqdcp
