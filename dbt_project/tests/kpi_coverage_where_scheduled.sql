{#- Every published KPI value says how complete its inputs are wherever something was expected (issues 6 and 7): a
    row of the KPI table whose period had scheduled asset-shifts (asset_shift_count > 0) never has a null coverage,
    at any grain its definition publishes, plant-day (SQDCP) KPIs included. A definition with `coverage: null` fails
    here as soon as it is published for a scheduled period. A partition run checks the periods it recomputed. -#}
{{ config(severity='error') }}

{%- for kpi in kpi_definitions() %}
select '{{ kpi.id }}' as kpi_id, grain, plant_id, line_id, asset_id, shift_code, period_start
from {{ ref('int_kpis_computed') }}
where asset_shift_count > 0
    and {{ overlaps_partition_periods('period_start', 'period_end') }}
    and {{ kpi.id }}__coverage is null
    and entity_level in ('{{ kpi.levels | join("', '") }}')
    and period_level in ('{{ kpi.periods | join("', '") }}')
{% if not loop.last %}union all{% endif %}
{%- endfor %}
