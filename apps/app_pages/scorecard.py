"""Cross-plant scorecard: each plant's OEE and its factors for one period against the catalog targets, then every
other governed KPI on an SQDCP-style board. Every value is a row of the KPI table with its confidence."""

import streamlit as st

from apps import charts, components, confidence, data
from apps.app_config import app_config_in_use
from apps.catalog_view import cached_kpis, kpi_catalog_dir, kpi_with_factors

warehouse = str(data.warehouse_path())
version = data.data_version(warehouse)
settings = app_config_in_use().config  # the frame stopped when no approved settings can be used
policy = confidence.cached_policy(settings)
kpis = cached_kpis(str(kpi_catalog_dir()))
headline_kpis = kpi_with_factors(kpis, "oee")
all_plants = data.plants(warehouse, version)
plant_names = dict(zip(all_plants.plant_id, all_plants.plant_name))

chosen_plants = st.sidebar.multiselect(
    "Plants", list(plant_names), default=list(plant_names), format_func=plant_names.get
)
if not chosen_plants:
    st.info("Pick at least one plant.")
    st.stop()
period = components.period_picker(settings, lambda level: data.periods(warehouse, version, tuple(chosen_plants), level))

values = confidence.rate(
    data.plant_kpi_values(warehouse, version, tuple(chosen_plants), period.level, period.start), policy
)
cells = confidence.cells_by(values, "kpi_id", "plant_id")
st.caption(
    f"{period.label}. Every figure is the KPI table's value for the period, a ratio of sums of the ISO 22400 "
    f"elements computed once. Grey figures are low confidence (coverage below {policy.min_coverage:.0%}, stale "
    "inputs or failed row checks): hover for the reason."
)

for kpi in headline_kpis:
    st.subheader(kpi.name, help=kpi.help_text)
    st.caption(f"{kpi.formula} · {kpi.target_text}")
    for column, plant_id in zip(st.columns(len(chosen_plants)), chosen_plants):
        with column:
            components.kpi_metric(kpi, plant_names[plant_id], cells.get((kpi.id, plant_id)), key=f"{kpi.id}-{plant_id}")

st.subheader("Plants compared")
st.caption("Black ticks mark each KPI's target; grey bars are low confidence.")
st.altair_chart(charts.plant_comparison(values, headline_kpis, plant_names))

st.header("SQDCP board")
for group in settings.board_groups(set(values.kpi_id) & set(kpis), [kpi.id for kpi in headline_kpis]):
    st.subheader(group.title)
    st.altair_chart(charts.kpi_board(values, [kpis[kpi_id] for kpi_id in group.kpi_ids], plant_names))
undefined = sorted(set(values.kpi_id) - set(kpis))
if undefined:
    st.caption(f"Published but without a catalog definition here, so not shown: {', '.join(undefined)}.")
missing_letters = settings.sqdcp_letters_without_kpis()
if missing_letters:
    st.caption(f"No governed KPI definition yet for {', '.join(missing_letters)}.")
