"""The app's view of the KPI catalog: formatting and target rules as the catalog states them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from app_fixtures import KPI_CATALOG_DIR

from apps.catalog_view import kpi_catalog_dir, kpi_with_factors, load_kpis


def write_kpi(directory: Path, **overrides: object) -> None:
    document = yaml.safe_load((KPI_CATALOG_DIR / "quality_ratio.yaml").read_text(encoding="utf-8"))
    (directory / "kpi.yaml").write_text(yaml.safe_dump(document | overrides), encoding="utf-8")


def test_the_default_catalog_is_the_repositorys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORTHSTAR_CATALOG_DIR", raising=False)

    assert kpi_catalog_dir() == KPI_CATALOG_DIR


def test_oee_comes_with_its_factors_in_formula_order() -> None:
    kpis = kpi_with_factors(load_kpis(KPI_CATALOG_DIR), "oee")

    assert [kpi.id for kpi in kpis] == ["oee", "availability", "effectiveness", "quality_ratio"]


def test_percent_values_follow_the_catalog_decimals_and_a_missing_value_shows_a_dash() -> None:
    oee = load_kpis(KPI_CATALOG_DIR)["oee"]

    assert oee.format(0.78449) == "78.4%"
    assert oee.format(None) == "—"
    assert oee.format(float("nan")) == "—"
    assert oee.gap_to_target(0.80) == "-5.0 pp"


def test_a_lower_is_better_kpi_is_on_target_below_it(tmp_path: Path) -> None:
    write_kpi(tmp_path, id="scrap_ratio", name="Scrap ratio", trend="lower_is_better", target=0.02)
    scrap = load_kpis(tmp_path)["scrap_ratio"]

    assert scrap.meets_target(0.015) is True
    assert scrap.meets_target(0.03) is False
    assert scrap.delta_color == "inverse"  # a falling scrap ratio is shown green


def test_an_incomplete_definition_names_its_file(tmp_path: Path) -> None:
    write_kpi(tmp_path, display=None)

    with pytest.raises(ValueError, match="kpi.yaml"):
        load_kpis(tmp_path)
