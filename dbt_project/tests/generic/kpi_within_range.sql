{#- A KPI column stays inside the range approved in catalog/kpis/<column>.yaml (nulls are allowed:
    a ratio without a denominator is null by definition). -#}
{% test kpi_within_range(model, column_name) %}

{%- set approved = kpi_ranges()[column_name] %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ approved['min'] }} or {{ column_name }} > {{ approved['max'] }}

{% endtest %}
