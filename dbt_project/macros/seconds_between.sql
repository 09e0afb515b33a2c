{#- Elapsed seconds between two instants (timestamptz), as double. Computed on epoch microseconds so that a
    wall-clock DST jump can never leak into a duration. -#}
{% macro seconds_between(started_at, ended_at) -%}
    ((epoch_us({{ ended_at }}) - epoch_us({{ started_at }})) / 1e6)
{%- endmacro %}
