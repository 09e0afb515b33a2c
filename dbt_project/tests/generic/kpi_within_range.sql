{#- A KPI column stays inside the range approved in catalog/kpis/<column>.yaml (nulls are allowed:
    a ratio without a denominator is null by definition; a bound of None is no bound). -#}
{% test kpi_within_range(model, column_name) %}

{%- set approved = kpi_ranges()[column_name] %}

select {{ column_name }}
from {{ model }}
where false
    {%- if approved['min'] is not none %} or {{ column_name }} < {{ approved['min'] }}{% endif %}
    {%- if approved['max'] is not none %} or {{ column_name }} > {{ approved['max'] }}{% endif %}

{% endtest %}
