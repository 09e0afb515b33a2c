-- Every asset of a plant in every shift of the plant's calendar (design.md), with its enterprise asset id and line from
-- the governed mappings (catalog/mappings/assets.yaml, lines.yaml) in force on the shift's production day. An asset or
-- line the catalog does not map yet keeps the id derived from the plant and its local code (`<plant_id>:<local id>`,
-- the convention the mappings follow), marked unmapped: its time is never lost while its mapping is proposed.
with

assets as (

    select * from {{ ref('stg_mes__assets') }}

),

shifts as (

    select * from {{ ref('int_shifts_converted_to_utc') }}
    where {{ in_partition() }}

),

asset_mappings as (

    select
        *,
        coalesce(
            lead(valid_from) over (partition by plant_id, local_code order by valid_from), date '9999-12-31'
        ) as valid_until

    from {{ ref('asset_mappings') }}

),

line_mappings as (

    select
        *,
        coalesce(
            lead(valid_from) over (partition by plant_id, local_code order by valid_from), date '9999-12-31'
        ) as valid_until

    from {{ ref('line_mappings') }}

),

scheduled as (

    select
        shifts.plant_id,
        shifts.plant_name,
        coalesce(asset_mappings.enterprise_asset_id, assets.asset_id) as asset_id,
        assets.asset_local_id,
        coalesce(line_mappings.enterprise_line_id, assets.line_id) as line_id,
        asset_mappings.asset_class,
        asset_mappings.enterprise_asset_id is not null as is_asset_mapped,
        line_mappings.enterprise_line_id is not null as is_line_mapped,
        shifts.shift_code,
        shifts.shift_date,
        shifts.shift_started_at,
        shifts.shift_ended_at,
        shifts.ingested_at as calendar_ingested_at

    from shifts
    inner join assets on shifts.plant_id = assets.plant_id
    left join asset_mappings
        on assets.plant_id = asset_mappings.plant_id
        and assets.asset_local_id = asset_mappings.local_code
        and shifts.shift_date >= asset_mappings.valid_from
        and shifts.shift_date < asset_mappings.valid_until
    left join line_mappings
        on assets.plant_id = line_mappings.plant_id
        and assets.line_local_id = line_mappings.local_code
        and shifts.shift_date >= line_mappings.valid_from
        and shifts.shift_date < line_mappings.valid_until

)

select * from scheduled
