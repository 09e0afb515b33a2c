-- Every catalog KPI computed from the summed elements of each rollup row, one column group per KPI: the value, its
-- numerator and denominator (value = numerator / denominator) and its coverage. Formulas come from
-- catalog/kpis/*.yaml through macros/generated/kpi_formulas.sql; the unit tests beside this model are generated from
-- the worked examples of the same definitions.
-- A partition run tests the periods it recomputed (macros/test_window.sql).
{{ config(meta={'test_window': overlaps_partition_periods('period_start', 'period_end')}) }}

with

rolled_up as (

    select * from {{ ref('int_kpi_elements_by_grain') }}

),

computed as (

    select
        grain,
        entity_level,
        period_level,
        plant_id,
        line_id,
        asset_id,
        shift_code,
        period_start,
        period_end,
        period_started_at,
        period_ended_at,
        asset_shift_count,
        freshness_at,
        checks_passed,

        {% for kpi in kpi_definitions() -%}
        {{ kpi.value_sql }} as {{ kpi.id }},
        {{ kpi.numerator_sql }} as {{ kpi.id }}__numerator,
        {{ kpi.denominator_sql }} as {{ kpi.id }}__denominator,
        {% if kpi.coverage_numerator -%}
        cast({{ kpi.coverage_numerator }} as double) / nullif({{ kpi.coverage_denominator }}, 0)
        {%- else %}cast(null as double){% endif %} as {{ kpi.id }}__coverage{{ ',' if not loop.last }}
        {% endfor %}

    from rolled_up

)

select * from computed
