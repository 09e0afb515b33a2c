"""The app's display settings, `catalog/apps.yaml`: confidence threshold, period levels and the scorecard board.

Kept in the catalog beside the KPI definitions so that what counts as a trustworthy figure is a reviewed catalog
change, never a constant in a page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

APPS_CONFIG_ENV = "NORTHSTAR_APPS_CONFIG"
_DEFAULT_PATH = Path(__file__).resolve().parent.parent / "catalog" / "apps.yaml"

PERIOD_LEVELS = ("shift", "day", "week", "month")  # docs/kpi-table.md: the period levels of kpi_values
SQDCP_LETTERS = {"S": "Safety", "Q": "Quality", "D": "Delivery", "C": "Cost", "P": "People"}


@dataclass(frozen=True)
class BoardGroup:
    """One group of KPIs on the scorecard board; `letter` is its SQDCP letter, None outside SQDCP."""

    name: str
    letter: str | None
    kpi_ids: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.letter} · {self.name}" if self.letter else self.name


@dataclass(frozen=True)
class AppConfig:
    min_coverage: float
    freshness_contracts: tuple[str, ...]
    period_levels: tuple[str, ...]
    default_period_level: str
    board: tuple[BoardGroup, ...]

    @classmethod
    def from_document(cls, doc: dict[str, Any], source: Path) -> AppConfig:
        try:
            confidence, periods = doc["confidence"], doc["periods"]
            min_coverage = float(confidence["min_coverage"])
            levels = tuple(periods["levels"])
            default = periods["default_level"]
            board = tuple(
                BoardGroup(str(group["name"]), group.get("letter"), tuple(group["kpis"]))
                for group in doc["scorecard"]["board"]
            )
            if not 0 <= min_coverage <= 1:
                raise ValueError(f"confidence.min_coverage {min_coverage} is not a share between 0 and 1")
            if not levels or set(levels) - set(PERIOD_LEVELS) or default not in levels:
                raise ValueError(f"periods: levels {levels} must be among {PERIOD_LEVELS} and hold {default!r}")
            if "shift" in levels:
                raise ValueError("periods: shift codes are plant-local, so the cross-plant pages offer no shift level")
            unknown_letters = {g.letter for g in board if g.letter is not None} - set(SQDCP_LETTERS)
            if unknown_letters:
                raise ValueError(f"scorecard.board: letters {sorted(unknown_letters)} are not SQDCP letters")
            return cls(
                min_coverage=min_coverage,
                freshness_contracts=tuple(confidence["freshness_contracts"]),
                period_levels=levels,
                default_period_level=default,
                board=board,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"App settings {source} are incomplete or invalid: {error!r}") from error

    def board_groups(self, available: Iterable[str], shown_above: Iterable[str]) -> list[BoardGroup]:
        """The groups holding KPIs that have values, less the KPIs shown above the board, in the settings' order.

        KPIs with values that no group names come last, as "Other governed KPIs": a new definition is never hidden.
        """
        remaining = [kpi_id for kpi_id in sorted(set(available)) if kpi_id not in set(shown_above)]
        groups = []
        for group in self.board:
            kpi_ids = tuple(kpi_id for kpi_id in group.kpi_ids if kpi_id in remaining)
            if kpi_ids:
                groups.append(BoardGroup(group.name, group.letter, kpi_ids))
        grouped = {kpi_id for group in self.board for kpi_id in group.kpi_ids}
        others = tuple(kpi_id for kpi_id in remaining if kpi_id not in grouped)
        if others:
            groups.append(BoardGroup("Other governed KPIs", None, others))
        return groups

    def sqdcp_letters_without_kpis(self) -> list[str]:
        """SQDCP letters no board group covers, e.g. `["Safety", "Delivery", "People"]`."""
        covered = {group.letter for group in self.board}
        return [name for letter, name in SQDCP_LETTERS.items() if letter not in covered]


def apps_config_path() -> Path:
    """`NORTHSTAR_APPS_CONFIG`, else the repository's `catalog/apps.yaml`."""
    return Path(os.environ.get(APPS_CONFIG_ENV) or _DEFAULT_PATH)


def load_app_config(path: Path) -> AppConfig:
    return AppConfig.from_document(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path)


# Settings change only through reviewed catalog releases; five minutes lets a release show up without a restart.
@st.cache_data(ttl="5m", max_entries=4, show_spinner=False)
def cached_app_config(path: str) -> AppConfig:
    return load_app_config(Path(path))
