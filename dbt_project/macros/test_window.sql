{#- Bounded tests: a partition run tests the rows it wrote, not the whole history.

    dbt hands every generic test its model through get_where_subquery (the test's `where` config). This version adds
    the run's partition window (vars min_date, max_date, plant_ids; macros/partition_window.sql) for the models that
    have one:
    - an incremental model: its incremental predicates, i.e. exactly the rows the run replaced;
    - a view over incremental tables: its `meta.test_window`, the same window in its own columns.
    A run without vars (a full build) tests every row, as before. Views over staging are rebuilt with the window in
    the same run, so they are bounded already. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append(where) -%}
    {%- endif -%}
    {%- set window = tested_partition_window() -%}
    {%- if window -%}
        {%- do conditions.append(window) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where ({{ conditions | join(') and (') }})) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The partition window of the model a test is attached to ('' without a window or for a model without one). -#}
{% macro tested_partition_window() -%}
    {%- if partition_window().min_date is none or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set node = graph.nodes.get(model.attached_node or '') if model.attached_node is defined else none -%}
    {%- if not node -%}
        {{ return('') }}
    {%- endif -%}
    {%- set window = (node.config.meta or {}).get('test_window') -%}
    {%- if window -%}
        {{ return(window) }}
    {%- endif -%}
    {%- if node.config.materialized == 'incremental' and node.config.incremental_predicates -%}
        {{ return(node.config.incremental_predicates | join(') and (')) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
