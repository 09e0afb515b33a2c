"""The governed KPI definitions (`catalog/kpis/*.yaml`), shaped for display in the app.

Labels, formulas, definitions, display formats and targets are read from the catalog so that no page hard-codes
them: changing a target or a definition is a reviewed, versioned catalog change, and the app follows it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import streamlit as st
import yaml

CATALOG_DIR_ENV = "NORTHSTAR_CATALOG_DIR"
_DEFAULT_KPI_DIR = Path(__file__).resolve().parent.parent / "catalog" / "kpis"

_TREND_WORDS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better"}


@dataclass(frozen=True)
class Kpi:
    """One approved KPI definition, with the formatting rules the catalog gives for it."""

    id: str
    name: str
    description: str
    formula: str
    display_format: Literal["percent", "number"]
    decimals: int
    trend: Literal["higher_is_better", "lower_is_better"]
    target: float | None
    factors: tuple[str, ...]
    notes: str
    version: str
    unit: str

    @classmethod
    def from_document(cls, doc: dict[str, Any], source: Path) -> Kpi:
        try:
            display_format = doc["display"]["format"]
            trend = doc["trend"]
            if display_format not in ("percent", "number") or trend not in _TREND_WORDS:
                raise ValueError(f"unsupported display format {display_format!r} or trend {trend!r}")
            return cls(
                id=doc["id"],
                name=doc["name"],
                description=doc["description"].strip(),
                formula=doc["formula"]["text"],
                display_format=display_format,
                decimals=int(doc["display"]["decimals"]),
                trend=trend,
                target=None if doc.get("target") is None else float(doc["target"]),
                factors=tuple(doc["formula"].get("factors", ())),
                notes=" ".join(str(doc.get("notes", "")).split()),
                version=str(doc["version"]),
                unit=str(doc["unit"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"KPI definition {source} is incomplete or invalid: {error!r}") from error

    def format(self, value: float | None) -> str:
        """The value as the catalog says to show it, e.g. `78.4%`; an em dash when there is no value."""
        if value is None or math.isnan(value):
            return "—"
        if self.display_format == "percent":
            return f"{value * 100:.{self.decimals}f}%"
        return f"{value:,.{self.decimals}f}"

    @property
    def label(self) -> str:
        """The name, with the unit when the value is not a percentage: `MTTR (min)`."""
        return self.name if self.display_format == "percent" else f"{self.name} ({self.unit})"

    @property
    def d3_format(self) -> str:
        """The same display rule as a d3-format string, for chart axes and labels (Vega-Lite)."""
        return f".{self.decimals}%" if self.display_format == "percent" else f",.{self.decimals}f"

    def gap_to_target(self, value: float | None) -> str | None:
        """Signed distance from target (`+4.2 pp`); Streamlit colours a leading `-` as a fall."""
        if self.target is None or value is None or math.isnan(value):
            return None
        if self.display_format == "percent":
            return f"{(value - self.target) * 100:+.{self.decimals}f} pp"
        return f"{value - self.target:+,.{self.decimals}f}"

    def meets_target(self, value: float | None) -> bool | None:
        if self.target is None or value is None or math.isnan(value):
            return None
        return bool(value >= self.target if self.trend == "higher_is_better" else value <= self.target)

    @property
    def delta_color(self) -> Literal["normal", "inverse"]:
        """How `st.metric` should colour a gap: a rise is good unless lower is better."""
        return "normal" if self.trend == "higher_is_better" else "inverse"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return f"no target ({_TREND_WORDS[self.trend]})"
        return f"target {self.format(self.target)} ({_TREND_WORDS[self.trend]})"

    @property
    def help_text(self) -> str:
        """The definition shown on hover: what it means, how it is computed, what good looks like."""
        parts = [f"**{self.name}** = {self.formula}", self.description, self.target_text.capitalize() + "."]
        if self.notes:
            parts.append(self.notes)
        parts.append(f"Catalog definition `{self.id}` v{self.version}.")
        return "\n\n".join(parts)


def kpi_catalog_dir() -> Path:
    """Where the KPI definitions live: `NORTHSTAR_CATALOG_DIR`, else the repository's `catalog/kpis`."""
    return Path(os.environ.get(CATALOG_DIR_ENV) or _DEFAULT_KPI_DIR)


def load_kpis(directory: Path) -> dict[str, Kpi]:
    """Every KPI definition in `directory`, keyed by id."""
    sources = sorted(directory.glob("*.yaml"))
    if not sources:
        raise FileNotFoundError(f"No KPI definitions (*.yaml) in {directory}; set {CATALOG_DIR_ENV} to the catalog.")
    kpis = [Kpi.from_document(yaml.safe_load(source.read_text(encoding="utf-8")), source) for source in sources]
    return {kpi.id: kpi for kpi in kpis}


# Definitions change only through reviewed catalog releases; five minutes lets a new release show up without a
# restart. One entry per catalog directory (normally one).
@st.cache_data(ttl="5m", max_entries=4, show_spinner=False)
def cached_kpis(directory: str) -> dict[str, Kpi]:
    return load_kpis(Path(directory))


def kpi_with_factors(kpis: dict[str, Kpi], kpi_id: str) -> list[Kpi]:
    """A product KPI followed by its factors, in the order its formula names them (OEE: A, E, Q)."""
    headline = kpis[kpi_id]
    return [headline, *(kpis[factor] for factor in headline.factors)]
