"""AppTest runs of the Northstar app against the hand-built warehouse in `app_fixtures`.

Expected figures are worked out by hand from `app_fixtures.ASSET_SHIFT_ROWS` as ratios of sums:
OEE = sum(PRI x PQ) / sum(PBT) x sum(GQ) / sum(PQ), which equals A x E x Q over the same sums.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from app_fixtures import APP_ENTRYPOINT, DAY_1, KPI_CATALOG_DIR, PLANT_NAMES
from streamlit.testing.v1 import AppTest

# plant -> OEE over both days, from sums: PRI x PQ / PBT x GQ / PQ
EXPECTED_OEE = {
    "DE-STR": "74.2%",  # 123,750 / 162,000 x 5,440 / 5,600 = 0.7421
    "MX-MTY": "76.0%",  # 62,000 / 79,200 x 3,010 / 3,100 = 0.7601
    "SG-SIN": "48.2%",  # 22,800 / 46,800 x 1,188 / 1,200 = 0.4823 (the mean of daily OEEs, 41.8%, would be wrong)
}


def run_app(*, timeout: float = 30) -> AppTest:
    return AppTest.from_file(str(APP_ENTRYPOINT), default_timeout=timeout).run()


def metric_in(at: AppTest, key: str):
    """The metric inside the keyed container, the same hook the browser test uses (CSS `st-key-<key>`)."""
    (metric,) = [node for node in at.get_by_key(key) if node.type == "metric"]
    return metric


def catalog_document(kpi_id: str) -> dict:
    return yaml.safe_load((KPI_CATALOG_DIR / f"{kpi_id}.yaml").read_text(encoding="utf-8"))


def test_scorecard_shows_each_plants_oee_as_a_ratio_of_sums(app_env: Path) -> None:
    at = run_app()

    assert not at.exception
    for plant_id, expected in EXPECTED_OEE.items():
        metric = metric_in(at, f"oee-{plant_id}")
        assert (metric.label, metric.value) == (PLANT_NAMES[plant_id], expected)


def test_scorecard_shows_the_oee_factors_per_plant(app_env: Path) -> None:
    at = run_app()

    # Stuttgart: A = 137,000 / 162,000; E = 123,750 / 137,000; Q = 5,440 / 5,600
    assert metric_in(at, "availability-DE-STR").value == "84.6%"
    assert metric_in(at, "effectiveness-DE-STR").value == "90.3%"
    assert metric_in(at, "quality_ratio-DE-STR").value == "97.1%"


def test_scorecard_labels_definitions_and_targets_come_from_the_catalog(app_env: Path) -> None:
    at = run_app()

    kpi_ids = ["oee", "availability", "effectiveness", "quality_ratio"]
    documents = {kpi_id: catalog_document(kpi_id) for kpi_id in kpi_ids}
    assert [subheader.value for subheader in at.subheader][:4] == [documents[k]["name"] for k in kpi_ids]
    for kpi_id, document in documents.items():
        metric = metric_in(at, f"{kpi_id}-DE-STR")
        assert document["description"].strip() in metric.help
        assert document["formula"]["text"] in metric.help
        assert f"{document['target'] * 100:.1f}%" in metric.proto.delta_description
    # Stuttgart's OEE 74.2% is 10.8 points below the 85% target: a negative delta, which Streamlit shows in red.
    assert metric_in(at, "oee-DE-STR").delta == "-10.8 pp"


def test_scorecard_follows_a_changed_catalog_definition(
    app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "kpis"
    shutil.copytree(KPI_CATALOG_DIR, catalog)
    oee = catalog_document("oee") | {"name": "OEE (trial)", "display": {"format": "percent", "decimals": 2}}
    (catalog / "oee.yaml").write_text(yaml.safe_dump(oee | {"target": 0.70}), encoding="utf-8")
    monkeypatch.setenv("NORTHSTAR_CATALOG_DIR", str(catalog))

    at = run_app()

    assert "OEE (trial)" in [subheader.value for subheader in at.subheader]
    stuttgart = metric_in(at, "oee-DE-STR")
    assert (stuttgart.value, stuttgart.delta) == ("74.21%", "+4.21 pp")


def test_scorecard_rolls_up_only_the_chosen_period(app_env: Path) -> None:
    at = run_app()

    at.date_input[0].set_value((DAY_1, DAY_1)).run()

    # Stuttgart on 1 June: 78,750 / 108,000 x 3,430 / 3,550 = 0.7045
    assert metric_in(at, "oee-DE-STR").value == "70.5%"


def test_scorecard_shows_only_the_chosen_plants(app_env: Path) -> None:
    at = run_app()

    at.multiselect[0].set_value(["SG-SIN"]).run()

    assert [metric.label for metric in at.metric] == ["Singapore"] * 4


def test_drilldown_shows_oee_by_asset_and_shift(app_env: Path) -> None:
    at = run_app()
    at.switch_page("app_pages/plant_drilldown.py").run()

    at.selectbox[0].set_value("DE-STR").run()

    assert not at.exception
    assert at.header[0].value == "Stuttgart"
    assert metric_in(at, "oee-DE-STR").value == EXPECTED_OEE["DE-STR"]
    cells = at.dataframe[0].value.set_index(["asset_id", "shift_code"])["oee"]
    assert cells.to_dict() == pytest.approx(
        {
            ("DE-STR:P1", "F"): 0.835,  # 45,900 / 54,000 x 1,670 / 1,700
            ("DE-STR:P1", "S"): 0.840,  # 22,950 / 27,000 x 840 / 850
            ("DE-STR:P2", "F"): 0.686667,  # 38,700 / 54,000 x 2,060 / 2,150
            ("DE-STR:P2", "S"): 0.580,  # 16,200 / 27,000 x 870 / 900
        },
        abs=1e-6,
    )
    assert at.get("vega_lite_chart"), "the asset x shift heatmap is missing"


@pytest.mark.parametrize("page", [None, "app_pages/plant_drilldown.py"])
def test_missing_warehouse_explains_how_to_build_it(
    page: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))
    at = run_app()
    if page:
        at.switch_page(page).run()

    assert not at.exception
    assert "make demo" in at.warning[0].value
    assert str(tmp_path / "published.duckdb") in at.warning[0].value


def test_warehouse_without_marts_explains_how_to_build_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    duckdb.connect(str(tmp_path / "published.duckdb")).close()
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))

    at = run_app()

    assert not at.exception
    assert "main_marts.oee_plant_day" in at.warning[0].value
    assert "make demo" in at.warning[0].value
