"""The app's data module: bound parameters, hardened read-only connections, rollups that follow the catalog."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
import yaml
from app_fixtures import DAY_1, DAY_2, KPI_CATALOG_DIR, asset_shift_records

from apps import data

INJECTED_PLANT_FILTERS = ["A' OR '1'='1", "DE-STR' OR '1'='1", "DE-STR'); select * from main_marts.oee_plant_day --"]


@pytest.fixture
def warehouse(warehouse_root: Path) -> str:
    return str(warehouse_root / data.WAREHOUSE_FILE)


@pytest.mark.parametrize("injected", INJECTED_PLANT_FILTERS)
def test_injected_plant_filter_returns_no_rows(warehouse: str, injected: str) -> None:
    assert len(data.plant_kpis(warehouse, ("DE-STR",), DAY_1, DAY_2)) == 1  # the honest filter does match

    assert data.plant_kpis(warehouse, (injected,), DAY_1, DAY_2).empty
    assert data.asset_shift_kpis(warehouse, injected, DAY_1, DAY_2).empty


def test_connections_refuse_external_access_and_cannot_unlock_it(warehouse: str) -> None:
    with data._connect(warehouse) as connection:
        with pytest.raises(duckdb.PermissionException):
            connection.execute("select * from read_csv('/etc/hostname')")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            connection.execute("set enable_external_access = true")


def test_connections_are_read_only(warehouse: str) -> None:
    with data._connect(warehouse) as connection, pytest.raises(duckdb.InvalidInputException, match="read-only"):
        connection.execute("delete from main_marts.oee_plant_day")


def test_two_sessions_can_read_at_once(warehouse: str) -> None:
    # DuckDB shares one database instance per file and process, so a hardening `SET` on a second connection
    # would hit the first one's locked configuration.
    with data._connect(warehouse) as first, data._connect(warehouse) as second:
        assert first.execute("select count(*) from main_marts.oee_plant_day").fetchone() == (6,)
        assert second.execute("select count(*) from main_marts.oee_asset_shift").fetchone() == (10,)


def test_plant_rollup_follows_the_catalog_formulas_as_ratios_of_sums(warehouse: str) -> None:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for record in asset_shift_records():
        for column in ("pbt_s", "apt_s", "pri_pq_s", "pq", "gq"):
            sums[record["plant_id"]][column] += record[column]
    definitions = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(KPI_CATALOG_DIR.glob("*.yaml"))]
    ratios = {d["id"]: d["formula"] for d in definitions if d["formula"]["kind"] == "ratio"}
    products = {d["id"]: d["formula"]["factors"] for d in definitions if d["formula"]["kind"] == "product"}
    assert ratios and products

    rollup = data.plant_kpis(warehouse, tuple(sums), DAY_1, DAY_2).set_index("plant_id")

    for plant_id, plant_sums in sums.items():
        expected = {kpi: plant_sums[f["numerator"]] / plant_sums[f["denominator"]] for kpi, f in ratios.items()}
        for kpi, factors in products.items():
            expected[kpi] = math.prod(expected[factor] for factor in factors)
        assert rollup.loc[plant_id, list(expected)].to_dict() == pytest.approx(expected), plant_id


def test_oee_is_zero_for_a_period_with_planned_time_but_no_output(warehouse: str) -> None:
    (singapore,) = data.plant_kpis(warehouse, ("SG-SIN",), DAY_1, DAY_1).itertuples()

    assert singapore.oee == 0
    assert singapore.availability == 0


def test_warehouse_problem_is_none_when_the_marts_are_ready(warehouse: str) -> None:
    assert data.warehouse_problem(Path(warehouse)) is None


def test_warehouse_problem_reports_an_empty_mart(tmp_path: Path) -> None:
    path = tmp_path / data.WAREHOUSE_FILE
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema main_marts")
        connection.execute("create table main_marts.oee_plant_day (plant_id varchar)")
        connection.execute("create table main_marts.oee_asset_shift (plant_id varchar)")

    assert "is empty" in data.warehouse_problem(path)


def test_data_root_defaults_to_the_local_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORTHSTAR_DATA_ROOT", raising=False)

    assert data.warehouse_path() == Path("data") / "published.duckdb"
