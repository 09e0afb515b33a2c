{#- generated from catalog/mappings/machine_states.yaml by catalog/render.py — do not edit. -#}
{# Every loss category of the enterprise machine states, with its ISO 22400-2 time element. #}
{% macro loss_categories() -%}
    {{ return([{'loss_category': 'none', 'iso_element': 'APT'}, {'loss_category': 'setup_adjustment', 'iso_element': 'AUST'}, {'loss_category': 'breakdown', 'iso_element': 'ADET'}, {'loss_category': 'small_stop', 'iso_element': 'ADET'}, {'loss_category': 'idle', 'iso_element': 'ADOT'}, {'loss_category': 'planned', 'iso_element': 'PDOT'}, {'loss_category': 'planned_maintenance', 'iso_element': 'PDOT'}]) }}
{%- endmacro %}
