"""Altair charts for the app's pages. Labels, formats and targets come from the catalog `Kpi` passed in."""

from __future__ import annotations

import altair as alt
import pandas as pd

from apps.catalog_view import Kpi

_TARGET_COLOUR = "#31333f"
# Plants are told apart by blues, purples, greys and browns: red and green mean off / on target on every page.
_PLANT_PALETTE = ["#1f5f99", "#7fb2e5", "#6a51a3", "#b4a7d6", "#5f6b7a", "#a9b4c2", "#8c6d31", "#d9b779"]


def plant_comparison(scorecard: pd.DataFrame, kpis: list[Kpi]) -> alt.LayerChart:
    """Grouped bars: one group per KPI, one bar per plant, a black tick at each KPI's target.

    `scorecard` has `plant_name` and one column per KPI id (as `data.plant_kpis` returns). All `kpis` must share
    one display format, since they share the value axis.
    """
    kpi_order = [kpi.name for kpi in kpis]
    rows = []
    for plant in scorecard.itertuples():
        for kpi in kpis:
            value = getattr(plant, kpi.id)
            rows.append({"KPI": kpi.name, "Plant": plant.plant_name, "value": value, "shown": kpi.format(value)})
    values = pd.DataFrame(rows)
    targets = pd.DataFrame(
        [{"KPI": kpi.name, "target": kpi.target, "shown": kpi.target_text} for kpi in kpis if kpi.target is not None]
    )
    kpi_axis = alt.X("KPI:N", sort=kpi_order, title=None, axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart(values)
        .mark_bar()
        .encode(
            x=kpi_axis,
            xOffset=alt.XOffset("Plant:N"),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=kpis[0].d3_format), scale=alt.Scale(domainMin=0)),
            color=alt.Color(
                "Plant:N", scale=alt.Scale(range=_PLANT_PALETTE), legend=alt.Legend(orient="top", title=None)
            ),
            tooltip=["Plant:N", "KPI:N", alt.Tooltip("shown:N", title="Value")],
        )
    )
    target_ticks = (
        alt.Chart(targets)
        .mark_tick(color=_TARGET_COLOUR, thickness=2, size=90)
        .encode(x=kpi_axis, y="target:Q", tooltip=["KPI:N", alt.Tooltip("shown:N", title="Target")])
    )
    return alt.layer(bars, target_ticks).properties(height=340)


def asset_shift_heatmap(cells: pd.DataFrame, kpi: Kpi) -> alt.LayerChart:
    """Asset x shift grid coloured by `kpi` (red below target, green above), each cell labelled with its value.

    `cells` has `asset_id`, `shift_code`, `first_started_at` and a column named by the KPI id (as
    `data.asset_shift_kpis` returns).
    """
    frame = cells.assign(shown=cells[kpi.id].map(kpi.format))
    colour_scale = alt.Scale(
        scheme="redyellowgreen" if kpi.trend == "higher_is_better" else "greenred",
        domainMid=kpi.target if kpi.target is not None else alt.Undefined,
        domain=[0, 1] if kpi.display_format == "percent" else alt.Undefined,
    )
    base = alt.Chart(frame).encode(
        x=alt.X(
            "shift_code:N",
            title="Shift",
            sort=alt.EncodingSortField(field="first_started_at", op="min"),
            axis=alt.Axis(labelAngle=0, orient="top"),
        ),
        y=alt.Y("asset_id:N", title="Asset"),
    )
    grid = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            f"{kpi.id}:Q",
            title=kpi.name,
            scale=colour_scale,
            legend=alt.Legend(format=kpi.d3_format, orient="bottom", direction="horizontal", gradientLength=220),
        ),
        tooltip=["asset_id:N", "shift_code:N", alt.Tooltip("shown:N", title=kpi.name)],
    )
    labels = base.mark_text(fontSize=14, fontWeight="bold").encode(text="shown:N")
    return alt.layer(grid, labels).properties(width=alt.Step(110), height=alt.Step(44))
