"""AppTest runs of the Northstar app against the hand-built published layer in `app_fixtures`.

Expected figures are worked out by hand from `app_fixtures.ASSET_SHIFT_ROWS` as ratios of sums over the period:
OEE = sum(PRI x PQ) / sum(PBT) x sum(GQ) / sum(PQ), which equals A x E x Q over the same sums. The default period
is the latest month, June 2026, which holds both days.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from app_fixtures import (
    APP_ENTRYPOINT,
    APPS_CONFIG,
    BLOCKED_REASONS,
    DATA_AS_OF_TEXT,
    DAY_1,
    DAY_2,
    KPI_CATALOG_DIR,
    LOWER_THRESHOLD,
    PLANT_NAMES,
    build_published,
    edit_apps_config,
    governed_catalog,
)
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from apps.data import Period

# plant -> OEE over both days, from sums: PRI x PQ / PBT x GQ / PQ
EXPECTED_OEE = {
    "DE-STR": "74.2%",  # 123,750 / 162,000 x 5,440 / 5,600 = 0.7421
    "MX-MTY": "76.0%",  # 62,000 / 79,200 x 3,010 / 3,100 = 0.7601 (coverage 80%: low confidence)
    "SG-SIN": "48.2%",  # 22,800 / 46,800 x 1,188 / 1,200 = 0.4823 (the mean of daily OEEs, 41.8%, would be wrong)
}
DRILLDOWN = "app_pages/plant_drilldown.py"


def run_app(*, timeout: float = 30) -> AppTest:
    return AppTest.from_file(str(APP_ENTRYPOINT), default_timeout=timeout).run()


def metric_in(at: AppTest, key: str):
    """The metric inside the keyed container, the same hook the browser test uses (CSS `st-key-<key>`)."""
    (metric,) = [node for node in at.get_by_key(key) if node.type == "metric"]
    return metric


def catalog_document(kpi_id: str) -> dict:
    return yaml.safe_load((KPI_CATALOG_DIR / f"{kpi_id}.yaml").read_text(encoding="utf-8"))


def chart_rows(at: AppTest) -> list[dict]:
    """The data rows of every Vega-Lite chart on the page (Streamlit sends Altair's datasets as Arrow)."""
    rows = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            rows.extend(convert_arrow_bytes_to_pandas_df(dataset.data.data).to_dict("records"))
    return rows


@pytest.fixture(scope="module")
def scorecard(module_app_env: Path) -> AppTest:
    """One run of the default page, shared by the tests that only read it."""
    at = run_app()
    assert not at.exception
    return at


# --- every page: data as of, blocked publication -------------------------------------------------------------------


def test_scorecard_says_when_the_published_data_was_built(scorecard: AppTest) -> None:
    assert any(DATA_AS_OF_TEXT in caption.value for caption in scorecard.caption)


def test_a_blocked_publication_is_a_warning_naming_the_check_expectation_and_failing_count(scorecard: AppTest) -> None:
    (warning,) = [w for w in scorecard.warning if "failed these checks" in w.value]
    reason = BLOCKED_REASONS[0]

    assert reason["check"] in warning.value
    assert reason["expectation"] in warning.value
    assert f"{reason['failing']} failing" in warning.value
    assert "last good data, as of 01 Jul 2026, 05:00 UTC" in warning.value
    assert metric_in(scorecard, "oee-DE-STR").value == EXPECTED_OEE["DE-STR"]  # the last good data is still shown


def test_drilldown_shows_the_data_as_of_and_the_blocked_warning_too(app_env: Path) -> None:
    at = run_app()
    at.switch_page(DRILLDOWN).run()

    assert not at.exception
    assert any(DATA_AS_OF_TEXT in caption.value for caption in at.caption)
    assert BLOCKED_REASONS[0]["expectation"] in at.warning[0].value


def test_after_a_good_publication_there_is_no_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_published(tmp_path, blocked=False)
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))

    at = run_app()

    assert not at.exception and not at.warning
    assert any(DATA_AS_OF_TEXT in caption.value for caption in at.caption)


def test_a_file_without_publication_log_says_the_as_of_time_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_published(tmp_path, logged=False)
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))

    at = run_app()

    assert not at.exception
    assert any("Data as of: unknown" in caption.value for caption in at.caption)
    assert metric_in(at, "oee-SG-SIN").value == EXPECTED_OEE["SG-SIN"]


# --- scorecard ------------------------------------------------------------------------------------------------------


def test_scorecard_shows_each_plants_oee_as_a_ratio_of_sums(scorecard: AppTest) -> None:
    for plant_id, expected in EXPECTED_OEE.items():
        metric = metric_in(scorecard, f"oee-{plant_id}")
        assert (metric.label, metric.value) == (PLANT_NAMES[plant_id], expected)


def test_scorecard_shows_the_oee_factors_per_plant(scorecard: AppTest) -> None:
    # Stuttgart: A = 137,000 / 162,000; E = 123,750 / 137,000; Q = 5,440 / 5,600
    assert metric_in(scorecard, "availability-DE-STR").value == "84.6%"
    assert metric_in(scorecard, "effectiveness-DE-STR").value == "90.3%"
    assert metric_in(scorecard, "quality_ratio-DE-STR").value == "97.1%"


def test_scorecard_labels_definitions_and_targets_come_from_the_catalog(scorecard: AppTest) -> None:
    kpi_ids = ["oee", "availability", "effectiveness", "quality_ratio"]
    documents = {kpi_id: catalog_document(kpi_id) for kpi_id in kpi_ids}
    assert [subheader.value for subheader in scorecard.subheader][:4] == [documents[k]["name"] for k in kpi_ids]
    for kpi_id, document in documents.items():
        metric = metric_in(scorecard, f"{kpi_id}-DE-STR")
        assert document["description"].strip() in metric.help
        assert document["formula"]["text"] in metric.help
        assert f"{document['target'] * 100:.1f}%" in metric.proto.delta_description
    # Stuttgart's OEE 74.2% is 10.8 points below the 85% target: a negative delta, which Streamlit shows in red.
    stuttgart = metric_in(scorecard, "oee-DE-STR")
    assert (stuttgart.delta, stuttgart.proto.color) == ("-10.8 pp", MetricProto.MetricColor.RED)


def test_a_low_coverage_value_is_greyed_with_its_reason_on_hover(scorecard: AppTest) -> None:
    monterrey = metric_in(scorecard, "oee-MX-MTY")

    assert monterrey.value == EXPECTED_OEE["MX-MTY"]  # still shown, never hidden
    assert monterrey.proto.color == MetricProto.MetricColor.GRAY  # not red, although 9 points below target
    assert monterrey.help.startswith("Low confidence: coverage 80% of planned time is below the 90% minimum")
    assert scorecard.get_by_key("low-confidence-oee-MX-MTY")  # the hook that greys the value, not only the delta
    with pytest.raises(KeyError):
        scorecard.get_by_key("low-confidence-oee-DE-STR")
    assert metric_in(scorecard, "oee-DE-STR").help.startswith("Confidence OK. (coverage 100%")


def test_the_board_groups_the_other_governed_kpis_sqdcp_style(scorecard: AppTest) -> None:
    subheaders = [subheader.value for subheader in scorecard.subheader]
    assert "Q · Quality" in subheaders and "Equipment effectiveness" in subheaders
    assert "C · Cost" not in subheaders  # energy per good unit is not in this publication
    board = {(row["KPI"], row["Plant"]): row for row in chart_rows(scorecard) if "Status" in row}

    scrap = catalog_document("scrap_ratio")
    stuttgart_scrap = board[(scrap["name"], "Stuttgart")]
    assert stuttgart_scrap["shown"] == "2.34%"  # 131 / 5,600, above the 2% target
    assert stuttgart_scrap["Status"] == "off target"
    assert scrap["formula"]["text"] == stuttgart_scrap["Formula"]
    monterrey_scrap = board[(scrap["name"], "Monterrey")]
    assert monterrey_scrap["Status"] == "low confidence"
    assert "coverage 80%" in monterrey_scrap["Confidence"]


def test_scorecard_follows_a_changed_catalog_definition_and_threshold(
    app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "kpis"
    shutil.copytree(KPI_CATALOG_DIR, catalog)
    oee = catalog_document("oee") | {"name": "OEE (trial)", "display": {"format": "percent", "decimals": 2}}
    (catalog / "oee.yaml").write_text(yaml.safe_dump(oee | {"target": 0.70}), encoding="utf-8")
    settings = yaml.safe_load(APPS_CONFIG.read_text(encoding="utf-8"))
    settings["confidence"]["min_coverage"] = 0.75
    (tmp_path / "apps.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    monkeypatch.setenv("NORTHSTAR_CATALOG_DIR", str(catalog))
    monkeypatch.setenv("NORTHSTAR_APPS_CONFIG", str(tmp_path / "apps.yaml"))

    at = run_app()

    assert "OEE (trial)" in [subheader.value for subheader in at.subheader]
    stuttgart = metric_in(at, "oee-DE-STR")
    assert (stuttgart.value, stuttgart.delta) == ("74.21%", "+4.21 pp")
    assert metric_in(at, "oee-MX-MTY").proto.color == MetricProto.MetricColor.GREEN  # 80% coverage now suffices
    (banner,) = settings_banners(at)  # the override is used, and said to be ungoverned
    assert banner.value.startswith(f"**Not governed:** the app settings come from `{tmp_path / 'apps.yaml'}`")
    assert "`NORTHSTAR_APPS_CONFIG`" in banner.value and "`apps:config`" in banner.value


def test_scorecard_shows_the_chosen_day(app_env: Path) -> None:
    at = run_app()

    at.radio[0].set_value("day").run()
    at.selectbox[0].set_value(Period("day", DAY_1, DAY_2)).run()

    # Stuttgart on 1 June: 78,750 / 108,000 x 3,430 / 3,550 = 0.7045
    assert metric_in(at, "oee-DE-STR").value == "70.5%"
    assert metric_in(at, "oee-MX-MTY").proto.color != MetricProto.MetricColor.GRAY  # its day 1 is fully covered


def test_scorecard_shows_only_the_chosen_plants(app_env: Path) -> None:
    at = run_app()

    at.multiselect[0].set_value(["SG-SIN"]).run()

    assert [metric.label for metric in at.metric] == ["Singapore"] * 4


# --- governance of the app settings (apps:config) -------------------------------------------------------------------


def settings_banners(at: AppTest) -> list:
    """The warnings and errors about the app settings (`apps:config`), apart from the publication warning."""
    return [alert for alert in [*at.warning, *at.error] if "apps:config" in alert.value]


@pytest.fixture
def catalog_root(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the app on a governed copy of the catalog (`app_fixtures.governed_catalog`); returns the copy."""

    def point(*, approved: bool = True) -> Path:
        catalog = governed_catalog(tmp_path, approved=approved)
        monkeypatch.setenv("NORTHSTAR_CATALOG_ROOT", str(catalog))
        return catalog

    return point


def test_approved_settings_are_used_without_a_banner(catalog_root) -> None:
    catalog_root()

    at = run_app()

    assert not at.exception and not at.error
    assert settings_banners(at) == []
    assert metric_in(at, "oee-DE-STR").value == EXPECTED_OEE["DE-STR"]
    assert metric_in(at, "oee-MX-MTY").proto.color == MetricProto.MetricColor.GRAY  # 80% coverage, below 90%


def test_edited_settings_are_replaced_by_the_last_approved_version_with_a_banner_on_every_page(catalog_root) -> None:
    catalog = catalog_root()
    edit_apps_config(catalog, *LOWER_THRESHOLD)  # 75%: Monterrey's 80% month would be trusted

    at = run_app()

    assert not at.exception and not at.error
    (banner,) = settings_banners(at)
    assert banner.value.startswith("**`apps:config` is changed since approval**")
    assert "uses the last approved version (P-1, " in banner.value
    assert "`northstar catalog propose apps:config --as <member>" in banner.value
    assert metric_in(at, "oee-DE-STR").value == EXPECTED_OEE["DE-STR"]
    assert metric_in(at, "oee-MX-MTY").proto.color == MetricProto.MetricColor.GRAY  # the approved 90% still applies
    assert any("coverage below 90%" in caption.value for caption in at.caption)

    at.switch_page(DRILLDOWN).run()

    assert not at.exception
    (banner,) = settings_banners(at)
    assert banner.value.startswith("**`apps:config` is changed since approval**")


def test_never_approved_settings_stop_the_app_with_an_error_saying_what_to_do(catalog_root) -> None:
    catalog_root(approved=False)

    at = run_app()

    assert not at.exception
    (banner,) = settings_banners(at)
    assert banner in list(at.error)
    assert banner.value.startswith("**`apps:config` is never approved**")
    assert "The app shows no KPIs" in banner.value
    assert "`northstar catalog propose apps:config --as <member>" in banner.value
    assert list(at.metric) == [] and list(at.get("vega_lite_chart")) == []
    assert any(DATA_AS_OF_TEXT in caption.value for caption in at.caption)  # the frame above it still renders


# --- plant drilldown ------------------------------------------------------------------------------------------------


def test_drilldown_shows_oee_by_asset_and_day_with_the_loss_waterfall(app_env: Path) -> None:
    at = run_app()
    at.switch_page(DRILLDOWN).run()

    at.selectbox[0].set_value("DE-STR").run()

    assert not at.exception
    assert at.header[0].value == "Stuttgart"
    assert metric_in(at, "oee-DE-STR").value == EXPECTED_OEE["DE-STR"]
    cells = at.dataframe[0].value.set_index(["asset_id", "sub_period"])["oee"]
    assert cells.to_dict() == pytest.approx(
        {
            ("DE-STR:P1", "Mon 01"): 0.81,  # 44,550 / 54,000 x 1,620 / 1,650
            ("DE-STR:P2", "Mon 01"): 0.603333,  # 34,200 / 54,000 x 1,810 / 1,900
            ("DE-STR:P1", "Tue 02"): 0.89,  # 24,300 / 27,000 x 890 / 900
            ("DE-STR:P2", "Tue 02"): 0.746667,  # 20,700 / 27,000 x 1,120 / 1,150
        },
        abs=1e-6,
    )
    steps = {row["Step"]: row for row in chart_rows(at) if "Lowers" in row}
    assert steps["Planned busy time (PBT)"]["Hours"] == 45.0  # 162,000 s
    assert steps["OEE time (PRI x GQ)"]["Hours"] == pytest.approx(
        45.0 - sum(row["Hours"] for row in steps.values() if row["Lowers"].endswith("loss")), abs=0.05
    )


def test_drilldown_of_a_day_greys_the_low_coverage_shift_with_its_reason(app_env: Path) -> None:
    at = run_app()
    at.switch_page(DRILLDOWN).run()
    at.selectbox[0].set_value("MX-MTY").run()
    at.radio[0].set_value("day").run()

    detail = at.dataframe[0].value.set_index("sub_period")
    assert detail.loc["T1", "oee"] == pytest.approx(0.848485, abs=1e-6)  # 34,000 / 39,600 x 1,680 / 1,700
    assert detail.loc["T1", "confidence"] == "coverage 60% of planned time is below the 90% minimum"
    (cell,) = [row for row in chart_rows(at) if row.get("sub_period") == "T1"]
    assert cell["low_confidence"] is True and "coverage 60%" in cell["Confidence"]
    assert metric_in(at, "oee-MX-MTY").proto.color == MetricProto.MetricColor.GRAY


def test_drilldown_without_the_losses_mart_explains_the_missing_waterfall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_published(tmp_path, with_losses=False)
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))

    at = run_app()
    at.switch_page(DRILLDOWN).run()

    assert not at.exception
    assert "main_marts.oee_losses_asset_shift" in at.info[0].value
    assert at.dataframe, "the asset detail still shows"


# --- nothing published ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [None, DRILLDOWN])
def test_missing_published_file_explains_how_to_build_it(
    page: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))
    at = run_app()
    if page:
        at.switch_page(page).run()

    assert not at.exception
    assert "make demo" in at.warning[0].value
    assert str(tmp_path / "published.duckdb") in at.warning[0].value


def test_a_first_blocked_publication_says_why_although_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quality.publication import record_blocked

    record_blocked(tmp_path / "published.duckdb", run_id="first", reasons=BLOCKED_REASONS)
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))

    at = run_app()

    assert not at.exception
    blocked, missing = at.warning
    assert "Nothing has been published yet" in blocked.value and BLOCKED_REASONS[0]["check"] in blocked.value
    assert "main_marts.kpi_values" in missing.value and "make demo" in missing.value


def test_published_file_without_the_kpi_table_explains_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duckdb.connect(str(tmp_path / "published.duckdb")).close()
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))

    at = run_app()

    assert not at.exception
    assert "main_marts.kpi_values" in at.warning[0].value
    assert "make demo" in at.warning[0].value
