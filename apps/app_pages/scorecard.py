"""Cross-plant scorecard: each plant's OEE and its three factors over one period, against the catalog targets."""

import streamlit as st

from apps import charts, components, data
from apps.catalog_view import cached_kpis, kpi_catalog_dir, kpi_with_factors

warehouse = str(data.warehouse_path())
scorecard_kpis = kpi_with_factors(cached_kpis(str(kpi_catalog_dir())), "oee")
all_plants = data.plants(warehouse)
plant_names = dict(zip(all_plants.plant_id, all_plants.plant_name))

st.title("Cross-plant OEE scorecard")

start, end = components.period_filter(*data.shift_date_range(warehouse))
chosen_plants = st.sidebar.multiselect(
    "Plants", list(plant_names), default=list(plant_names), format_func=plant_names.get
)
if not chosen_plants:
    st.info("Pick at least one plant.")
    st.stop()

scorecard = data.plant_kpis(warehouse, tuple(chosen_plants), start, end)
st.caption(
    f"Shift dates {start:%d %b %Y} to {end:%d %b %Y}. Every figure is a ratio of sums of the ISO 22400 time elements "
    "and quantities over the period, never an average of daily values."
)

for kpi in scorecard_kpis:
    st.subheader(kpi.name, help=kpi.help_text)
    st.caption(f"{kpi.formula} · {kpi.target_text}")
    for column, plant in zip(st.columns(len(scorecard)), scorecard.itertuples()):
        with column:
            components.kpi_metric(kpi, plant.plant_name, getattr(plant, kpi.id), key=f"{kpi.id}-{plant.plant_id}")

st.subheader("Plants compared")
st.caption("Black ticks mark each KPI's target.")
st.altair_chart(charts.plant_comparison(scorecard, scorecard_kpis))
