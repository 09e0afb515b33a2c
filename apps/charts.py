"""Altair charts for the app's pages. Labels, formats and targets come from the catalog `Kpi`s passed in.

Red and green mean off and on target on every page; a low-confidence value is grey instead, with the reason in its
tooltip. Values arrive as rated kpi_values rows (`confidence.rate`): `kpi_id`, `value`, `is_low_confidence`,
`confidence` and the row's keys.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from apps.catalog_view import Kpi

_TARGET_COLOUR = "#31333f"
_LOW_CONFIDENCE_COLOUR = "#c9ccd3"
_NO_TARGET_COLOUR = "#e8eaee"
_ON_TARGET_COLOUR = "#9fe0b0"
_OFF_TARGET_COLOUR = "#f6a6a6"
# Plants are told apart by blues, purples, greys and browns: red and green mean off / on target on every page.
_PLANT_PALETTE = ["#1f5f99", "#7fb2e5", "#6a51a3", "#b4a7d6", "#5f6b7a", "#a9b4c2", "#8c6d31", "#d9b779"]
# The waterfall colours a loss by the OEE factor it lowers; start and end bars are the time that counts.
_WATERFALL_TIME = "Planned busy time / OEE time"
_WATERFALL_LOSSES = {
    "availability": "Availability loss",
    "effectiveness": "Effectiveness loss",
    "quality_ratio": "Quality loss",
}
_OTHER_LOSS = "Other loss"
_WATERFALL_COLOURS = {
    _WATERFALL_TIME: "#1f5f99",
    _WATERFALL_LOSSES["availability"]: "#8c6d31",
    _WATERFALL_LOSSES["effectiveness"]: "#6a51a3",
    _WATERFALL_LOSSES["quality_ratio"]: "#5f6b7a",
    _OTHER_LOSS: "#a9b4c2",
}
_STATUS_COLOURS = {
    "on target": _ON_TARGET_COLOUR,
    "off target": _OFF_TARGET_COLOUR,
    "no target": _NO_TARGET_COLOUR,
    "low confidence": _LOW_CONFIDENCE_COLOUR,
}


def _status(kpi: Kpi, value: float | None, is_low_confidence: bool) -> str:
    if is_low_confidence:
        return "low confidence"
    verdict = kpi.meets_target(value)
    return "no target" if verdict is None else "on target" if verdict else "off target"


def plant_comparison(rated: pd.DataFrame, kpis: list[Kpi], plant_names: dict[str, str]) -> alt.LayerChart:
    """Grouped bars: one group per KPI, one bar per plant (grey when low confidence), a black tick at each target.

    All `kpis` must share one display format, since they share the value axis.
    """
    kpi_order = [kpi.name for kpi in kpis]
    rows = []
    for kpi in kpis:
        for row in rated[rated.kpi_id == kpi.id].itertuples():
            value = None if pd.isna(row.value) else row.value
            rows.append(
                {
                    "KPI": kpi.name,
                    "Plant": plant_names.get(row.plant_id, row.plant_id),
                    "value": value,
                    "shown": kpi.format(value),
                    "low_confidence": bool(row.is_low_confidence),
                    "Confidence": row.confidence,
                }
            )
    values = pd.DataFrame(rows, columns=["KPI", "Plant", "value", "shown", "low_confidence", "Confidence"])
    targets = pd.DataFrame(
        [{"KPI": kpi.name, "target": kpi.target, "shown": kpi.target_text} for kpi in kpis if kpi.target is not None],
        columns=["KPI", "target", "shown"],
    )
    kpi_axis = alt.X("KPI:N", sort=kpi_order, title=None, axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart(values)
        .mark_bar()
        .encode(
            x=kpi_axis,
            xOffset=alt.XOffset("Plant:N"),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=kpis[0].d3_format), scale=alt.Scale(domainMin=0)),
            color=alt.condition(
                "datum.low_confidence",
                alt.value(_LOW_CONFIDENCE_COLOUR),
                alt.Color(
                    "Plant:N", scale=alt.Scale(range=_PLANT_PALETTE), legend=alt.Legend(orient="top", title=None)
                ),
            ),
            tooltip=["Plant:N", "KPI:N", alt.Tooltip("shown:N", title="Value"), "Confidence:N"],
        )
    )
    target_ticks = (
        alt.Chart(targets)
        .mark_tick(color=_TARGET_COLOUR, thickness=2, size=90)
        .encode(x=kpi_axis, y="target:Q", tooltip=["KPI:N", alt.Tooltip("shown:N", title="Target")])
    )
    return alt.layer(bars, target_ticks).properties(height=340)


def kpi_board(rated: pd.DataFrame, kpis: list[Kpi], plant_names: dict[str, str]) -> alt.LayerChart:
    """One row per KPI, one column per plant: each cell the value, green on target, red off target, grey when low
    confidence, pale without a target; its tooltip gives the definition's target and the value's confidence."""
    rows = []
    for kpi in kpis:
        for row in rated[rated.kpi_id == kpi.id].itertuples():
            value = None if pd.isna(row.value) else row.value
            rows.append(
                {
                    "KPI": kpi.label,
                    "Plant": plant_names.get(row.plant_id, row.plant_id),
                    "shown": kpi.format(value),
                    "Status": _status(kpi, value, bool(row.is_low_confidence)),
                    "Target": kpi.target_text,
                    "Formula": kpi.formula,
                    "Confidence": row.confidence,
                }
            )
    cells = pd.DataFrame(rows, columns=["KPI", "Plant", "shown", "Status", "Target", "Formula", "Confidence"])
    base = alt.Chart(cells).encode(
        x=alt.X("Plant:N", title=None, sort=sorted(set(cells.Plant)), axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("KPI:N", title=None, sort=[kpi.label for kpi in kpis], axis=alt.Axis(labelLimit=320)),
    )
    grid = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            "Status:N",
            scale=alt.Scale(domain=list(_STATUS_COLOURS), range=list(_STATUS_COLOURS.values())),
            legend=alt.Legend(orient="bottom", title=None),
        ),
        tooltip=[
            "KPI:N",
            "Plant:N",
            alt.Tooltip("shown:N", title="Value"),
            "Status:N",
            "Target:N",
            "Formula:N",
            "Confidence:N",
        ],
    )
    labels = base.mark_text(fontSize=13).encode(text="shown:N")
    return alt.layer(grid, labels).properties(width=alt.Step(130), height=alt.Step(34))


def asset_heatmap(rated: pd.DataFrame, kpi: Kpi, column_title: str) -> alt.LayerChart:
    """Asset x sub-period grid coloured by `kpi` (red below target, green above, grey when low confidence), each
    cell labelled with its value and the reason for a grey cell on hover.

    `rated` has `asset_id`, `sub_period`, `period_started_at` (to order the columns as time runs) and `kpi_id`.
    """
    rows = rated[rated.kpi_id == kpi.id]
    frame = pd.DataFrame(
        {
            "asset_id": rows.asset_id,
            "sub_period": rows.sub_period,
            "period_started_at": rows.period_started_at.astype(str),
            "value": rows.value,
            "shown": rows.value.map(kpi.format),
            "low_confidence": rows.is_low_confidence.astype(bool),
            "Confidence": rows.confidence,
        }
    )
    many_columns = frame.sub_period.nunique() > 8
    colour_scale = alt.Scale(
        scheme="redyellowgreen",
        reverse=kpi.trend != "higher_is_better",
        domainMid=kpi.target if kpi.target is not None else alt.Undefined,
        domain=[0, 1] if kpi.display_format == "percent" else alt.Undefined,
    )
    base = alt.Chart(frame).encode(
        x=alt.X(
            "sub_period:N",
            title=column_title,
            sort=alt.EncodingSortField(field="period_started_at", op="min"),
            axis=alt.Axis(labelAngle=0, orient="top"),
        ),
        y=alt.Y("asset_id:N", title="Asset"),
        tooltip=[
            alt.Tooltip("asset_id:N", title="Asset"),
            alt.Tooltip("sub_period:N", title=column_title),
            alt.Tooltip("shown:N", title=kpi.name),
            "Confidence:N",
        ],
    )
    confident = (
        base.transform_filter("!datum.low_confidence")
        .mark_rect(stroke="white", strokeWidth=2)
        .encode(
            color=alt.Color(
                "value:Q",
                title=kpi.name,
                scale=colour_scale,
                legend=alt.Legend(format=kpi.d3_format, orient="bottom", direction="horizontal", gradientLength=220),
            )
        )
    )
    low = base.transform_filter("datum.low_confidence").mark_rect(
        stroke="white", strokeWidth=2, color=_LOW_CONFIDENCE_COLOUR
    )
    layers = [confident, low]
    if not many_columns:
        layers.append(base.mark_text(fontSize=14, fontWeight="bold").encode(text="shown:N"))
    step = 36 if many_columns else 110
    return alt.layer(*layers).properties(width=alt.Step(step), height=alt.Step(44))


def loss_waterfall(steps: pd.DataFrame) -> alt.LayerChart:
    """Planned busy time, each loss stepping down from it, and the OEE time that remains, in hours.

    `steps` is `data.loss_waterfall`: one row per step in order, `step_kind` start | loss | end, `seconds`.
    A negative loss (reduced speed when PRI x PQ exceeds APT: a wrong ideal cycle time) steps up.
    """
    rows, level = [], 0.0
    for step in steps.sort_values("waterfall_step").itertuples():
        hours = float(step.seconds) / 3600
        if step.step_kind == "loss":
            top, bottom, level = level, level - hours, level - hours
            group = _WATERFALL_LOSSES.get(step.oee_factor, _OTHER_LOSS)
        else:
            top, bottom, level = hours, 0.0, hours
            group = _WATERFALL_TIME
        rows.append(
            {
                "Step": step.step_name,
                "order": int(step.waterfall_step),
                "top": top,
                "bottom": bottom,
                "label_at": max(top, bottom),
                "Hours": round(hours, 2),
                "label": f"{hours:,.1f} h",
                "Lowers": group,
            }
        )
    frame = pd.DataFrame(rows)
    groups = [group for group in _WATERFALL_COLOURS if group in set(frame.Lowers)]
    start = frame.iloc[0].top if not frame.empty else 0
    frame["Share of planned busy time"] = frame.Hours / start if start else None
    base = alt.Chart(frame).encode(
        x=alt.X(
            "Step:N",
            sort=alt.EncodingSortField(field="order"),
            title=None,
            axis=alt.Axis(labelAngle=-35, labelLimit=240, labelOverlap=False),
        ),
    )
    bars = base.mark_bar(size=38).encode(
        y=alt.Y("top:Q", title="Hours"),
        y2="bottom:Q",
        color=alt.Color(
            "Lowers:N",
            scale=alt.Scale(domain=groups, range=[_WATERFALL_COLOURS[group] for group in groups]),
            legend=alt.Legend(orient="top", title=None, labelLimit=260),
        ),
        tooltip=[
            "Step:N",
            alt.Tooltip("Hours:Q", format=",.2f"),
            alt.Tooltip("Share of planned busy time:Q", format=".1%"),
            "Lowers:N",
        ],
    )
    labels = base.mark_text(dy=-8).encode(y=alt.Y("label_at:Q"), text="label:N")
    return alt.layer(bars, labels).properties(height=360)
