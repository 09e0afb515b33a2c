{#- Incremental strategy `replace_partitions`: delete the window from the target, then insert the rebuilt window.

    dbt-duckdb's delete+insert deletes only keys present in the new rows, so a (plant, day) whose rows disappear
    upstream (a removed shift, a corrected calendar) would keep its stale rows. Here the model states its window as
    `incremental_predicates` (the partition filter it also applies to its input), and exactly that is replaced. -#}
{% macro get_incremental_replace_partitions_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set predicates = arg_dict['incremental_predicates'] -%}
    {%- if not predicates -%}
        {{ exceptions.raise_compiler_error(
            "replace_partitions needs incremental_predicates: the window the model rebuilds (" ~ target ~ ")") }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ predicates | join(' and ') }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
{% endmacro %}
