-- The plant-day SQDCP facts summed per plant and for the enterprise by production day, week and month, the grains of
-- the KPIs defined over them (`basis: plant_day` in catalog/kpis). A view: a year of a dozen plants is a few thousand
-- plant-days.
{%- set elements = kpi_rollup_elements('plant_day') %}

with

plant_days as (

    select
        *,
        cast(date_trunc('week', day) as date) as week_start,
        cast(date_trunc('month', day) as date) as month_start

    from {{ ref('int_plant_days_sqdcp_summarized') }}

),

rolled_up as (

    select
        plant_id,
        day,
        week_start,
        month_start,
        grouping(plant_id) as entity_grouping,
        grouping(day, week_start, month_start) as period_grouping,
        {% for element in elements -%}
        sum({{ element }}) as {{ element }},
        {% endfor -%}
        max(freshness_at) as sqdcp_freshness_at

    from plant_days
    group by grouping sets (
        (plant_id, day), (plant_id, week_start), (plant_id, month_start), (day), (week_start), (month_start)
    )

),

labelled as (

    select
        * exclude (entity_grouping, period_grouping, day, week_start, month_start),
        case entity_grouping when 0 then 'plant' else 'enterprise' end as entity_level,
        case period_grouping
            when 2 + 1 then 'day'            -- week_start, month_start left out
            when 4 + 1 then 'week'           -- day, month_start left out
            else 'month'
        end as period_level,
        coalesce(day, week_start, month_start) as period_start

    from rolled_up

),

final as (

    select
        *,
        entity_level || '_' || period_level as grain

    from labelled

)

select * from final
