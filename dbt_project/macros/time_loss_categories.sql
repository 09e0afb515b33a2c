{#- The loss categories that lie inside planned busy time but outside production time (AUST, ADET, ADOT), plus
    `unmapped` for states whose code has no mapping: the time losses of the OEE waterfall, from the governed
    mapping (macros/generated/loss_categories.sql). -#}
{% macro time_loss_categories() %}
    {%- set categories = [] -%}
    {%- for category in loss_categories() if category.iso_element not in ('APT', 'PDOT') -%}
        {%- do categories.append(category.loss_category) -%}
    {%- endfor -%}
    {{ return(categories + ['unmapped']) }}
{% endmacro %}
