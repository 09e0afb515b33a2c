{#- The element columns a rollup sums: those the catalog's KPI formulas and coverage rules use, for the KPIs on one
    basis (`asset_shift`: the asset-shift elements; `plant_day`: the SQDCP plant-day facts), read from the generated
    kpi_definitions() so that a new KPI over a new element is rolled up without touching the rollup; in first-use
    order.

    A coverage rule is always stated over asset-shift elements (the scheduled asset-shifts are what a plant is expected
    to report): the coverage columns of a plant-day KPI are summed with the asset-shift elements, and reach the
    plant-day KPI through the plant and enterprise rows of the same period (int_kpi_elements_by_grain), never from
    the plant-day facts. -#}
{% macro kpi_rollup_elements(basis='asset_shift') %}
    {%- set elements = [] -%}
    {%- for kpi in kpi_definitions() if kpi.basis == basis -%}
        {%- set coverage = [kpi.coverage_numerator, kpi.coverage_denominator]
            if kpi.coverage_numerator and basis == 'asset_shift' else [] -%}
        {%- for column in kpi.columns + coverage -%}
            {%- if column not in elements -%}
                {%- do elements.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if basis == 'asset_shift' -%}
        {%- for kpi in kpi_definitions() if kpi.basis != basis and kpi.coverage_numerator -%}
            {%- for column in [kpi.coverage_numerator, kpi.coverage_denominator] -%}
                {%- if column not in elements -%}
                    {%- do elements.append(column) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(elements) }}
{% endmacro %}
