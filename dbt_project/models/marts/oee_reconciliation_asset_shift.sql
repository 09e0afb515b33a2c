-- Published: each plant's own OEE figure beside the enterprise OEE of the same asset-shift, the difference split into
-- its causes. The plant's formula (catalog/mappings/local_oee_formulas.yaml) is applied to the governed elements and
-- the gap is walked step by step from the enterprise OEE to the reported figure, so that the steps add up exactly:
--
--   enterprise OEE (ISO: A x E x Q)
--   -> the plant's availability, then its performance, then its quality factor, then its way of combining them
--      (each step filed under the cause of that deviation: a different basis time is the calendar, a different
--       split of time or parts is the mapping, a different ratio or combination is the definition)
--   -> its rounding and reporting unit                                                         (rounding)
--   -> what it reported                  (unexplained: the plant's own data differs from the governed data)
--
-- A formula that names more than ISO elements (the public sample's engine) leaves the whole gap unexplained.
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        incremental_predicates=[in_partition()],
        on_schema_change='fail'
    )
}}

{%- set formulas = local_oee_formulas() %}

with

reports as (

    select * from {{ ref('stg_mes__local_oee_reports') }}

),

asset_shifts as (

    select * from {{ ref('int_asset_shift_elements') }}
    where {{ in_partition() }}

),

joined as (

    select
        reports.plant_id,
        -- the enterprise asset id of the governed mapping (the report names the plant-local one)
        coalesce(asset_shifts.asset_id, reports.asset_id) as asset_id,
        asset_shifts.line_id,
        reports.shift_date,
        reports.shift_code,
        reports.availability as local_availability_reported,
        reports.performance as local_performance_reported,
        reports.quality as local_quality_reported,
        reports.oee as local_oee_reported,
        asset_shifts.pbt_s,
        asset_shifts.pot_s,
        asset_shifts.apt_s,
        asset_shifts.aust_s,
        asset_shifts.adet_s,
        asset_shifts.adot_s,
        asset_shifts.pdot_s,
        asset_shifts.pri_pq_s,
        asset_shifts.pq,
        asset_shifts.gq,
        asset_shifts.sq,
        asset_shifts.rq,
        asset_shifts.asset_id is not null as has_governed_elements

    from reports
    left join asset_shifts
        on reports.plant_id = asset_shifts.plant_id
        and reports.asset_local_id = asset_shifts.asset_local_id
        and reports.shift_date = asset_shifts.shift_date
        and reports.shift_code = asset_shifts.shift_code

),

factors as (

    select
        *,
        case plant_id
        {%- for plant_id, formula in formulas.items() %}
            when '{{ plant_id }}' then '{{ formula.formula }}'
        {%- endfor %}
        end as local_formula,
        case plant_id
        {%- for plant_id, formula in formulas.items() %}
            when '{{ plant_id }}' then {{ formula.scale }}
        {%- endfor %}
        end as local_scale,
        case plant_id
        {%- for plant_id, formula in formulas.items() %}
            when '{{ plant_id }}' then {{ formula.decimals }}
        {%- endfor %}
        end as local_decimals,

        -- the enterprise OEE and its factors (a factor without a denominator counts 0 in the walk, as OEE's zero rule)
        {{ kpi_oee() }} as enterprise_oee,
        coalesce({{ kpi_availability() }}, 0.0) as enterprise_availability,
        coalesce({{ kpi_effectiveness() }}, 0.0) as enterprise_effectiveness,
        coalesce({{ kpi_quality_ratio() }}, 0.0) as enterprise_quality_ratio,

        -- the plant's factors on the governed elements
        {{ local_oee_sql('availability_sql') }} as local_availability,
        {{ local_oee_sql('performance_sql') }} as local_performance,
        {{ local_oee_sql('quality_sql') }} as local_quality

    from joined

),

walked as (

    select
        *,
        {{ local_oee_sql('oee_sql', {'availability': 'local_availability', 'performance': 'local_performance',
                                'quality': 'local_quality'}) }} as local_oee_recomputed,
        local_oee_reported / local_scale as local_oee,
        local_availability * enterprise_effectiveness * enterprise_quality_ratio as after_availability,
        local_availability * local_performance * enterprise_quality_ratio as after_performance,
        local_availability * local_performance * local_quality as after_quality

    from factors

),

effects as (

    select
        *,
        round(local_oee_recomputed * local_scale, local_decimals) / local_scale as local_oee_rounded,
        after_availability - enterprise_oee as availability_effect,
        after_performance - after_availability as performance_effect,
        after_quality - after_performance as quality_effect,
        local_oee_recomputed - after_quality as combination_effect

    from walked

),

final as (

    select
        plant_id,
        asset_id,
        line_id,
        shift_date,
        shift_code,
        local_formula,
        case when local_scale = 100 then 'percent' else 'ratio' end as local_unit,
        local_availability_reported,
        local_performance_reported,
        local_quality_reported,
        local_oee_reported,
        local_oee,
        local_oee_recomputed,
        enterprise_oee,
        local_oee - enterprise_oee as oee_gap,
        {%- for cause in ['calendar', 'mapping', 'definition'] %}
        {%- set steps = [] %}
        {%- for step in ['availability', 'performance', 'quality', 'oee'] %}
        {%- set effect = ('combination' if step == 'oee' else step) ~ '_effect' %}
        {%- set plants = [] %}
        {%- for plant_id, formula in formulas.items() if formula[step ~ '_cause'] == cause and formula.oee_sql %}
        {%- do plants.append(plant_id) %}
        {%- endfor %}
        {%- if plants %}{% do steps.append("case when plant_id in ('" ~ plants | join("', '") ~ "') then " ~ effect ~ " else 0.0 end") %}{% endif %}
        {%- endfor %}
        case when local_oee_recomputed is not null then {{ steps | join(' + ') if steps else '0.0' }} else 0.0 end
            as {{ cause }}_effect,
        {%- endfor %}
        coalesce(local_oee_rounded - local_oee_recomputed, 0.0) as rounding_effect,
        -- what the plant's own data adds: everything not explained above (the whole gap without a known formula)
        local_oee - coalesce(local_oee_rounded, enterprise_oee) as unexplained_effect,
        has_governed_elements,
        pbt_s

    from effects

)

select * from final
