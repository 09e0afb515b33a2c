-- The additive elements summed at every grain the KPI table publishes above the asset-shift: asset, line, plant and
-- enterprise by shift, production day, ISO week (Monday) and month. Shifts are plant-local (codes and times), so the
-- enterprise has no shift grain; the asset-shift rows themselves are int_asset_shift_elements (not copied here). Every
-- KPI is then computed once per row from these sums: a ratio of sums, never a mean of ratios.
--
-- Incremental by period: a partition run recomputes every period (day, week, month) that contains a day of its
-- window, for every plant, because the enterprise figure of a period depends on all plants.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        incremental_predicates=[overlaps_partition_periods('period_start', 'period_end')],
        on_schema_change='fail'
    )
}}

{%- set elements = kpi_rollup_elements() %}

with

asset_shifts as (

    select
        *,
        cast(date_trunc('week', shift_date) as date) as week_start,
        cast(date_trunc('month', shift_date) as date) as month_start

    from {{ ref('int_asset_shift_elements') }}
    where {{ in_partition_period_days('shift_date') }}

),

rolled_up as (

    select
        plant_id,
        line_id,
        asset_id,
        shift_code,
        shift_date,
        week_start,
        month_start,
        grouping(plant_id, line_id, asset_id) as entity_grouping,
        grouping(shift_code, shift_date, week_start, month_start) as period_grouping,

        {% for element in elements -%}
        sum({{ element }}) as {{ element }},
        {% endfor -%}
        count(*) as asset_shift_count,
        min(shift_started_at) as period_started_at,
        max(shift_ended_at) as period_ended_at,
        max(freshness_at) as freshness_at,
        bool_and(checks_passed) as checks_passed

    from asset_shifts
    group by grouping sets (
        {%- for entity in [['plant_id', 'line_id', 'asset_id'], ['plant_id', 'line_id'], ['plant_id'], []] %}
        {%- for period in [['shift_date', 'shift_code'], ['shift_date'], ['week_start'], ['month_start']] %}
        {%- set is_asset_shift = entity | length == 3 and 'shift_code' in period %}
        {%- if (entity or 'shift_code' not in period) and not is_asset_shift %}
        ({{ (entity + period) | join(', ') }}){{ ',' if not (loop.last and not entity) }}
        {%- endif %}
        {%- endfor %}
        {%- endfor %}
    )

),

labelled as (

    select
        * exclude (entity_grouping, period_grouping, shift_date, week_start, month_start),

        -- grouping() sets a bit per column left out of the grouping set, the first column the highest bit
        case entity_grouping
            when 0 then 'asset'
            when 1 then 'line'               -- asset_id left out
            when 2 + 1 then 'plant'          -- line_id, asset_id left out
            else 'enterprise'
        end as entity_level,
        case period_grouping
            when 2 + 1 then 'shift'          -- week_start, month_start left out
            when 8 + 2 + 1 then 'day'        -- shift_code, week_start, month_start left out
            when 8 + 4 + 1 then 'week'       -- shift_code, shift_date, month_start left out
            else 'month'
        end as period_level,
        coalesce(shift_date, week_start, month_start) as period_start

    from rolled_up

),

with_period_end as (

    select
        *,
        entity_level || '_' || period_level as grain,
        case period_level
            when 'week' then period_start + 7
            when 'month' then cast(period_start + interval 1 month as date)
            else period_start + 1
        end as period_end

    from labelled

),

final as (

    select *
    from with_period_end
    -- the rows of the periods the window touches (all of them without a window)
    where {{ overlaps_partition_periods('period_start', 'period_end') }}

)

select * from final
