"""Streamlit building blocks the pages share: publication status, governance of the app settings, period picker, KPI
metric and KPI table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from apps.app_config import APPROVED, REFUSED, AppConfig, ConfigInUse
from apps.catalog_view import Kpi
from apps.confidence import KpiCell
from apps.data import BlockedCheck, Period, Publication

_ON_TARGET_STYLE = "background-color: rgba(33, 195, 84, 0.18)"
_OFF_TARGET_STYLE = "background-color: rgba(255, 43, 43, 0.18)"
_LOW_CONFIDENCE_STYLE = "background-color: rgba(120, 124, 135, 0.16); color: rgba(49, 51, 63, 0.55)"
# Metrics of low-confidence values sit in a container keyed `low-confidence-...`: their value is greyed like their
# delta, so that nothing about them reads as red or green.
_LOW_CONFIDENCE_CSS = """
<style>
[class*="st-key-low-confidence-"] [data-testid="stMetricValue"] { color: rgba(49, 51, 63, 0.45); }
</style>
"""
_LOW_CONFIDENCE_ICON = ":material/warning:"
_MAX_REASONS_SHOWN = 5


def page_styles() -> None:
    """The app's few CSS rules; the frame adds them once per run."""
    st.html(_LOW_CONFIDENCE_CSS)


def _utc_text(moment: datetime) -> str:
    return f"{moment:%d %b %Y, %H:%M} UTC"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _blocked_check_text(check: BlockedCheck) -> str:
    parts = [_code(check.check)]
    if check.expectation:
        on_column = f" on column {_code(check.column)}" if check.column else ""
        parts.append(f"expectation {_code(check.expectation)}{on_column}")
    parts.append(f"{check.failing:,} failing" if check.failing is not None else "failing count not reported")
    if check.suite:
        parts.append(f"suite {_code(check.suite)}")
    if check.error:
        parts.append(f"error {_code(check.error[:200])}")
    return " · ".join(parts)


def publication_status(publication: Publication | None) -> None:
    """When the data shown was built and, when the latest publication attempt was blocked, why."""
    if publication is None:
        return
    if publication.data_as_of is not None:
        st.caption(f":material/update: **Data as of {_utc_text(publication.data_as_of)}**", width="content")
    elif publication.latest_status is None:
        st.caption(
            ":material/update: **Data as of: unknown** (this published file has no publication log)", width="content"
        )
    if not publication.is_blocked:
        return
    attempted = _utc_text(publication.latest_attempted_at) if publication.latest_attempted_at else "recently"
    if publication.data_as_of is not None:
        shown = f"This page shows the last good data, as of {_utc_text(publication.data_as_of)}."
    else:
        shown = "Nothing has been published yet."
    checks = publication.blocked_checks
    lines = [f"- {_blocked_check_text(check)}" for check in checks[:_MAX_REASONS_SHOWN]]
    if len(checks) > _MAX_REASONS_SHOWN:
        lines.append(f"- and {len(checks) - _MAX_REASONS_SHOWN} more (`main_meta.publication_log`)")
    st.warning(
        "\n".join([f"The publication attempt of {attempted} failed these checks. {shown}", "", *lines]),
        title="Latest publication blocked",
        icon=":material/block:",
    )


def app_settings_status(in_use: ConfigInUse) -> None:
    """The governance status of the app settings (`apps:config`): nothing when they are approved as they are; a
    warning when the last approved version or an ungoverned override is in use; an error when none can be used."""
    if in_use.mode == APPROVED:
        return
    if in_use.mode == REFUSED:
        st.error(in_use.notice, title=f"App settings not approved ({in_use.item})", icon=":material/gpp_bad:")
        return
    st.warning(in_use.notice, title=f"App settings: {in_use.mode} ({in_use.item})", icon=":material/policy:")


def period_picker(config: AppConfig, periods_of: Callable[[str], Sequence[Period]]) -> Period:
    """Sidebar choice of a period of the KPI table (level, then which one; latest first); stops the page when the
    data has none."""
    level = st.sidebar.radio(
        "Period",
        config.period_levels,
        index=config.period_levels.index(config.default_period_level),
        format_func=str.capitalize,
        horizontal=True,
        help="A production day is the local date on which a shift starts. Every figure is the KPI table's value "
        "for the period, a ratio of sums computed once, never an average of shorter periods.",
    )
    choices = periods_of(level)
    if not choices:
        st.info(f"No {level} has KPI values for this choice yet.")
        st.stop()
    return st.sidebar.selectbox(level.capitalize(), choices, format_func=lambda period: period.label)


def kpi_metric(kpi: Kpi, label: str, cell: KpiCell | None, *, key: str) -> None:
    """The value formatted per the catalog, with its gap to target coloured green (on target) or red, or grey
    with the reason on hover when the value is low confidence.

    The keyed container is a stable hook for browser tests and styling (CSS class `st-key-<key>`).
    """
    value = cell.value if cell else None
    low = cell is not None and cell.is_low_confidence
    confidence = cell.confidence if cell else "No value for this period."
    with st.container(key=f"low-confidence-{key}" if low else None), st.container(key=key):
        st.metric(
            label,
            kpi.format(value),
            delta=kpi.gap_to_target(value),
            delta_color="gray" if low else kpi.delta_color,
            delta_description=f"vs target {kpi.format(kpi.target)}" if kpi.target is not None else None,
            help=f"{confidence}\n\n{kpi.help_text}",
            icon=_LOW_CONFIDENCE_ICON if low else None,
            border=True,
        )


def kpi_detail_table(rated: pd.DataFrame, kpis: list[Kpi], row_keys: list[str]) -> Styler:
    """One row per `row_keys` combination, one column per KPI (formatted per the catalog and shaded green or red
    against its target, grey when low confidence) and a `confidence` column saying why a value is greyed."""
    kpi_ids = [kpi.id for kpi in kpis]
    shown = rated[rated.kpi_id.isin(kpi_ids)]
    rows = shown[row_keys].drop_duplicates().set_index(row_keys).index  # in the order the query gave
    values = shown.pivot(index=row_keys, columns="kpi_id", values="value").reindex(index=rows, columns=kpi_ids)
    low = shown.pivot(index=row_keys, columns="kpi_id", values="is_low_confidence").reindex(index=rows, columns=kpi_ids)
    low = low.fillna(False).astype(bool).reset_index(drop=True)
    why = shown.groupby(row_keys, sort=False).low_confidence_reasons.agg(
        lambda reasons: "; ".join(dict.fromkeys(reason for reason in reasons if reason)) or "OK"
    )
    frame = values.rename_axis(columns=None).reset_index().assign(confidence=why.reindex(rows).to_numpy())
    kpis_by_id = {kpi.id: kpi for kpi in kpis}

    def shade(column: pd.Series) -> list[str]:
        kpi = kpis_by_id[column.name]
        return [
            _LOW_CONFIDENCE_STYLE
            if low.at[row, kpi.id]
            else {True: _ON_TARGET_STYLE, False: _OFF_TARGET_STYLE}.get(kpi.meets_target(value), "")
            for row, value in column.items()
        ]

    return frame.style.format({kpi.id: kpi.format for kpi in kpis}, na_rep=kpis[0].format(None)).apply(
        shade, subset=kpi_ids
    )


def kpi_column_config(kpis: list[Kpi]) -> dict[str, st.column_config.Column]:
    """Column headers named and explained (on hover) by the catalog."""
    return {kpi.id: st.column_config.Column(kpi.name, help=kpi.help_text) for kpi in kpis}
