-- The SQDCP facts of every plant and day that are not asset-shift facts: safety events (on their local date),
-- orders due (on their due date: on time in full, on schedule, actual against planned scrap), people (attendance and
-- order-booked work time on the production day of the shift, training on its date). Quality and cost come from the asset-shift elements. Incremental per (plant, day).
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        incremental_predicates=[in_partition(date_column='day')],
        on_schema_change='fail'
    )
}}

with

incidents as (

    select * from {{ ref('stg_ehs__incidents') }}

),

incident_types as (

    select * from {{ ref('incident_type_mappings') }}

),

work_orders as (

    select * from {{ ref('stg_erp__work_orders') }}

),

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

production_counts as (

    select * from {{ ref('int_production_counts_assigned_to_shifts') }}

),

attendance as (

    select * from {{ ref('stg_hr__attendance') }}

),

training as (

    select * from {{ ref('stg_hr__training') }}

),

unit_conversions as (

    select * from {{ ref('unit_conversions') }}
    where to_unit = 's'

),

incident_type_versions as (

    select
        *,
        coalesce(
            lead(valid_from) over (partition by plant_id, local_type order by valid_from), date '9999-12-31'
        ) as valid_until

    from incident_types

),

safety as (

    -- an unmapped local classification is counted as a recordable incident: never silently dropped, and on the
    -- safe side (the mapping's coverage is tested)
    select
        incidents.plant_id,
        cast(incidents.occurred_at_local as date) as day,
        count(*) filter (where types.enterprise_type = 'near_miss') as near_misses,
        count(*) filter (where types.enterprise_type = 'first_aid') as first_aid_cases,
        count(*) filter (where coalesce(types.is_recordable, true)) as recordable_incidents,
        count(*) filter (where types.enterprise_type = 'lost_time') as lost_time_incidents,
        cast(sum(incidents.lost_days) as bigint) as lost_days,
        max(incidents.ingested_at) as ingested_at

    from incidents
    left join incident_type_versions as types
        on incidents.plant_id = types.plant_id
        and incidents.incident_local_type = types.local_type
        and cast(incidents.occurred_at_local as date) >= types.valid_from
        and cast(incidents.occurred_at_local as date) < types.valid_until
    group by incidents.plant_id, cast(incidents.occurred_at_local as date)

),

order_shipments as (

    -- on time in full: shipped by the promised date, at least the ordered quantity
    select
        plant_id,
        order_id,
        bool_or(shipped_date <= promised_date and shipped_qty >= ordered_qty) as is_on_time_in_full

    from shipments
    group by plant_id, order_id

),

order_output as (

    -- good and scrap quantity an order produced on production days up to and including its due date
    select
        production_counts.plant_id,
        production_counts.order_id,
        sum(production_counts.good_qty) as good_qty_by_due_date,
        sum(production_counts.scrap_qty) as scrap_qty_by_due_date

    from production_counts
    inner join work_orders
        on production_counts.plant_id = work_orders.plant_id
        and production_counts.order_id = work_orders.order_id
    where production_counts.shift_date <= work_orders.due_date
    group by production_counts.plant_id, production_counts.order_id

),

delivery as (

    -- an order counts on its due date; without a shipment it is not on time in full
    select
        work_orders.plant_id,
        work_orders.due_date as day,
        count(*) as orders_due,
        count(*) filter (where order_shipments.is_on_time_in_full) as orders_on_time_in_full,
        count(*) filter (where order_output.good_qty_by_due_date >= work_orders.order_qty) as orders_on_schedule,
        -- actual against planned scrap (SQ / PSQ) of the orders whose scrap was planned
        sum(coalesce(order_output.scrap_qty_by_due_date, 0)) filter (
            where work_orders.planned_scrap_qty is not null
        ) as order_sq,
        sum(work_orders.planned_scrap_qty) as order_psq,
        max(work_orders.ingested_at) as ingested_at

    from work_orders
    left join order_shipments
        on work_orders.plant_id = order_shipments.plant_id
        and work_orders.order_id = order_shipments.order_id
    left join order_output
        on work_orders.plant_id = order_output.plant_id
        and work_orders.order_id = order_output.order_id
    group by work_orders.plant_id, work_orders.due_date

),

people as (

    select
        attendance.plant_id,
        attendance.shift_date as day,
        count(*) as employee_shifts,
        sum(attendance.scheduled_time * units.factor) as scheduled_work_s,
        sum(attendance.attended_time * units.factor) as attended_work_s,
        -- worker efficiency (APWT / APAT) over the employee-shifts whose work time on orders was booked
        sum(attendance.worked_time * units.factor) as personnel_work_s,
        sum(attendance.attended_time * units.factor) filter (
            where attendance.worked_time is not null
        ) as booked_attendance_s,
        max(attendance.ingested_at) as ingested_at

    from attendance
    left join unit_conversions as units on attendance.time_unit = units.from_unit
    group by attendance.plant_id, attendance.shift_date

),

trained as (

    select
        training.plant_id,
        training.training_date as day,
        sum(training.training_time * units.factor) as training_s,
        max(training.ingested_at) as ingested_at

    from training
    left join unit_conversions as units on training.time_unit = units.from_unit
    group by training.plant_id, training.training_date

),

plant_days as (

    select plant_id, day from safety
    union
    select plant_id, day from delivery
    union
    select plant_id, day from people
    union
    select plant_id, day from trained

),

final as (

    select
        plant_days.plant_id,
        plant_days.day,
        coalesce(safety.near_misses, 0) as near_misses,
        coalesce(safety.first_aid_cases, 0) as first_aid_cases,
        coalesce(safety.recordable_incidents, 0) as recordable_incidents,
        coalesce(safety.lost_time_incidents, 0) as lost_time_incidents,
        coalesce(safety.lost_days, 0) as lost_days,
        coalesce(delivery.orders_due, 0) as orders_due,
        coalesce(delivery.orders_on_time_in_full, 0) as orders_on_time_in_full,
        coalesce(delivery.orders_on_schedule, 0) as orders_on_schedule,
        coalesce(delivery.order_sq, 0) as order_sq,
        coalesce(delivery.order_psq, 0) as order_psq,
        coalesce(people.employee_shifts, 0) as employee_shifts,
        coalesce(people.scheduled_work_s, 0) as scheduled_work_s,
        coalesce(people.attended_work_s, 0) as attended_work_s,
        coalesce(people.personnel_work_s, 0) as personnel_work_s,
        coalesce(people.booked_attendance_s, 0) as booked_attendance_s,
        coalesce(trained.training_s, 0) as training_s,
        greatest(safety.ingested_at, delivery.ingested_at, people.ingested_at, trained.ingested_at) as freshness_at

    from plant_days
    left join safety on plant_days.plant_id = safety.plant_id and plant_days.day = safety.day
    left join delivery on plant_days.plant_id = delivery.plant_id and plant_days.day = delivery.day
    left join people on plant_days.plant_id = people.plant_id and plant_days.day = people.day
    left join trained on plant_days.plant_id = trained.plant_id and plant_days.day = trained.day
    where {{ in_partition(date_column='plant_days.day', plant_column='plant_days.plant_id') }}

)

select * from final
