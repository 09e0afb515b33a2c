{#- The run's partition window: which plants and production days a run (re)builds.

    Dagster maps a (plant, day) partition, or a range of them, to dbt vars:
        --vars '{"min_date": "2026-06-01", "max_date": "2026-06-01", "plant_ids": ["DE-STR"]}'
    min_date and max_date are production days (the local date on which a shift starts), inclusive; plant_ids is
    optional (all plants when absent). Without vars a run covers all history of all plants.

    Staging views filter bronze to the window plus the margins each source needs (a night shift reaches into the next
    day; a count interval early in the morning belongs to the previous day's night shift), so delta_scan skips the
    files and row groups of other days. Incremental facts then keep exactly the window and replace it in the target
    (strategy replace_partitions), so a late row re-run through its partition recomputes only that window. -#}
{% macro partition_window() %}
    {%- set min_date = var('min_date', none) -%}
    {%- set max_date = var('max_date', none) -%}
    {%- set plant_ids = var('plant_ids', none) -%}
    {%- if (min_date is none) != (max_date is none) -%}
        {{ exceptions.raise_compiler_error("vars min_date and max_date go together (production days, inclusive)") }}
    {%- endif -%}
    {%- if min_date is not none -%}
        {#- fromisoformat refuses anything but a date, so nothing else can reach the SQL -#}
        {%- set first = modules.datetime.date.fromisoformat(min_date | string) -%}
        {%- set last = modules.datetime.date.fromisoformat(max_date | string) -%}
        {%- if last < first -%}
            {{ exceptions.raise_compiler_error("var max_date " ~ last ~ " is before min_date " ~ first) }}
        {%- endif -%}
    {%- else -%}
        {%- set first, last = none, none -%}
    {%- endif -%}
    {%- if plant_ids is string -%}
        {%- set plant_ids = plant_ids.split(',') -%}
    {%- endif -%}
    {%- for plant_id in plant_ids or [] -%}
        {%- if not modules.re.fullmatch('[A-Za-z0-9_-]+', plant_id | string) -%}
            {{ exceptions.raise_compiler_error("var plant_ids: " ~ plant_id ~ " is not a plant id") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'min_date': first, 'max_date': last, 'plant_ids': plant_ids or none}) }}
{% endmacro %}


{#- A date literal `days` days from a window bound. -#}
{% macro _window_date(bound, days=0) -%}
    date '{{ bound + modules.datetime.timedelta(days=days) }}'
{%- endmacro %}


{#- True for the window's plants (every plant without plant_ids). -#}
{% macro in_partition_plants(plant_column='plant_id') -%}
    {%- set window = partition_window() -%}
    {%- if window.plant_ids -%}
        {{ plant_column }} in ({% for plant_id in window.plant_ids %}'{{ plant_id }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- True for dates in [min_date - days_before, max_date + days_after] (always true without a window). -#}
{% macro in_partition_days(date_column, days_before=0, days_after=0) -%}
    {%- set window = partition_window() -%}
    {%- if window.min_date is none -%}
        true
    {%- else -%}
        {{ date_column }} between {{ _window_date(window.min_date, -days_before) }} and {{ _window_date(window.max_date, days_after) }}
    {%- endif -%}
{%- endmacro %}


{#- True for timestamps (local wall clock or UTC) in [min_date - days_before, max_date + 1 + days_after). -#}
{% macro in_partition_instants(column, days_before=0, days_after=0) -%}
    {%- set window = partition_window() -%}
    {%- if window.min_date is none -%}
        true
    {%- else -%}
        {{ column }} >= {{ _window_date(window.min_date, -days_before) }}
        and {{ column }} < {{ _window_date(window.max_date, 1 + days_after) }}
    {%- endif -%}
{%- endmacro %}


{#- True for [started_at, ended_at) intervals overlapping [min_date - days_before, max_date + 1 + days_after). -#}
{% macro overlaps_partition_days(started_at, ended_at, days_before=0, days_after=0) -%}
    {%- set window = partition_window() -%}
    {%- if window.min_date is none -%}
        true
    {%- else -%}
        {{ started_at }} < {{ _window_date(window.max_date, 1 + days_after) }}
        and {{ ended_at }} > {{ _window_date(window.min_date, -days_before) }}
    {%- endif -%}
{%- endmacro %}


{#- The partition filter of a fact keyed by plant and production day. -#}
{% macro in_partition(date_column='shift_date', plant_column='plant_id') -%}
    {{ in_partition_plants(plant_column) }} and {{ in_partition_days(date_column) }}
{%- endmacro %}


{#- Periods (day, week, month) that contain a day of the window: the rollups a partition run must recompute.
    Rollups are recomputed for every plant, because the enterprise figure of a period depends on all of them. -#}
{% macro overlaps_partition_periods(period_start, period_end) -%}
    {{ overlaps_partition_days(period_start, period_end) }}
{%- endmacro %}


{#- The first day of the earliest week or month a window day falls in, and the last day of the latest: the
    asset-shifts a rollup run reads. -#}
{% macro in_partition_period_days(date_column) -%}
    {%- set window = partition_window() -%}
    {%- if window.min_date is none -%}
        true
    {%- else -%}
        {%- set first_week = window.min_date - modules.datetime.timedelta(days=window.min_date.weekday()) -%}
        {%- set first_month = window.min_date.replace(day=1) -%}
        {%- set last_week = window.max_date + modules.datetime.timedelta(days=6 - window.max_date.weekday()) -%}
        {%- set next_month = (window.max_date.replace(day=28) + modules.datetime.timedelta(days=4)).replace(day=1) -%}
        {%- set last_month = next_month - modules.datetime.timedelta(days=1) -%}
        {{ date_column }} between date '{{ [first_week, first_month] | min }}' and date '{{ [last_week, last_month] | max }}'
    {%- endif -%}
{%- endmacro %}
