{#- Per asset-shift, the waterfall's start minus its losses equals its end (to 1e-6 s): PBT - losses = PRI x GQ. -#}
{% test waterfall_closes(model) %}

select
    asset_id,
    shift_date,
    shift_code,
    sum(seconds) filter (where step_kind = 'start') as start_s,
    sum(seconds) filter (where step_kind = 'loss') as losses_s,
    sum(seconds) filter (where step_kind = 'end') as end_s

from {{ model }}
group by asset_id, shift_date, shift_code
having count(*) filter (where step_kind = 'start') != 1
    or count(*) filter (where step_kind = 'end') != 1
    or abs(start_s - coalesce(losses_s, 0) - end_s) > 1e-6

{% endtest %}
