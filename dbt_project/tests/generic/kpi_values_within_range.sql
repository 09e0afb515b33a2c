{#- Every value of the long KPI table lies in the range its definition approves (catalog/kpis/<kpi_id>.yaml; None:
    unbounded). `only` restricts the test to some KPIs, `advisory` leaves some out (their range is checked by a
    warn-level instance: effectiveness above 1 is flagged, not capped). -#}
{% test kpi_values_within_range(model, only=none, advisory=[]) %}

select kpi_id, value
from {{ model }}
where false
{%- for kpi_id, approved in kpi_ranges().items() if (only is none or kpi_id in only) and kpi_id not in advisory %}
    or (kpi_id = '{{ kpi_id }}' and (
        {%- if approved['min'] is not none %} value < {{ approved['min'] }}{% else %} false{% endif %} or
        {%- if approved['max'] is not none %} value > {{ approved['max'] }}{% else %} false{% endif %}))
{%- endfor %}

{% endtest %}
