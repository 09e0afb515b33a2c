-- Published: Northstar's KPI table (docs/kpi-table.md is its interface description): one row per KPI, grain, entity
-- and period, with the definition version it was computed with, its numerator and denominator (value = numerator /
-- denominator) and the confidence of its inputs. Long format, so that apps, exports and BI tools read every KPI the
-- same way.
--
-- A view over the summed elements (int_kpi_elements_rolled_up, an incremental table): every value is a formula over
-- one row of sums, so it costs nothing to build, is always consistent with the elements, and a reader's filter on
-- grain, entity or period reaches the rollup table, while the KPI id selects only that KPI's union branch. A table
-- would write every rollup row once per KPI (about 11 M rows for a year of 480 assets, the slowest step of a build).
{{ config(materialized='view', meta={'test_window': overlaps_partition_periods('period_start', 'period_end')}) }}

with

kpis as (

    select * from {{ ref('int_kpis_computed') }}

),

unpivoted as (

    {% for kpi in kpi_definitions() %}
    select
        '{{ kpi.id }}' as kpi_id,
        '{{ kpi.version }}' as kpi_version,
        '{{ kpi.unit }}' as unit,
        grain,
        entity_level,
        period_level,
        '{{ var("enterprise_id") }}' as enterprise_id,
        plant_id,
        line_id,
        asset_id,
        shift_code,
        period_start,
        period_end,
        period_started_at,
        period_ended_at,
        {{ kpi.id }} as value,
        {{ kpi.id }}__numerator as numerator,
        {{ kpi.id }}__denominator as denominator,
        {{ kpi.id }}__coverage as coverage,
        freshness_at,
        checks_passed

    from kpis
    -- the grains the definition publishes (SQDCP facts are per plant; a KPI in plant currency is not summed across
    -- plants)
    where entity_level in ('{{ kpi.levels | join("', '") }}')
        and period_level in ('{{ kpi.periods | join("', '") }}')
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unpivoted
