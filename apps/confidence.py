"""How far a KPI value can be trusted, from the confidence columns of `main_marts.kpi_values`.

A value is **low confidence** when any of these holds (docs/kpi-table.md, "Confidence"):

- its inputs cover less of the planned operation time than `confidence.min_coverage` of `catalog/apps.yaml`;
- it is stale: its inputs were last ingested before its last shift ended (so the value was computed from part of
  that shift), and longer ago than the freshness SLA of the contracts named there (the strictest `slaProperties`
  freshness): the rest never arrived in time. A value whose inputs were ingested after its last shift ended is
  complete and stays trusted however old it is; otherwise every figure of last month would turn grey a day after
  it was loaded (docs/kpi-table.md defines the age as now - freshness_at);
- an asset-shift behind it failed the row checks (`checks_passed` is false).

Pages grey such values out instead of colouring them red or green, and show the reason on hover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from apps.app_config import AppConfig
from catalog.contracts import CONTRACTS_DIR, load_contracts

_CHECKS_FAILED = (
    "an asset-shift behind it failed the row checks (unmapped time, unknown ideal cycle time or effectiveness above "
    "100%)"
)


@dataclass(frozen=True)
class ConfidencePolicy:
    min_coverage: float
    freshness_sla: timedelta
    freshness_contract: str  # the contract whose SLA applies (the strictest of those configured)

    @property
    def sla_text(self) -> str:
        return f"freshness SLA {self.freshness_sla / timedelta(hours=1):g} h of `{self.freshness_contract}`"


def confidence_policy(config: AppConfig, contracts_dir: Path = CONTRACTS_DIR) -> ConfidencePolicy:
    """The threshold from the app settings and the strictest freshness SLA of the contracts they name."""
    contracts = load_contracts(contracts_dir)
    slas = {}
    for contract_id in config.freshness_contracts:
        if contract_id not in contracts:
            raise ValueError(f"confidence.freshness_contracts names {contract_id!r}, which is not in {contracts_dir}")
        hours = contracts[contract_id].freshness_hours
        if hours is None:
            raise ValueError(f"contract {contract_id!r} has no freshness SLA (slaProperties: property freshness)")
        slas[contract_id] = hours
    if not slas:
        raise ValueError("confidence.freshness_contracts is empty: name the contracts whose SLA applies")
    strictest = min(slas, key=slas.__getitem__)
    return ConfidencePolicy(config.min_coverage, timedelta(hours=slas[strictest]), strictest)


# Contracts change only through reviewed catalog releases; one entry per settings in use (app_config_in_use).
@st.cache_data(ttl="5m", max_entries=4, show_spinner=False)
def cached_policy(config: AppConfig) -> ConfidencePolicy:
    return confidence_policy(config)


@dataclass(frozen=True)
class Assessment:
    is_low: bool
    reasons: str  # why the value is low confidence; empty when it is not
    text: str  # shown on hover: the verdict, its reasons, then coverage, freshness and checks


def _utc(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()


def _hours(delta: timedelta) -> str:
    return f"{delta / timedelta(hours=1):,.0f} h"


def assess(
    *,
    coverage: float | None,
    freshness_at: Any,
    checks_passed: bool | None,
    period_ended_at: Any,
    policy: ConfidencePolicy,
    now: datetime,
) -> Assessment:
    """The verdict on one kpi_values row."""
    reasons = []
    has_coverage = coverage is not None and not math.isnan(coverage)
    if has_coverage and coverage < policy.min_coverage:
        reasons.append(f"coverage {coverage:.0%} of planned time is below the {policy.min_coverage:.0%} minimum")
    ingested = _utc(freshness_at)
    if ingested is None:
        reasons.append("no ingestion time is recorded for its inputs")
    else:
        last_shift_ended_at = _utc(period_ended_at)
        partial = last_shift_ended_at is None or ingested < last_shift_ended_at
        if partial and now - ingested > policy.freshness_sla:
            reasons.append(
                f"stale: its inputs were last ingested {_hours(now - ingested)} ago, before its last shift ended "
                f"({policy.sla_text})"
            )
    if checks_passed is None:
        reasons.append("its row-check status is unknown")
    elif not checks_passed:
        reasons.append(_CHECKS_FAILED)

    facts = [
        f"coverage {coverage:.0%}" if has_coverage else "coverage not applicable",
        f"inputs ingested {ingested:%d %b %Y %H:%M} UTC" if ingested else "ingestion time unknown",
        {True: "row checks passed", False: "row checks failed"}.get(checks_passed, "row checks unknown"),
    ]
    why = "; ".join(reasons)
    verdict = f"Low confidence: {why}." if reasons else "Confidence OK."
    return Assessment(bool(reasons), why, f"{verdict} ({', '.join(facts)})")


def rate(values: pd.DataFrame, policy: ConfidencePolicy, *, now: datetime | None = None) -> pd.DataFrame:
    """`values` (kpi_values rows) with `is_low_confidence`, `low_confidence_reasons` (empty when confident) and
    `confidence` (the hover text: verdict, reasons, coverage, freshness and checks) added."""
    now = now or datetime.now(UTC)
    assessments = [
        assess(
            coverage=None if pd.isna(row.coverage) else float(row.coverage),
            freshness_at=row.freshness_at,
            checks_passed=None if pd.isna(row.checks_passed) else bool(row.checks_passed),
            period_ended_at=row.period_ended_at,
            policy=policy,
            now=now,
        )
        for row in values.itertuples()
    ]
    return values.assign(
        is_low_confidence=[a.is_low for a in assessments],
        low_confidence_reasons=[a.reasons for a in assessments],
        confidence=[a.text for a in assessments],
    )


@dataclass(frozen=True)
class KpiCell:
    """One value as a page shows it: the number, and whether and why it is low confidence."""

    value: float | None
    is_low_confidence: bool
    confidence: str


def cells_by(rated: pd.DataFrame, *keys: str) -> dict[tuple[Any, ...], KpiCell]:
    """The rated rows keyed by the given columns, e.g. `cells_by(rated, "kpi_id", "plant_id")`."""
    return {
        tuple(getattr(row, key) for key in keys): KpiCell(
            None if pd.isna(row.value) else float(row.value), bool(row.is_low_confidence), row.confidence
        )
        for row in rated.itertuples()
    }
