-- Published: the six-big-losses waterfall of every asset-shift, from planned busy time down to the OEE time
-- (PRI x GQ, the ideal time of the good parts), one row per step. It closes exactly, by construction and by test:
--     PBT - breakdowns - setup - small stops - idle - unmapped - reduced speed - scrap - rework = PRI x GQ
-- because PBT = APT + AUST + ADET + ADOT (+ unmapped), APT - speed loss = PRI x PQ, and PRI x PQ = PRI x GQ +
-- PRI x SQ + PRI x RQ interval by interval. Every step is additive: a rollup's waterfall is the sum of these rows.
--
-- A view over the published elements: the steps are columns of kpi_elements_asset_shift, so this shape costs
-- nothing to build and can never disagree with them (writing it as a table would copy every asset-shift ten times).
{{ config(materialized='view', meta={'test_window': in_partition()}) }}

with

asset_shifts as (

    select * from {{ ref('kpi_elements_asset_shift') }}

),

{%- set time_losses = time_loss_categories() %}

waterfall_steps as (

    -- The order of the waterfall and the OEE factor each loss lowers. Minor stops are ADET in ISO 22400 (they
    -- lower availability, not performance as in the classic six big losses); idle time (ADOT) is not one of the six
    -- but lies inside PBT, so the waterfall shows it. A category the mapping adds later is listed after these.
    {%- set known = {
        'breakdown': ('Breakdowns', 1),
        'setup_adjustment': ('Setup and adjustment', 2),
        'small_stop': ('Small stops', 3),
        'idle': ('Idle (starved, blocked, no order)', 4),
        'unmapped': ('Unmapped state codes', 5),
    } %}
    select * from (values
        (0, 'planned_busy_time', 'Planned busy time (PBT)', 'start', null, 'pbt_s'),
        {% for category in time_losses -%}
        ({{ known.get(category, (category, 6 + loop.index))[1] }}, '{{ category }}',
         '{{ known.get(category, (category, 0))[0] }}', 'loss', 'availability', 'loss_{{ category }}_s'),
        {% endfor -%}
        (20, 'reduced_speed', 'Reduced speed', 'loss', 'effectiveness', 'speed_loss_s'),
        (21, 'scrap', 'Rejects: scrap', 'loss', 'quality_ratio', 'pri_sq_s'),
        (22, 'rework', 'Rejects: rework', 'loss', 'quality_ratio', 'pri_rq_s'),
        (30, 'oee_time', 'OEE time (PRI x GQ)', 'end', null, 'pri_gq_s')
    ) as steps (waterfall_step, step_id, step_name, step_kind, oee_factor, element)

),

with_speed_loss as (

    select
        *,
        -- negative when PRI x PQ exceeds APT: a wrong ideal cycle time (has_plausible_effectiveness is false)
        apt_s - pri_pq_s as speed_loss_s

    from asset_shifts

),

step_seconds as (

    {%- set elements = ['pbt_s'] -%}
    {%- for category in time_losses -%}{%- do elements.append('loss_' ~ category ~ '_s') -%}{%- endfor -%}
    {%- do elements.extend(['speed_loss_s', 'pri_sq_s', 'pri_rq_s', 'pri_gq_s']) %}
    unpivot with_speed_loss
    on {{ elements | join(', ') }}
    into name element value seconds

),

final as (

    select
        step_seconds.plant_id,
        step_seconds.line_id,
        step_seconds.asset_id,
        step_seconds.shift_code,
        step_seconds.shift_date,
        waterfall_steps.waterfall_step,
        waterfall_steps.step_id,
        waterfall_steps.step_name,
        waterfall_steps.step_kind,
        waterfall_steps.oee_factor,
        step_seconds.seconds

    from step_seconds
    inner join waterfall_steps on step_seconds.element = waterfall_steps.element

)

select * from final
