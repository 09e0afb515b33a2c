{#- generated from catalog/kpis/*.yaml by catalog/render.py — do not edit.
    Each macro expands to the KPI over element columns of the same name, so it works on one asset-shift
    and, applied to summed columns, as the ratio of sums of any rollup. -#}

{# Actual to planned scrap ratio (actual_to_planned_scrap_ratio 1.1.0): SQ / PSQ #}
{% macro kpi_actual_to_planned_scrap_ratio() -%}
    (cast(order_sq as double) / nullif(order_psq, 0))
{%- endmacro %}
{% macro kpi_actual_to_planned_scrap_ratio_numerator() -%}
    cast(order_sq as double)
{%- endmacro %}
{% macro kpi_actual_to_planned_scrap_ratio_denominator() -%}
    cast(order_psq as double)
{%- endmacro %}

{# Allocation efficiency (allocation_efficiency 1.0.0): AUBT / PBT #}
{% macro kpi_allocation_efficiency() -%}
    (cast(aubt_s as double) / nullif(pbt_s, 0))
{%- endmacro %}
{% macro kpi_allocation_efficiency_numerator() -%}
    cast(aubt_s as double)
{%- endmacro %}
{% macro kpi_allocation_efficiency_denominator() -%}
    cast(pbt_s as double)
{%- endmacro %}

{# Attendance rate (attendance_rate 1.1.0): APAT / planned attendance time #}
{% macro kpi_attendance_rate() -%}
    (cast(attended_work_s as double) / nullif(scheduled_work_s, 0))
{%- endmacro %}
{% macro kpi_attendance_rate_numerator() -%}
    cast(attended_work_s as double)
{%- endmacro %}
{% macro kpi_attendance_rate_denominator() -%}
    cast(scheduled_work_s as double)
{%- endmacro %}

{# Availability (availability 1.0.0): APT / PBT #}
{% macro kpi_availability() -%}
    (cast(apt_s as double) / nullif(pbt_s, 0))
{%- endmacro %}
{% macro kpi_availability_numerator() -%}
    cast(apt_s as double)
{%- endmacro %}
{% macro kpi_availability_denominator() -%}
    cast(pbt_s as double)
{%- endmacro %}

{# Corrective maintenance ratio (corrective_maintenance_ratio 1.0.0): CMT / (CMT + PMT) #}
{% macro kpi_corrective_maintenance_ratio() -%}
    (cast(cmt_s as double) / nullif((cmt_s + pmt_s), 0))
{%- endmacro %}
{% macro kpi_corrective_maintenance_ratio_numerator() -%}
    cast(cmt_s as double)
{%- endmacro %}
{% macro kpi_corrective_maintenance_ratio_denominator() -%}
    cast((cmt_s + pmt_s) as double)
{%- endmacro %}

{# Cost per good unit (cost_per_good_unit 1.0.0): sum of PQ x standard cost per piece / GQ #}
{% macro kpi_cost_per_good_unit() -%}
    (cast(produced_cost as double) / nullif(costed_gq, 0))
{%- endmacro %}
{% macro kpi_cost_per_good_unit_numerator() -%}
    cast(produced_cost as double)
{%- endmacro %}
{% macro kpi_cost_per_good_unit_denominator() -%}
    cast(costed_gq as double)
{%- endmacro %}

{# Effectiveness (effectiveness 1.0.0): PRI x PQ / APT #}
{% macro kpi_effectiveness() -%}
    (cast(pri_pq_s as double) / nullif(apt_s, 0))
{%- endmacro %}
{% macro kpi_effectiveness_numerator() -%}
    cast(pri_pq_s as double)
{%- endmacro %}
{% macro kpi_effectiveness_denominator() -%}
    cast(apt_s as double)
{%- endmacro %}

{# Energy per good unit (energy_per_good_unit 1.0.0): energy (kWh) / GQ of the metered asset-shifts #}
{% macro kpi_energy_per_good_unit() -%}
    (cast(energy_kwh as double) / nullif(metered_gq, 0))
{%- endmacro %}
{% macro kpi_energy_per_good_unit_numerator() -%}
    cast(energy_kwh as double)
{%- endmacro %}
{% macro kpi_energy_per_good_unit_denominator() -%}
    cast(metered_gq as double)
{%- endmacro %}

{# First pass yield (first_pass_yield 1.0.0): GP / IP #}
{% macro kpi_first_pass_yield() -%}
    (cast(gp as double) / nullif(ip, 0))
{%- endmacro %}
{% macro kpi_first_pass_yield_numerator() -%}
    cast(gp as double)
{%- endmacro %}
{% macro kpi_first_pass_yield_denominator() -%}
    cast(ip as double)
{%- endmacro %}

{# Mean operating time between failures (MTBF) (mtbf 1.0.0): APT / FE (hours) #}
{% macro kpi_mtbf() -%}
    (cast((apt_s / 3600) as double) / nullif(failure_events, 0))
{%- endmacro %}
{% macro kpi_mtbf_numerator() -%}
    cast((apt_s / 3600) as double)
{%- endmacro %}
{% macro kpi_mtbf_denominator() -%}
    cast(failure_events as double)
{%- endmacro %}

{# Mean time to repair (MTTR) (mttr 1.0.0): CMT / FE (minutes) #}
{% macro kpi_mttr() -%}
    (cast((cmt_s / 60) as double) / nullif(failure_events, 0))
{%- endmacro %}
{% macro kpi_mttr_numerator() -%}
    cast((cmt_s / 60) as double)
{%- endmacro %}
{% macro kpi_mttr_denominator() -%}
    cast(failure_events as double)
{%- endmacro %}

{# Near misses reported (near_misses 1.1.0): number of near-miss reports #}
{% macro kpi_near_misses() -%}
    cast(near_misses as double)
{%- endmacro %}
{% macro kpi_near_misses_numerator() -%}
    cast(near_misses as double)
{%- endmacro %}
{% macro kpi_near_misses_denominator() -%}
    case when near_misses is not null then 1.0 end
{%- endmacro %}

{# NEE index (nee 1.0.0): AUPT / PBT x Effectiveness x Quality ratio #}
{% macro kpi_nee() -%}
    case
        when nullif(pbt_s, 0) is null then null
        when apt_s = 0 or pq = 0 then 0.0
        else (cast(aupt_s as double) / nullif(pbt_s, 0)) * {{ kpi_effectiveness() }} * {{ kpi_quality_ratio() }}
    end
{%- endmacro %}
{% macro kpi_nee_numerator() -%}
    ({{ kpi_nee() }}) * pbt_s
{%- endmacro %}
{% macro kpi_nee_denominator() -%}
    cast(pbt_s as double)
{%- endmacro %}

{# OEE index (oee 1.0.0): Availability x Effectiveness x Quality ratio #}
{% macro kpi_oee() -%}
    case
        when nullif(pbt_s, 0) is null then null
        when apt_s = 0 or pq = 0 then 0.0
        else {{ kpi_availability() }} * {{ kpi_effectiveness() }} * {{ kpi_quality_ratio() }}
    end
{%- endmacro %}
{% macro kpi_oee_numerator() -%}
    ({{ kpi_oee() }}) * pbt_s
{%- endmacro %}
{% macro kpi_oee_denominator() -%}
    cast(pbt_s as double)
{%- endmacro %}

{# On time in full (OTIF) (on_time_in_full 1.1.0): orders shipped on time and in full / orders due #}
{% macro kpi_on_time_in_full() -%}
    (cast(orders_on_time_in_full as double) / nullif(orders_due, 0))
{%- endmacro %}
{% macro kpi_on_time_in_full_numerator() -%}
    cast(orders_on_time_in_full as double)
{%- endmacro %}
{% macro kpi_on_time_in_full_denominator() -%}
    cast(orders_due as double)
{%- endmacro %}

{# Production process ratio (production_process_ratio 1.0.0): APT / AOET #}
{% macro kpi_production_process_ratio() -%}
    (cast(apt_s as double) / nullif(aoet_s, 0))
{%- endmacro %}
{% macro kpi_production_process_ratio_numerator() -%}
    cast(apt_s as double)
{%- endmacro %}
{% macro kpi_production_process_ratio_denominator() -%}
    cast(aoet_s as double)
{%- endmacro %}

{# Quality ratio (quality_ratio 1.0.0): GQ / PQ #}
{% macro kpi_quality_ratio() -%}
    (cast(gq as double) / nullif(pq, 0))
{%- endmacro %}
{% macro kpi_quality_ratio_numerator() -%}
    cast(gq as double)
{%- endmacro %}
{% macro kpi_quality_ratio_denominator() -%}
    cast(pq as double)
{%- endmacro %}

{# Recordable incidents (recordable_incidents 1.1.0): number of recordable and lost-time incidents #}
{% macro kpi_recordable_incidents() -%}
    cast(recordable_incidents as double)
{%- endmacro %}
{% macro kpi_recordable_incidents_numerator() -%}
    cast(recordable_incidents as double)
{%- endmacro %}
{% macro kpi_recordable_incidents_denominator() -%}
    case when recordable_incidents is not null then 1.0 end
{%- endmacro %}

{# Rework ratio (rework_ratio 1.0.0): RQ / PQ #}
{% macro kpi_rework_ratio() -%}
    (cast(rq as double) / nullif(pq, 0))
{%- endmacro %}
{% macro kpi_rework_ratio_numerator() -%}
    cast(rq as double)
{%- endmacro %}
{% macro kpi_rework_ratio_denominator() -%}
    cast(pq as double)
{%- endmacro %}

{# Schedule adherence (schedule_adherence 1.1.0): orders with good quantity >= order quantity by the due date / orders due #}
{% macro kpi_schedule_adherence() -%}
    (cast(orders_on_schedule as double) / nullif(orders_due, 0))
{%- endmacro %}
{% macro kpi_schedule_adherence_numerator() -%}
    cast(orders_on_schedule as double)
{%- endmacro %}
{% macro kpi_schedule_adherence_denominator() -%}
    cast(orders_due as double)
{%- endmacro %}

{# Scrap ratio (scrap_ratio 1.0.0): SQ / PQ #}
{% macro kpi_scrap_ratio() -%}
    (cast(sq as double) / nullif(pq, 0))
{%- endmacro %}
{% macro kpi_scrap_ratio_numerator() -%}
    cast(sq as double)
{%- endmacro %}
{% macro kpi_scrap_ratio_denominator() -%}
    cast(pq as double)
{%- endmacro %}

{# Setup rate (setup_rate 1.0.0): AUST / AUPT #}
{% macro kpi_setup_rate() -%}
    (cast(aust_s as double) / nullif(aupt_s, 0))
{%- endmacro %}
{% macro kpi_setup_rate_numerator() -%}
    cast(aust_s as double)
{%- endmacro %}
{% macro kpi_setup_rate_denominator() -%}
    cast(aupt_s as double)
{%- endmacro %}

{# Technical efficiency (technical_efficiency 1.0.0): APT / (APT + ADET) #}
{% macro kpi_technical_efficiency() -%}
    (cast(apt_s as double) / nullif((apt_s + adet_s), 0))
{%- endmacro %}
{% macro kpi_technical_efficiency_numerator() -%}
    cast(apt_s as double)
{%- endmacro %}
{% macro kpi_technical_efficiency_denominator() -%}
    cast((apt_s + adet_s) as double)
{%- endmacro %}

{# Throughput rate (throughput_rate 1.0.0): PQ / AOET (pieces per hour) #}
{% macro kpi_throughput_rate() -%}
    (cast(pq as double) / nullif((aoet_s / 3600), 0))
{%- endmacro %}
{% macro kpi_throughput_rate_numerator() -%}
    cast(pq as double)
{%- endmacro %}
{% macro kpi_throughput_rate_denominator() -%}
    cast((aoet_s / 3600) as double)
{%- endmacro %}

{# Training hours (training_hours 1.1.0): sum of training durations (hours) #}
{% macro kpi_training_hours() -%}
    cast((training_s / 3600) as double)
{%- endmacro %}
{% macro kpi_training_hours_numerator() -%}
    cast((training_s / 3600) as double)
{%- endmacro %}
{% macro kpi_training_hours_denominator() -%}
    case when (training_s / 3600) is not null then 1.0 end
{%- endmacro %}

{# Utilization efficiency (utilization_efficiency 1.0.0): APT / AUBT #}
{% macro kpi_utilization_efficiency() -%}
    (cast(apt_s as double) / nullif(aubt_s, 0))
{%- endmacro %}
{% macro kpi_utilization_efficiency_numerator() -%}
    cast(apt_s as double)
{%- endmacro %}
{% macro kpi_utilization_efficiency_denominator() -%}
    cast(aubt_s as double)
{%- endmacro %}

{# Worker efficiency (worker_efficiency 1.1.0): APWT / APAT #}
{% macro kpi_worker_efficiency() -%}
    (cast(personnel_work_s as double) / nullif(booked_attendance_s, 0))
{%- endmacro %}
{% macro kpi_worker_efficiency_numerator() -%}
    cast(personnel_work_s as double)
{%- endmacro %}
{% macro kpi_worker_efficiency_denominator() -%}
    cast(booked_attendance_s as double)
{%- endmacro %}

{# The approved range of each KPI, for the kpi_within_range data test (None: unbounded). #}
{% macro kpi_ranges() -%}
    {{ return({'actual_to_planned_scrap_ratio': {'min': 0, 'max': None}, 'allocation_efficiency': {'min': 0, 'max': 1}, 'attendance_rate': {'min': 0, 'max': 1}, 'availability': {'min': 0, 'max': 1}, 'corrective_maintenance_ratio': {'min': 0, 'max': 1}, 'cost_per_good_unit': {'min': 0, 'max': None}, 'effectiveness': {'min': 0, 'max': 1}, 'energy_per_good_unit': {'min': 0, 'max': None}, 'first_pass_yield': {'min': 0, 'max': 1}, 'mtbf': {'min': 0, 'max': None}, 'mttr': {'min': 0, 'max': None}, 'near_misses': {'min': 0, 'max': None}, 'nee': {'min': 0, 'max': 1}, 'oee': {'min': 0, 'max': 1}, 'on_time_in_full': {'min': 0, 'max': 1}, 'production_process_ratio': {'min': 0, 'max': 1}, 'quality_ratio': {'min': 0, 'max': 1}, 'recordable_incidents': {'min': 0, 'max': None}, 'rework_ratio': {'min': 0, 'max': 1}, 'schedule_adherence': {'min': 0, 'max': 1}, 'scrap_ratio': {'min': 0, 'max': 1}, 'setup_rate': {'min': 0, 'max': 1}, 'technical_efficiency': {'min': 0, 'max': 1}, 'throughput_rate': {'min': 0, 'max': None}, 'training_hours': {'min': 0, 'max': None}, 'utilization_efficiency': {'min': 0, 'max': 1}, 'worker_efficiency': {'min': 0, 'max': 1}}) }}
{%- endmacro %}

{# Every KPI of the catalog, in id order: what the long KPI table publishes per row. #}
{% macro kpi_definitions() -%}
    {{ return([{'id': 'actual_to_planned_scrap_ratio', 'version': '1.1.0', 'unit': 'ratio', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': None, 'target': 1.0, 'trend': 'lower_is_better', 'columns': ['order_sq', 'order_psq'], 'value_sql': '(cast(order_sq as double) / nullif(order_psq, 0))', 'numerator_sql': 'cast(order_sq as double)', 'denominator_sql': 'cast(order_psq as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'allocation_efficiency', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.95, 'trend': 'higher_is_better', 'columns': ['aubt_s', 'pbt_s'], 'value_sql': '(cast(aubt_s as double) / nullif(pbt_s, 0))', 'numerator_sql': 'cast(aubt_s as double)', 'denominator_sql': 'cast(pbt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'attendance_rate', 'version': '1.1.0', 'unit': 'ratio', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': 'P', 'target': 0.95, 'trend': 'higher_is_better', 'columns': ['attended_work_s', 'scheduled_work_s'], 'value_sql': '(cast(attended_work_s as double) / nullif(scheduled_work_s, 0))', 'numerator_sql': 'cast(attended_work_s as double)', 'denominator_sql': 'cast(scheduled_work_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'availability', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.9, 'trend': 'higher_is_better', 'columns': ['apt_s', 'pbt_s'], 'value_sql': '(cast(apt_s as double) / nullif(pbt_s, 0))', 'numerator_sql': 'cast(apt_s as double)', 'denominator_sql': 'cast(pbt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'corrective_maintenance_ratio', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.3, 'trend': 'lower_is_better', 'columns': ['cmt_s', 'pmt_s'], 'value_sql': '(cast(cmt_s as double) / nullif((cmt_s + pmt_s), 0))', 'numerator_sql': 'cast(cmt_s as double)', 'denominator_sql': 'cast((cmt_s + pmt_s) as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'cost_per_good_unit', 'version': '1.0.0', 'unit': 'currency/piece', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': 'C', 'target': None, 'trend': 'lower_is_better', 'columns': ['produced_cost', 'costed_gq'], 'value_sql': '(cast(produced_cost as double) / nullif(costed_gq, 0))', 'numerator_sql': 'cast(produced_cost as double)', 'denominator_sql': 'cast(costed_gq as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'effectiveness', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.95, 'trend': 'higher_is_better', 'columns': ['pri_pq_s', 'apt_s'], 'value_sql': '(cast(pri_pq_s as double) / nullif(apt_s, 0))', 'numerator_sql': 'cast(pri_pq_s as double)', 'denominator_sql': 'cast(apt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'energy_per_good_unit', 'version': '1.0.0', 'unit': 'kWh/piece', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': 'C', 'target': None, 'trend': 'lower_is_better', 'columns': ['energy_kwh', 'metered_gq'], 'value_sql': '(cast(energy_kwh as double) / nullif(metered_gq, 0))', 'numerator_sql': 'cast(energy_kwh as double)', 'denominator_sql': 'cast(metered_gq as double)', 'coverage_numerator': 'metered_pot_s', 'coverage_denominator': 'pot_s'}, {'id': 'first_pass_yield', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': 'Q', 'target': 0.97, 'trend': 'higher_is_better', 'columns': ['gp', 'ip'], 'value_sql': '(cast(gp as double) / nullif(ip, 0))', 'numerator_sql': 'cast(gp as double)', 'denominator_sql': 'cast(ip as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'mtbf', 'version': '1.0.0', 'unit': 'h', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 8, 'trend': 'higher_is_better', 'columns': ['apt_s', 'failure_events'], 'value_sql': '(cast((apt_s / 3600) as double) / nullif(failure_events, 0))', 'numerator_sql': 'cast((apt_s / 3600) as double)', 'denominator_sql': 'cast(failure_events as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'mttr', 'version': '1.0.0', 'unit': 'min', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 30, 'trend': 'lower_is_better', 'columns': ['cmt_s', 'failure_events'], 'value_sql': '(cast((cmt_s / 60) as double) / nullif(failure_events, 0))', 'numerator_sql': 'cast((cmt_s / 60) as double)', 'denominator_sql': 'cast(failure_events as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'near_misses', 'version': '1.1.0', 'unit': 'reports', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': 'S', 'target': None, 'trend': 'higher_is_better', 'columns': ['near_misses'], 'value_sql': 'cast(near_misses as double)', 'numerator_sql': 'cast(near_misses as double)', 'denominator_sql': 'case when near_misses is not null then 1.0 end', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'nee', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.88, 'trend': 'higher_is_better', 'columns': ['aupt_s', 'pbt_s', 'pri_pq_s', 'apt_s', 'gq', 'pq'], 'value_sql': 'case when nullif(pbt_s, 0) is null then null when apt_s = 0 or pq = 0 then 0.0 else (cast(aupt_s as double) / nullif(pbt_s, 0)) * (cast(pri_pq_s as double) / nullif(apt_s, 0)) * (cast(gq as double) / nullif(pq, 0)) end', 'numerator_sql': '(case when nullif(pbt_s, 0) is null then null when apt_s = 0 or pq = 0 then 0.0 else (cast(aupt_s as double) / nullif(pbt_s, 0)) * (cast(pri_pq_s as double) / nullif(apt_s, 0)) * (cast(gq as double) / nullif(pq, 0)) end) * pbt_s', 'denominator_sql': 'cast(pbt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'oee', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.85, 'trend': 'higher_is_better', 'columns': ['apt_s', 'pbt_s', 'pri_pq_s', 'gq', 'pq'], 'value_sql': 'case when nullif(pbt_s, 0) is null then null when apt_s = 0 or pq = 0 then 0.0 else (cast(apt_s as double) / nullif(pbt_s, 0)) * (cast(pri_pq_s as double) / nullif(apt_s, 0)) * (cast(gq as double) / nullif(pq, 0)) end', 'numerator_sql': '(case when nullif(pbt_s, 0) is null then null when apt_s = 0 or pq = 0 then 0.0 else (cast(apt_s as double) / nullif(pbt_s, 0)) * (cast(pri_pq_s as double) / nullif(apt_s, 0)) * (cast(gq as double) / nullif(pq, 0)) end) * pbt_s', 'denominator_sql': 'cast(pbt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'on_time_in_full', 'version': '1.1.0', 'unit': 'ratio', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': 'D', 'target': 0.95, 'trend': 'higher_is_better', 'columns': ['orders_on_time_in_full', 'orders_due'], 'value_sql': '(cast(orders_on_time_in_full as double) / nullif(orders_due, 0))', 'numerator_sql': 'cast(orders_on_time_in_full as double)', 'denominator_sql': 'cast(orders_due as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'production_process_ratio', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.85, 'trend': 'higher_is_better', 'columns': ['apt_s', 'aoet_s'], 'value_sql': '(cast(apt_s as double) / nullif(aoet_s, 0))', 'numerator_sql': 'cast(apt_s as double)', 'denominator_sql': 'cast(aoet_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'quality_ratio', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.98, 'trend': 'higher_is_better', 'columns': ['gq', 'pq'], 'value_sql': '(cast(gq as double) / nullif(pq, 0))', 'numerator_sql': 'cast(gq as double)', 'denominator_sql': 'cast(pq as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'recordable_incidents', 'version': '1.1.0', 'unit': 'incidents', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': 'S', 'target': 0, 'trend': 'lower_is_better', 'columns': ['recordable_incidents'], 'value_sql': 'cast(recordable_incidents as double)', 'numerator_sql': 'cast(recordable_incidents as double)', 'denominator_sql': 'case when recordable_incidents is not null then 1.0 end', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'rework_ratio', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.01, 'trend': 'lower_is_better', 'columns': ['rq', 'pq'], 'value_sql': '(cast(rq as double) / nullif(pq, 0))', 'numerator_sql': 'cast(rq as double)', 'denominator_sql': 'cast(pq as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'schedule_adherence', 'version': '1.1.0', 'unit': 'ratio', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': 'D', 'target': 0.9, 'trend': 'higher_is_better', 'columns': ['orders_on_schedule', 'orders_due'], 'value_sql': '(cast(orders_on_schedule as double) / nullif(orders_due, 0))', 'numerator_sql': 'cast(orders_on_schedule as double)', 'denominator_sql': 'cast(orders_due as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'scrap_ratio', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': 'Q', 'target': 0.02, 'trend': 'lower_is_better', 'columns': ['sq', 'pq'], 'value_sql': '(cast(sq as double) / nullif(pq, 0))', 'numerator_sql': 'cast(sq as double)', 'denominator_sql': 'cast(pq as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'setup_rate', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.05, 'trend': 'lower_is_better', 'columns': ['aust_s', 'aupt_s'], 'value_sql': '(cast(aust_s as double) / nullif(aupt_s, 0))', 'numerator_sql': 'cast(aust_s as double)', 'denominator_sql': 'cast(aupt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'technical_efficiency', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.95, 'trend': 'higher_is_better', 'columns': ['apt_s', 'adet_s'], 'value_sql': '(cast(apt_s as double) / nullif((apt_s + adet_s), 0))', 'numerator_sql': 'cast(apt_s as double)', 'denominator_sql': 'cast((apt_s + adet_s) as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'throughput_rate', 'version': '1.0.0', 'unit': 'pieces/h', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': None, 'trend': 'higher_is_better', 'columns': ['pq', 'aoet_s'], 'value_sql': '(cast(pq as double) / nullif((aoet_s / 3600), 0))', 'numerator_sql': 'cast(pq as double)', 'denominator_sql': 'cast((aoet_s / 3600) as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'training_hours', 'version': '1.1.0', 'unit': 'h', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': 'P', 'target': None, 'trend': 'higher_is_better', 'columns': ['training_s'], 'value_sql': 'cast((training_s / 3600) as double)', 'numerator_sql': 'cast((training_s / 3600) as double)', 'denominator_sql': 'case when (training_s / 3600) is not null then 1.0 end', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'utilization_efficiency', 'version': '1.0.0', 'unit': 'ratio', 'basis': 'asset_shift', 'levels': ['asset', 'line', 'plant', 'enterprise'], 'periods': ['shift', 'day', 'week', 'month'], 'sqdcp': None, 'target': 0.9, 'trend': 'higher_is_better', 'columns': ['apt_s', 'aubt_s'], 'value_sql': '(cast(apt_s as double) / nullif(aubt_s, 0))', 'numerator_sql': 'cast(apt_s as double)', 'denominator_sql': 'cast(aubt_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}, {'id': 'worker_efficiency', 'version': '1.1.0', 'unit': 'ratio', 'basis': 'plant_day', 'levels': ['plant', 'enterprise'], 'periods': ['day', 'week', 'month'], 'sqdcp': None, 'target': 0.85, 'trend': 'higher_is_better', 'columns': ['personnel_work_s', 'booked_attendance_s'], 'value_sql': '(cast(personnel_work_s as double) / nullif(booked_attendance_s, 0))', 'numerator_sql': 'cast(personnel_work_s as double)', 'denominator_sql': 'cast(booked_attendance_s as double)', 'coverage_numerator': 'covered_s', 'coverage_denominator': 'pot_s'}]) }}
{%- endmacro %}

{# The parameters of the KPI definitions, for the models that compute their elements: kpi_parameter(kpi_id,
   name) returns one and fails compilation when the catalog has no such parameter. #}
{% macro kpi_parameters() -%}
    {{ return({'energy_per_good_unit': {'meter_tag': 'energy_kwh', 'meter_max_gap_s': 900}}) }}
{%- endmacro %}
{% macro kpi_parameter(kpi_id, name) -%}
    {%- set parameters = kpi_parameters().get(kpi_id, {}) -%}
    {%- if name not in parameters -%}
        {{ exceptions.raise_compiler_error("catalog/kpis/" ~ kpi_id ~ ".yaml has no parameter " ~ name) }}
    {%- endif -%}
    {{ return(parameters[name]) }}
{%- endmacro %}
