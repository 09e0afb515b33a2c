{#- DuckDB cannot download extensions here (no access to the extension server), so the delta extension is loaded
    from the duckdb-extension-delta wheel, whose path catalog.render.dbt_env puts in NORTHSTAR_DUCKDB_DELTA_EXTENSION.
    Rendered only when executing, so `dbt parse` (e.g. Dagster preparing the manifest) does not need the variable. -#}
{% macro load_delta_extension() -%}
    {%- if execute -%}
        load '{{ env_var("NORTHSTAR_DUCKDB_DELTA_EXTENSION") }}'
    {%- endif -%}
{%- endmacro %}
