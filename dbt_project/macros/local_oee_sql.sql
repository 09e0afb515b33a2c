{#- One expression of the plants' own OEE formulas (macros/generated/local_oee_formulas.sql) as a CASE over
    plant_id: `key` is availability_sql, performance_sql, quality_sql or oee_sql; `placeholders` replaces the
    {availability}, {performance} and {quality} of the combination with columns. Plants whose formula is not
    expressible over ISO elements get null. -#}
{% macro local_oee_sql(key, placeholders={}) -%}
    case plant_id
    {%- for plant_id, formula in local_oee_formulas().items() if formula[key] is not none %}
        {%- set ns = namespace(sql=formula[key]) %}
        {%- for name, column in placeholders.items() %}
            {%- set ns.sql = ns.sql | replace('{' ~ name ~ '}', column) %}
        {%- endfor %}
        when '{{ plant_id }}' then {{ ns.sql }}
    {%- endfor %}
    end
{%- endmacro %}
