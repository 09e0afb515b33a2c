{#- generated from catalog/kpis/*.yaml by catalog/render.py — do not edit.
    Each macro expands to the KPI over mart columns of the same name, so it works on one asset-shift
    and, applied to summed columns, as the ratio of sums of any rollup. -#}

{# Availability (availability 1.0.0): APT / PBT #}
{% macro kpi_availability() -%}
    (cast(apt_s as double) / nullif(pbt_s, 0))
{%- endmacro %}

{# Effectiveness (effectiveness 1.0.0): PRI x PQ / APT #}
{% macro kpi_effectiveness() -%}
    (cast(pri_pq_s as double) / nullif(apt_s, 0))
{%- endmacro %}

{# OEE index (oee 1.0.0): Availability x Effectiveness x Quality ratio #}
{% macro kpi_oee() -%}
    case
        when nullif(pbt_s, 0) is null then null
        when apt_s = 0 or pq = 0 then 0.0
        else {{ kpi_availability() }} * {{ kpi_effectiveness() }} * {{ kpi_quality_ratio() }}
    end
{%- endmacro %}

{# Quality ratio (quality_ratio 1.0.0): GQ / PQ #}
{% macro kpi_quality_ratio() -%}
    (cast(gq as double) / nullif(pq, 0))
{%- endmacro %}

{# The approved range of each KPI, for the kpi_within_range data test. #}
{% macro kpi_ranges() -%}
    {{ return({'availability': {'min': 0, 'max': 1}, 'effectiveness': {'min': 0, 'max': 1}, 'oee': {'min': 0, 'max': 1}, 'quality_ratio': {'min': 0, 'max': 1}}) }}
{%- endmacro %}
