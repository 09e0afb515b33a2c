{#- The element columns a rollup sums: those the catalog's KPI formulas and coverage rules use, for the KPIs on one
    basis (`asset_shift`: the asset-shift elements; `plant_day`: the SQDCP plant-day facts), read from the generated
    kpi_definitions() so that a new KPI over a new element is rolled up without touching the rollup; in first-use
    order. -#}
{% macro kpi_rollup_elements(basis='asset_shift') %}
    {%- set elements = [] -%}
    {%- for kpi in kpi_definitions() if kpi.basis == basis -%}
        {%- set coverage = [kpi.coverage_numerator, kpi.coverage_denominator] if kpi.coverage_numerator else [] -%}
        {%- for column in kpi.columns + coverage -%}
            {%- if column not in elements -%}
                {%- do elements.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(elements) }}
{% endmacro %}
