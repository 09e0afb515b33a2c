{#- Every row's grain is one the KPI table documents (docs/kpi-table.md), and its entity ids are set exactly down to
    its entity level: a plant row has a plant id but no line or asset id, an asset row all three. -#}
{% test accepted_values_of_grain(model) %}

select *
from {{ model }}
where grain not in (
        'asset_shift', 'asset_day', 'asset_week', 'asset_month',
        'line_shift', 'line_day', 'line_week', 'line_month',
        'plant_shift', 'plant_day', 'plant_week', 'plant_month',
        'enterprise_day', 'enterprise_week', 'enterprise_month'
    )
    or grain != entity_level || '_' || period_level
    or (plant_id is null) != (entity_level = 'enterprise')
    or (line_id is null) != (entity_level in ('plant', 'enterprise'))
    or (asset_id is null) != (entity_level != 'asset')
    or (shift_code is null) != (period_level != 'shift')

{% endtest %}
