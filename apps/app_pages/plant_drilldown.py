"""Plant drilldown: one plant's OEE by asset and shift over one period, to find where the losses are."""

import streamlit as st

from apps import charts, components, data
from apps.catalog_view import cached_kpis, kpi_catalog_dir, kpi_with_factors

warehouse = str(data.warehouse_path())
drilldown_kpis = kpi_with_factors(cached_kpis(str(kpi_catalog_dir())), "oee")
oee = drilldown_kpis[0]
all_plants = data.plants(warehouse)
plant_names = dict(zip(all_plants.plant_id, all_plants.plant_name))

st.title("Plant drilldown")

plant_id = st.sidebar.selectbox("Plant", list(plant_names), format_func=plant_names.get)
start, end = components.period_filter(*data.shift_date_range(warehouse))

plant = data.plant_kpis(warehouse, (plant_id,), start, end)
cells = data.asset_shift_kpis(warehouse, plant_id, start, end)
if plant.empty:
    st.info(f"{plant_names[plant_id]} has no OEE data between {start} and {end}.")
    st.stop()

st.header(plant_names[plant_id])
st.caption(f"Shift dates {start:%d %b %Y} to {end:%d %b %Y}, ratios of sums over the period.")
totals = plant.iloc[0]
for column, kpi in zip(st.columns(len(drilldown_kpis)), drilldown_kpis):
    with column:
        components.kpi_metric(kpi, kpi.name, totals[kpi.id], key=f"{kpi.id}-{plant_id}")

st.subheader(f"{oee.name} by asset and shift", help=oee.help_text)
st.altair_chart(charts.asset_shift_heatmap(cells, oee), width="content")

st.subheader("Asset x shift detail")
detail = cells[["line_id", "asset_id", "shift_code", *(kpi.id for kpi in drilldown_kpis)]]
st.dataframe(
    components.kpi_table(detail, drilldown_kpis),
    hide_index=True,
    column_config={
        "line_id": "Line",
        "asset_id": "Asset",
        "shift_code": "Shift",
        **components.kpi_column_config(drilldown_kpis),
    },
)
