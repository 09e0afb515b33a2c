"""Streamlit building blocks the pages share: the period filter, a KPI metric, a KPI table."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from apps.catalog_view import Kpi

_ON_TARGET_STYLE = "background-color: rgba(33, 195, 84, 0.18)"
_OFF_TARGET_STYLE = "background-color: rgba(255, 43, 43, 0.18)"


def period_filter(first: date, last: date) -> tuple[date, date]:
    """Sidebar date range over the shift dates that have data; stops the page until both ends are picked."""
    picked = st.sidebar.date_input(
        "Period (shift dates)",
        value=(first, last),
        min_value=first,
        max_value=last,
        help="A shift belongs to the local date on which it starts. KPIs over the period are ratios of sums.",
    )
    if len(picked) != 2:
        st.info("Pick the last day of the period.")
        st.stop()
    start, end = picked
    return start, end


def kpi_metric(kpi: Kpi, label: str, value: float | None, *, key: str) -> None:
    """`value` formatted per the catalog, with its gap to target coloured green (on target) or red.

    The keyed container is a stable hook for browser tests and styling (CSS class `st-key-<key>`).
    """
    with st.container(key=key):
        st.metric(
            label,
            kpi.format(value),
            delta=kpi.gap_to_target(value),
            delta_color=kpi.delta_color,
            delta_description=f"vs target {kpi.format(kpi.target)}" if kpi.target is not None else None,
            help=kpi.help_text,
            border=True,
        )


def kpi_table(frame: pd.DataFrame, kpis: list[Kpi]) -> Styler:
    """`frame` with each KPI column formatted per the catalog and shaded by whether it meets its target."""

    def shade(column: pd.Series) -> list[str]:
        kpi = next(kpi for kpi in kpis if kpi.id == column.name)
        verdicts = column.map(kpi.meets_target)
        return [_ON_TARGET_STYLE if v is True else _OFF_TARGET_STYLE if v is False else "" for v in verdicts]

    kpi_ids = [kpi.id for kpi in kpis]
    return frame.style.format({kpi.id: kpi.format for kpi in kpis}).apply(shade, subset=kpi_ids)


def kpi_column_config(kpis: list[Kpi]) -> dict[str, st.column_config.Column]:
    """Column headers named and explained (on hover) by the catalog."""
    return {kpi.id: st.column_config.Column(kpi.name, help=kpi.help_text) for kpi in kpis}
