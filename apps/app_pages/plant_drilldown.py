"""Plant drilldown: one plant's OEE for one period, where its time went (six big losses) and which assets and
shifts or days lost it."""

import streamlit as st

from apps import charts, components, confidence, data
from apps.app_config import app_config_in_use
from apps.catalog_view import cached_kpis, kpi_catalog_dir, kpi_with_factors

warehouse = str(data.warehouse_path())
version = data.data_version(warehouse)
settings = app_config_in_use().config  # the frame stopped when no approved settings can be used
policy = confidence.cached_policy(settings)
drilldown_kpis = kpi_with_factors(cached_kpis(str(kpi_catalog_dir())), "oee")
oee = drilldown_kpis[0]
all_plants = data.plants(warehouse, version)
plant_names = dict(zip(all_plants.plant_id, all_plants.plant_name))

plant_id = st.sidebar.selectbox("Plant", list(plant_names), format_func=plant_names.get)
period = components.period_picker(settings, lambda level: data.periods(warehouse, version, (plant_id,), level))

plant = confidence.rate(data.plant_kpi_values(warehouse, version, (plant_id,), period.level, period.start), policy)
if plant.empty:
    st.info(f"{plant_names[plant_id]} has no KPI values for {period.label}.")
    st.stop()

st.header(plant_names[plant_id])
st.caption(
    f"{period.label}: the KPI table's values for the plant and period (ratios of sums). Grey values are low "
    f"confidence (coverage below {policy.min_coverage:.0%}, stale inputs or failed row checks): hover for the reason."
)
cells = confidence.cells_by(plant, "kpi_id")
for column, kpi in zip(st.columns(len(drilldown_kpis)), drilldown_kpis):
    with column:
        components.kpi_metric(kpi, kpi.name, cells.get((kpi.id,)), key=f"{kpi.id}-{plant_id}")

st.subheader(
    "Six big losses",
    help="Planned busy time minus every loss is the OEE time, the ideal time of the good parts (PRI x GQ). Each "
    "loss is coloured by the OEE factor it lowers; breakdowns and minor stops are ADET (availability) in ISO 22400.",
)
steps = data.loss_waterfall(warehouse, version, plant_id, period.start, period.end)
if steps is None:
    st.info("The loss waterfall needs `main_marts.oee_losses_asset_shift`, which this publication does not have yet.")
elif steps.empty:
    st.info(f"No asset-shift losses for {period.label}.")
else:
    st.altair_chart(charts.loss_waterfall(steps))

detail_name = "Shift" if period.detail_level == "shift" else "Production day"
assets = confidence.rate(
    data.asset_kpi_values(
        warehouse, version, plant_id, period.level, period.start, period.end, tuple(k.id for k in drilldown_kpis)
    ),
    policy,
)
st.subheader(f"{oee.name} by asset and {detail_name.lower()}", help=oee.help_text)
st.altair_chart(charts.asset_heatmap(assets, oee, detail_name), width="content")

st.subheader(f"Asset x {detail_name.lower()} detail")
st.dataframe(
    components.kpi_detail_table(assets, drilldown_kpis, ["line_id", "asset_id", "sub_period"]),
    hide_index=True,
    column_config={
        "line_id": "Line",
        "asset_id": "Asset",
        "sub_period": detail_name,
        **components.kpi_column_config(drilldown_kpis),
        "confidence": st.column_config.TextColumn(
            "Confidence",
            help="OK, or why the row's values are greyed: coverage, freshness or row checks of its inputs.",
        ),
    },
)
