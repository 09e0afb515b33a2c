-- Published: the SQDCP board per plant (and line, where a KPI has lines) and production day: each governed KPI the
-- catalog files under a letter (`sqdcp:` in catalog/kpis), with its target and red or green by the KPI's trend.
-- A view over kpi_values, so the board never disagrees with the KPI table.
{{ config(materialized='view', meta={'test_window': in_partition(date_column='day')}) }}

with

kpis as (

    select * from {{ ref('kpi_values') }}
    where period_level = 'day'
        and entity_level in ('line', 'plant')

),

board_kpis as (

    select * from (values
        {%- for kpi in kpi_definitions() if kpi.sqdcp %}
        ('{{ kpi.id }}', '{{ kpi.sqdcp }}', {{ loop.index }}, {{ kpi.target if kpi.target is not none else 'null' }},
         '{{ kpi.trend }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as board (kpi_id, letter, position, target, trend)

),

final as (

    select
        kpis.entity_level,
        kpis.plant_id,
        kpis.line_id,
        kpis.period_start as day,
        board_kpis.letter,
        kpis.kpi_id,
        kpis.kpi_version,
        kpis.unit,
        kpis.value,
        cast(board_kpis.target as double) as target,
        board_kpis.trend,
        case
            when kpis.value is null or board_kpis.target is null then null
            when board_kpis.trend = 'higher_is_better' and kpis.value >= board_kpis.target then 'green'
            when board_kpis.trend = 'lower_is_better' and kpis.value <= board_kpis.target then 'green'
            else 'red'
        end as status,
        kpis.coverage,
        kpis.checks_passed

    from kpis
    inner join board_kpis on kpis.kpi_id = board_kpis.kpi_id

)

select * from final
