"""The app's display settings, `catalog/apps.yaml`: confidence threshold, period levels and the scorecard board.

Kept in the catalog beside the KPI definitions so that what counts as a trustworthy figure is a reviewed catalog
change, never a constant in a page. The file is the governed item `apps:config`, and the app honours its approval
(`app_config_in_use`):

- approved as it is: the file is used, nothing is said;
- edited since its approval: the last approved version (kept in the governance snapshots) is used, and a banner names
  the item, its status and the commands that would approve the edit;
- never approved, or nothing approved can be trusted (the ledger fails verification, the snapshot is gone): the app
  refuses to show KPIs, with a banner saying why and what to do;
- `NORTHSTAR_APPS_CONFIG` (a development override) is used as it is, flagged "not governed" on every page.

The catalog is the one `NORTHSTAR_CATALOG_ROOT` names when the settings are read (else the repository's).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from catalog import catalog_dir
from catalog.governance import GovernanceError, Workspace, governed_content
from catalog.governance.items import APPS_ITEM, short

APPS_CONFIG_ENV = "NORTHSTAR_APPS_CONFIG"

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
    """`NORTHSTAR_APPS_CONFIG` (a development override, not governed), else the catalog's `apps.yaml`."""
    return Path(os.environ.get(APPS_CONFIG_ENV) or catalog_dir() / "apps.yaml")


def load_app_config(path: Path) -> AppConfig:
    return AppConfig.from_document(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path)


# How the settings in use relate to governance (ConfigInUse.mode).
APPROVED = "approved"  # the catalog file, approved as it is
LAST_APPROVED = "last approved version"  # the file is not approved as it is; its last approved content is used
REFUSED = "refused"  # nothing approved to use: the pages show no KPIs
NOT_GOVERNED = "not governed"  # the NORTHSTAR_APPS_CONFIG override


@dataclass(frozen=True)
class ConfigInUse:
    """The app settings the pages use, where they come from, and what the user must be told about them."""

    config: AppConfig | None  # None when refused
    mode: str  # APPROVED | LAST_APPROVED | REFUSED | NOT_GOVERNED
    state: str  # the governance status of the catalog file (`northstar catalog status`), or "not governed"
    source: str  # the file, or which approved version of it
    notice: str  # the banner text (Markdown); empty when the settings are approved as they are

    @property
    def item(self) -> str:
        return APPS_ITEM


def _parse(content: bytes, source: Path) -> AppConfig:
    return AppConfig.from_document(yaml.safe_load(content.decode("utf-8")) or {}, source)


def governed_app_config() -> ConfigInUse:
    """The settings the app may use under governance (see the module docstring); never the unapproved file."""
    override = os.environ.get(APPS_CONFIG_ENV)
    if override:
        path = Path(override)
        return ConfigInUse(
            load_app_config(path),
            NOT_GOVERNED,
            NOT_GOVERNED,
            str(path),
            f"**Not governed:** the app settings come from `{path}` (`{APPS_CONFIG_ENV}`, a development override), "
            f"not from the approved `{APPS_ITEM}`. Thresholds and the board shown here are not approved; unset "
            f"`{APPS_CONFIG_ENV}` to use the governed settings.",
        )
    root = catalog_dir()
    path = root / "apps.yaml"
    try:
        governed = governed_content(APPS_ITEM, workspace=Workspace.of(root))
    except GovernanceError as error:
        remedy = "fix `governance.yaml` or the ledger (`northstar catalog validate`, `northstar catalog verify`)"
        return _refused(path, "unreadable", f"the governance state cannot be read ({error})", remedy)
    if governed.content is None:
        return _refused(path, governed.state, governed.reason, governed.remedy)
    approved = governed.approved
    source = path if governed.current else Path(f"{path} as approved in P-{approved.proposal}")
    try:
        config = _parse(governed.content, source)
    except (ValueError, yaml.YAMLError) as error:
        remedy = f"propose and approve settings the app can read (`northstar catalog propose {APPS_ITEM}` ...)"
        return _refused(path, governed.state, f"its approved content cannot be read by the app: {error}", remedy)
    if governed.current:
        return ConfigInUse(config, APPROVED, governed.state, str(path), "")
    return ConfigInUse(
        config,
        LAST_APPROVED,
        governed.state,
        str(source),
        f"**`{APPS_ITEM}` is {governed.state}**: {governed.reason}. The app ignores the edited `{path}` and uses the "
        f"last approved version (P-{approved.proposal}, {short(approved.hash)}, approved by "
        f"{' and '.join(approved.approvers)}). To use the edit: {governed.remedy}.",
    )


def _refused(path: Path, state: str, reason: str, remedy: str) -> ConfigInUse:
    todo = f" To fix: {remedy}." if remedy else ""
    return ConfigInUse(
        None,
        REFUSED,
        state,
        str(path),
        f"**`{APPS_ITEM}` is {state}**: {reason}. The app shows no KPIs with app settings the governance body has "
        f"not approved.{todo}",
    )


def _signature(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size


def _fingerprint() -> tuple:
    """What `governed_app_config` depends on: the environment and the files it reads (changed: read again)."""
    override = os.environ.get(APPS_CONFIG_ENV)
    root = catalog_dir()
    governance_dir = Workspace.of(root).governance_dir
    files = (
        [Path(override)]
        if override
        else [
            root / "apps.yaml",
            root / "governance.yaml",
            governance_dir / "ledger.jsonl",
            governance_dir / "snapshots",
        ]
    )
    return override, str(root), str(governance_dir), tuple(_signature(path) for path in files)


@st.cache_data(ttl="5m", max_entries=8, show_spinner=False)
def _cached_app_config(fingerprint: tuple) -> ConfigInUse:
    return governed_app_config()


def app_config_in_use() -> ConfigInUse:
    """`governed_app_config`, read again whenever the settings, the governance config or the ledger change."""
    return _cached_app_config(_fingerprint())
