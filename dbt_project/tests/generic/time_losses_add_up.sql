{#- The time losses by the mapping's loss category (loss_<category>_s) split exactly the time inside planned busy
    time that is not production time: AUST + ADET + ADOT + unmapped. The categories come from the catalog
    (macros/generated/loss_categories.sql), so a category the mapping adds is checked without editing this test. -#}
{% test time_losses_add_up(model) %}

select *
from {{ model }}
where abs(
    (aust_s + adet_s + adot_s + unmapped_s)
    - ({% for category in time_loss_categories() %}loss_{{ category }}_s{{ ' + ' if not loop.last }}{% endfor %})
) > 1e-6

{% endtest %}
