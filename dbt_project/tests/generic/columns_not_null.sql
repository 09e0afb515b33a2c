{#- None of the columns is null: the required columns of a contract, checked in one scan of the table. -#}
{% test columns_not_null(model, column_names) %}

select *
from {{ model }}
where {% for column in column_names %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}

{% endtest %}
