"""The public datasets as plants of the network (ingestion/public): landing extracts the real ingestion reads, truths
recomputed here from the raw files, and every quirk counted in the quirk report.

The raw datasets are read directly in these tests (csv module), independently of the adapters, so a test fails if
an adapter drops, invents or misplaces a row.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from deltalake import DeltaTable

from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.extracts import ingest_table
from ingestion.public import datasets_dir
from ingestion.public.steel_energy import iter_steel_readings
from ingestion.simulator import generate_network, iter_sensor_readings

DATASETS = datasets_dir()
CATALOG = Path(__file__).resolve().parents[2] / "catalog"
pytestmark = pytest.mark.skipif(not DATASETS.is_dir(), reason=f"public datasets not found at {DATASETS}")


@pytest.fixture(scope="module")
def public_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("public")
    generate_network("public", root)
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _truth(root: Path, name: str) -> list[dict]:
    return pq.read_table(root / "simulator/ground_truth" / f"{name}.parquet").to_pylist()


def _quirks(root: Path) -> dict[tuple[str, str], dict]:
    report = json.loads((root / "simulator/public/quirks.json").read_text(encoding="utf-8"))
    return {(q["dataset"], q["quirk"]): q for q in report}


# --- supplier quality ---------------------------------------------------------------------------------------------


def test_the_quality_extract_keeps_every_fact_row_in_order(public_root: Path) -> None:
    facts = _csv(DATASETS / "supplier_quality/Metrics.csv")
    plants = {str(int(float(r["Plant ID"]))): r["Plant"] for r in _csv(DATASETS / "supplier_quality/Plant.csv")}
    [landed_file] = (public_root / "landing/PUB-SQA/erp").glob("supplier_quality_*.csv")
    landed = _csv(landed_file)
    assert len(landed) == len(facts) == 6145
    for fact, row in zip(facts, landed):
        assert row["Date"] == fact["Date"] and row["Plant"] == plants[str(int(float(fact["Plant ID"])))]
        assert row["Defect Qty"] == str(int(float(fact["Defect Qty"])))
        assert row["Vendor ID"] == str(int(float(fact["Vendor ID"])))


def test_the_quality_extract_lands_in_bronze_with_duplicates_and_raw_names(public_root: Path, tmp_path: Path) -> None:
    result = ingest_table(get_contract("bronze.erp.supplier_quality"), {"PUB-SQA": load_plants()["PUB-SQA"]},
                          public_root / "landing", tmp_path / "lake")
    outcome = result.plants["PUB-SQA"]
    assert outcome.rows_loaded == 6145 and outcome.rows_rejected == 0
    rows = DeltaTable(str(tmp_path / "lake/bronze/erp/supplier_quality")).to_pyarrow_table().to_pylist()
    business = Counter(tuple(v for k, v in r.items() if k not in ("source_line", "ingested_at")) for r in rows)
    assert sum(n - 1 for n in business.values()) == 193  # the duplicates arrive in bronze, for dbt to count
    assert {"Milwaukee, Wi", "Cincinnati OH", "Detriot, MI"} <= {r["plant_name"] for r in rows}


def test_every_plant_name_of_the_sample_resolves_through_the_governed_mapping() -> None:
    document = yaml.safe_load((CATALOG / "mappings/plant_names.yaml").read_text(encoding="utf-8"))
    mapped = {m["local_name"]: m["enterprise_plant_id"] for m in document["mappings"] if m["source_plant_id"] == "PUB-SQA"}
    names = [r["Plant"] for r in _csv(DATASETS / "supplier_quality/Plant.csv")]
    assert set(names) == set(mapped) and len(set(mapped.values())) == 24
    assert set(mapped.values()) == set(document["enterprise_plants"])
    assert document["enterprise_plants"][mapped["Detriot, MI"]]["name"] == "Detroit, MI"


def test_defect_quantity_and_downtime_per_year_and_enterprise_plant(public_root: Path) -> None:
    document = yaml.safe_load((CATALOG / "mappings/plant_names.yaml").read_text(encoding="utf-8"))
    mapped = {m["local_name"]: m["enterprise_plant_id"] for m in document["mappings"] if m["source_plant_id"] == "PUB-SQA"}
    plants = {r["Plant ID"]: r["Plant"] for r in _csv(DATASETS / "supplier_quality/Plant.csv")}
    seen: set[tuple] = set()
    expected: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0, 0])
    for fact in _csv(DATASETS / "supplier_quality/Metrics.csv"):
        acc = expected[(mapped[plants[fact["Plant ID"]]], int(fact["Date"][:4]))]
        qty, minutes = float(fact["Defect Qty"]), float(fact["Downtime min"])
        acc[1] += qty
        acc[3] += minutes
        key = tuple(fact.values())
        if key in seen:
            acc[4] += 1
        else:
            acc[0] += qty
            acc[2] += minutes
            seen.add(key)
    rows = _truth(public_root, "public_supplier_quality")
    assert len(rows) == len(expected)
    assert {r["enterprise_plant_id"] for r in rows} == set(document["enterprise_plants"])
    for row in rows:
        qty, qty_all, minutes, minutes_all, duplicates = expected[(row["enterprise_plant_id"], row["year"])]
        assert (row["defect_qty"], row["defect_qty_with_duplicates"]) == (qty, qty_all)
        assert (row["downtime_min"], row["downtime_min_with_duplicates"]) == (minutes, minutes_all)
        assert row["duplicate_rows"] == duplicates
    assert sum(r["duplicate_rows"] for r in rows) == 193 and {r["year"] for r in rows} == {2013, 2014}


# --- steel energy -------------------------------------------------------------------------------------------------


def test_the_steel_replay_moves_each_midnight_reading_to_the_end_of_its_day() -> None:
    readings = list(iter_steel_readings())
    assert len(readings) == 35_040 * 6
    usage = [r for r in readings if r.tag == "usage_kwh"]
    assert len({r.ts for r in usage}) == 35_040  # no two rows at one instant: the quirk created no collision
    assert [r.ts for r in usage] == sorted(r.ts for r in usage)  # in time order once 24:00 is read as 24:00
    # Line 97 of the file, "01/01/2018 0:00", follows 23:45 of 1 January: it is 2 January 00:00 in Seoul.
    assert usage[95].ts == dt.datetime(2018, 1, 1, 15, 0, tzinfo=dt.UTC) and usage[95].value == 3.42
    assert usage[-1].ts == dt.datetime(2018, 12, 31, 15, 0, tzinfo=dt.UTC)  # "31/12/2018 00:00" = 2019-01-01 00:00 KST
    assert {r.plant_id for r in readings} == {"KR-GWY"} and {r.asset_local_id for r in readings} == {"GWY-MAIN"}


def test_the_steel_daily_truth_and_the_naive_reading_differ_by_the_quirk(public_root: Path) -> None:
    rows = _csv(DATASETS / "steel_energy/Steel_industry_data.csv")
    daily = _truth(public_root, "public_steel_energy_daily")
    assert len(daily) == 365 and all(d["readings"] == 96 for d in daily)
    assert sum(d["usage_kwh"] for d in daily) == pytest.approx(sum(float(r["Usage_kWh"]) for r in rows))
    first = daily[0]
    literal_first_day = [r for r in rows if r["date"].startswith("01/01/2018") and not r["date"].endswith(" 0:00")]
    own_midnight = float(next(r for r in rows if r["date"] == "01/01/2018 0:00")["Usage_kWh"])
    next_midnight = float(next(r for r in rows if r["date"] == "02/01/2018 0:00")["Usage_kWh"])
    assert own_midnight == 3.42
    assert first["usage_kwh"] == pytest.approx(sum(float(r["Usage_kWh"]) for r in literal_first_day) + own_midnight)
    # Read literally, 1 January loses its own 24:00 reading and gains 2 January's.
    assert first["usage_kwh_naive"] == pytest.approx(first["usage_kwh"] - own_midnight + next_midnight)


def test_the_public_network_publishes_the_steel_stream_and_records_it_as_truth(public_root: Path) -> None:
    published = list(iter_sensor_readings("public"))
    truth = pq.read_table(public_root / "simulator/ground_truth/sensor_readings.parquet")
    assert len(published) == truth.num_rows == 210_240
    assert {json.loads(r.kafka_value())["unit"] for r in published} == {"kWh", "kVArh", "tCO2", "%"}


# --- MES sample ---------------------------------------------------------------------------------------------------


def test_the_vendor_formula_recomputed_from_the_landed_elements_equals_the_vendor_oee(public_root: Path) -> None:
    rows = _truth(public_root, "public_mes_reconciliation")
    assert len(rows) == 12
    for row in rows:
        assert row["vendor_oee_recomputed"] == pytest.approx(row["vendor_oee"], abs=1e-12)
        assert row["oee_gap"] == pytest.approx(row["vendor_oee"] - row["oee"], abs=1e-15)
    line1 = next(r for r in rows if r["asset_id"] == "AZ-PLANT1:Line1" and r["shift_date"] == dt.date(2022, 7, 4))
    # ISO 22400: OEE = PRI x GQ / PBT = 375 pieces x 1 min / (480 - 50) min; the engine said 0.7504
    assert line1["oee"] == pytest.approx(375 / 430, abs=1e-12) and line1["vendor_oee"] == pytest.approx(0.7504056, abs=1e-7)
    line3 = next(r for r in rows if r["asset_id"] == "AZ-PLANT2:Line3" and r["shift_date"] == dt.date(2022, 7, 1))
    assert line3["changeover_min"] == 10.0  # planned down for the engine, setup (AUST, inside PBT) for ISO


def test_the_mes_sample_lands_as_two_plants_the_ingestion_reads(public_root: Path, tmp_path: Path) -> None:
    plants = {p: load_plants()[p] for p in ("AZ-PLANT1", "AZ-PLANT2")}
    loaded = {}
    for table in ("mes.assets", "mes.machine_states", "mes.production_counts", "mes.shift_calendar",
                  "mes.local_oee_report", "erp.materials"):
        result = ingest_table(get_contract(f"bronze.{table}"), plants, public_root / "landing", tmp_path / "lake")
        assert all(o.rows_rejected == 0 and not o.refused_files for o in result.plants.values()), table
        loaded[table] = {p: o.rows_loaded for p, o in result.plants.items()}
    assert loaded["mes.shift_calendar"] == {"AZ-PLANT1": 9, "AZ-PLANT2": 9}  # 3 OEE dates x 3 shifts
    assert loaded["mes.production_counts"] == {"AZ-PLANT1": 6, "AZ-PLANT2": 6}  # one per OEE row
    assert loaded["mes.local_oee_report"] == {"AZ-PLANT1": 6, "AZ-PLANT2": 6}
    oee_table = _csv(DATASETS / "azure_iiot_mes_sample/oee_pbix_cached_OEE_table.csv")
    report = DeltaTable(str(tmp_path / "lake/bronze/mes/local_oee_report")).to_pyarrow_table().to_pylist()
    vendor = {(r["AssetName"], r["OEEDate"]): float(r["%OEE"]) for r in oee_table}
    assert {(r["asset_local_id"], r["shift_date"].isoformat()): r["oee"] for r in report} == vendor
    truth_rows = [r for r in _truth(public_root, "asset_shift") if r["plant_id"].startswith("AZ-")]
    assert len(truth_rows) == 2 * 2 * 9 and sum(1 for r in truth_rows if r["pbt_s"] == 0) == 36 - 12


def test_every_quirk_is_counted_in_the_report(public_root: Path) -> None:
    quirks = _quirks(public_root)
    expected = {
        ("supplier_quality", "duplicate_rows"): 193,
        ("supplier_quality", "float_ids"): 6145 * 7,
        ("supplier_quality", "defect_names_reused"): 27,
        ("supplier_quality", "plant_names_inconsistent"): 3,
        ("steel_energy", "midnight_labelled_as_start_of_day"): 365,
        ("steel_energy", "no_final_newline"): 1,
        ("steel_energy", "readings_replayed"): 210_240,
        ("mes_sample", "shift_end_inclusive"): 6,
        ("mes_sample", "work_order_shift_of_other_plant"): 3,
        ("mes_sample", "work_order_without_oee_row"): 1,
        ("mes_sample", "effectiveness_above_one"): 12,
    }
    assert {key: quirks[key]["count"] for key in expected} == expected
    assert quirks[("mes_sample", "work_order_without_oee_row")]["examples"] == ["WB005"]
