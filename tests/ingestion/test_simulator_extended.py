"""The extended network (issue 3): local OEE reports, ERP, people and safety extracts, the SQDCP truth per plant-day,
and every new table read by the real ingestion into bronze Delta through each plant's dialect.

The plant-day truth is recomputed here from the landing files alone (units converted with catalog/mappings,
incident types mapped with catalog/mappings/incident_types.yaml), so a test fails if an extract and the truth
disagree.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from deltalake import DeltaTable
from test_simulator_reader import plant_ids, read_extract, truth

from catalog.contracts import load_contracts
from catalog.plants import load_plants
from catalog.render import energy_meter
from ingestion.extracts import ingest_table
from ingestion.simulator import generate_network, load_mappings

PLANTS = ("DE-STR", "MX-MTY", "US-OHI")
CATALOG = Path(__file__).resolve().parents[2] / "catalog"


@pytest.fixture(scope="module")
def ci_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ci_extended")
    generate_network("ci", root)
    return root


def _hours(value: float, unit: str) -> float:
    return value / 60 if unit == "min" else value


# --- local OEE reports ------------------------------------------------------------------------------------------


def test_each_plant_reports_its_own_oee_formula_in_its_own_unit(ci_root: Path) -> None:
    formulas = load_mappings().local_oee
    elements = {(r["asset_id"], r["shift_code"], r["shift_date"]): r for r in truth(ci_root, "asset_shift")}
    for plant_id in PLANTS:
        rows = read_extract(ci_root, plant_id, "mes", "local_oee_report")
        assert len(rows) == sum(1 for key in elements if key[0].startswith(plant_id + ":"))
        formula = formulas[plant_id]
        scale = 100 if formula.unit == "percent" else 1
        for row in rows:
            e = elements[(f"{plant_id}:{row['asset_local_id']}", row["shift_local_code"], row["shift_date"])]
            a_iso, p_iso, q_iso = e["apt_s"] / e["pbt_s"], e["pri_pq_s"] / e["apt_s"], e["gq"] / e["pq"]
            expected = {
                "calendar_time_availability": (e["apt_s"] / e["pot_s"], p_iso, q_iso),
                "mean_of_ratios": (a_iso, p_iso, q_iso),
                "performance_over_planned_time": ((e["pbt_s"] - e["adet_s"]) / e["pbt_s"], e["pri_pq_s"] / e["pbt_s"], q_iso),
                "setup_as_planned_rework_as_good": (e["apt_s"] / (e["pbt_s"] - e["aust_s"]), p_iso, (e["gq"] + e["rq"]) / e["pq"]),
            }[formula.formula]
            oee = sum(expected) / 3 if formula.formula == "mean_of_ratios" else expected[0] * expected[1] * expected[2]
            for name, value in zip(("availability", "performance", "quality", "oee"), (*expected, oee)):
                assert row[name] == round(value * scale, formula.decimals), (plant_id, name)
    # The local figure is not the enterprise OEE: DE-STR counts breaks as losses, so it always reports less.
    local = truth(ci_root, "local_oee")
    de = [r for r in local if r["plant_id"] == "DE-STR"]
    assert de and all(r["oee_ratio_exact"] < r["enterprise_oee"] for r in de)
    assert {r["unit"] for r in local if r["plant_id"] == "MX-MTY"} == {"percent"}


# --- ERP ----------------------------------------------------------------------------------------------------------


def test_work_orders_match_the_production_counts_and_ship_what_was_good(ci_root: Path) -> None:
    for plant_id in PLANTS:
        orders = {row["order_id"]: row for row in read_extract(ci_root, plant_id, "erp", "work_orders")}
        counts = read_extract(ci_root, plant_id, "mes", "production_counts")
        good = defaultdict(int)
        for count in counts:
            assert count["order_id"] in orders  # every counted order exists in the ERP
            assert orders[count["order_id"]]["material_local_id"] == count["material_local_id"]
            good[count["order_id"]] += count["good_qty"]
        for shipment in read_extract(ci_root, plant_id, "erp", "shipments"):
            order = orders[shipment["order_id"]]
            assert shipment["ordered_qty"] == order["order_qty"] and shipment["promised_date"] == order["due_date"]
            assert shipment["shipped_qty"] == min(good[shipment["order_id"]], order["order_qty"]) > 0
            assert order["released_date"] < order["due_date"]


def test_standard_costs_are_effective_dated_per_price_unit(ci_root: Path) -> None:
    rows = read_extract(ci_root, "DE-STR", "erp", "standard_costs")
    assert {r["price_unit"] for r in rows} == {100} and {r["currency"] for r in rows} == {"EUR"}
    assert min(r["valid_from"] for r in rows) == dt.date(2026, 9, 1)  # first day of the month before the period
    materials = {r["material_local_id"] for r in read_extract(ci_root, "DE-STR", "erp", "materials")}
    assert {r["material_local_id"] for r in rows} == materials


def test_supplier_quality_names_each_plant_as_the_governed_mapping_knows_it(ci_root: Path) -> None:
    mapping = yaml.safe_load((CATALOG / "mappings" / "plant_names.yaml").read_text(encoding="utf-8"))["mappings"]
    known = {(m["source_plant_id"], m["local_name"]): m["enterprise_plant_id"] for m in mapping}
    for plant_id in PLANTS:
        rows = read_extract(ci_root, plant_id, "erp", "supplier_quality")
        assert rows, plant_id
        assert {known[(plant_id, r["plant_name"])] for r in rows} == {plant_id}
        assert all(r["defect_qty"] >= 0 and r["downtime_min"] >= 0 for r in rows)
        assert {r["downtime_min"] for r in rows if r["defect_type"] == "No Impact"} <= {0.0}


# --- SQDCP truth, recomputed from the extracts -----------------------------------------------------------------------


def test_the_plant_day_truth_is_what_the_extracts_say(ci_root: Path) -> None:
    incident_types = yaml.safe_load((CATALOG / "mappings" / "incident_types.yaml").read_text(encoding="utf-8"))
    enterprise_type = {(m["plant_id"], m["local_type"]): m["enterprise_type"] for m in incident_types["mappings"]}
    days = [dt.date(2026, 10, 24) + dt.timedelta(days=n) for n in range(3)]
    expected: dict[tuple[str, dt.date], dict[str, float]] = {(p, d): defaultdict(float) for p in PLANTS for d in days}
    for plant_id in PLANTS:
        for c in read_extract(ci_root, plant_id, "mes", "production_counts"):
            shift_day = next(s["shift_date"] for s in read_extract(ci_root, plant_id, "mes", "shift_calendar")
                             if s["started_at_local"] <= c["interval_start_local"] < s["ended_at_local"])
            for column, name in (("pq", "produced_qty"), ("gq", "good_qty"), ("sq", "scrap_qty")):
                expected[(plant_id, shift_day)][column] += c[name]
        for a in read_extract(ci_root, plant_id, "hr", "attendance"):
            expected[(plant_id, a["shift_date"])]["scheduled_hours"] += _hours(a["scheduled_time"], a["time_unit"])
            expected[(plant_id, a["shift_date"])]["attended_hours"] += _hours(a["attended_time"], a["time_unit"])
            expected[(plant_id, a["shift_date"])]["employee_shifts"] += 1
        for t in read_extract(ci_root, plant_id, "hr", "training"):
            expected[(plant_id, t["training_date"])]["training_hours"] += _hours(t["training_time"], t["time_unit"])
        for i in read_extract(ci_root, plant_id, "ehs", "incidents"):
            kind = enterprise_type[(plant_id, i["incident_type"])]
            key = {"near_miss": "near_misses", "first_aid": "first_aid_cases"}.get(kind, "recordable_incidents")
            if (plant_id, i["occurred_at_local"].date()) in expected:  # a night shift may end after the period
                expected[(plant_id, i["occurred_at_local"].date())][key] += 1
        shipped = {s["order_id"]: s for s in read_extract(ci_root, plant_id, "erp", "shipments")}
        for order in read_extract(ci_root, plant_id, "erp", "work_orders"):
            if (plant_id, order["due_date"]) in expected:
                expected[(plant_id, order["due_date"])]["orders_due"] += 1
                s = shipped.get(order["order_id"])
                if s and s["shipped_date"] <= s["promised_date"] and s["shipped_qty"] >= s["ordered_qty"]:
                    expected[(plant_id, order["due_date"])]["orders_on_time_in_full"] += 1
    rows = truth(ci_root, "plant_day")
    assert len(rows) == len(expected) == 9
    for row in rows:
        values = expected[(row["plant_id"], row["day"])]
        for column in ("pq", "gq", "sq", "employee_shifts", "near_misses", "first_aid_cases", "recordable_incidents",
                       "orders_due", "orders_on_time_in_full"):
            assert row[column] == values[column], (row["plant_id"], row["day"], column)
        for column in ("scheduled_hours", "attended_hours", "training_hours"):
            assert row[column] == pytest.approx(values[column], abs=1e-6), (row["plant_id"], row["day"], column)
        if row["employee_shifts"]:
            assert row["attendance_rate"] == pytest.approx(row["attended_hours"] / row["scheduled_hours"])
    sunday = {r["plant_id"]: r for r in rows if r["day"] == dt.date(2026, 10, 25)}
    assert sunday["MX-MTY"]["pq"] == 0 and sunday["MX-MTY"]["employee_shifts"] == 0  # Sunday off
    assert any(r["orders_due"] for r in rows) and any(r["on_time_in_full"] for r in rows if r["orders_due"])


def _assert_energy_truth_is_the_meter_advance(root: Path, meter_tag: str, max_gap_s: int) -> dict[tuple, dict]:
    """catalog/kpis/energy_per_good_unit.yaml: meter at the shift's end minus meter at its start, each the last reading
    at or before the instant and at most `max_gap_s` old; recomputed from the true readings. Returns the truth rows."""
    meters: dict[str, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for r in sorted(truth(root, "sensor_readings"), key=lambda r: r["ts"]):
        if r["tag"] == meter_tag:
            meters[f"{r['plant_id']}:{r['asset_local_id']}"].append((r["ts"], r["value"]))

    def meter_at(asset_id: str, instant: dt.datetime) -> float | None:
        before = [(ts, value) for ts, value in meters[asset_id] if ts <= instant]
        return before[-1][1] if before and (instant - before[-1][0]).total_seconds() <= max_gap_s else None

    energy = {(r["asset_id"], r["shift_date"], r["shift_code"]): r for r in truth(root, "asset_shift_energy")}
    shifts = truth(root, "asset_shift")
    assert len(energy) == len(shifts)
    for shift in shifts:
        start = meter_at(shift["asset_id"], shift["shift_started_at"])
        end = meter_at(shift["asset_id"], shift["shift_ended_at"])
        row = energy[(shift["asset_id"], shift["shift_date"], shift["shift_code"])]
        assert row["is_metered"] == (start is not None and end is not None and end >= start)
        if row["is_metered"]:
            assert row["energy_kwh"] == end - start and row["metered_gq"] == shift["gq"]
            assert row["energy_per_good_unit"] == (row["energy_kwh"] / shift["gq"] if shift["gq"] else None)
    return energy


def test_the_energy_truth_is_the_meter_advance_over_each_shift_as_the_catalog_defines_it(ci_root: Path) -> None:
    meter = energy_meter()  # the parameters of catalog/kpis/energy_per_good_unit.yaml, which dbt is generated from
    energy = _assert_energy_truth_is_the_meter_advance(ci_root, meter.tag, meter.max_gap_s)

    # the plant-day figure is the ratio of sums over the metered asset-shifts of the production day
    for day in truth(ci_root, "plant_day"):
        metered = [r for r in energy.values() if r["plant_id"] == day["plant_id"] and r["shift_date"] == day["day"]
                   and r["is_metered"]]
        assert day["metered_gq"] == sum(r["metered_gq"] for r in metered)
        if metered:
            assert day["energy_kwh"] == pytest.approx(sum(r["energy_kwh"] for r in metered), abs=1e-9)
        else:
            assert day["energy_kwh"] is None
    assert sum(1 for r in energy.values() if r["energy_per_good_unit"]) >= 40


def test_the_simulators_meter_gap_is_the_catalogs(ci_root: Path, tmp_path: Path) -> None:
    # the same network with a catalog whose definition allows a 2 min gap: the simulator follows the catalog, and
    # boundaries whose last 5-min reading is older than that are no longer metered
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG, catalog, ignore=shutil.ignore_patterns("__pycache__", "*.py", "governance"))
    kpi = catalog / "kpis" / "energy_per_good_unit.yaml"
    kpi.write_text(kpi.read_text(encoding="utf-8").replace(f"meter_max_gap_s: {energy_meter().max_gap_s}",
                                                           "meter_max_gap_s: 120"))
    meter = energy_meter(catalog)
    assert meter.max_gap_s == 120
    generate_network("ci", tmp_path / "out", catalog_dir=catalog)

    narrow = _assert_energy_truth_is_the_meter_advance(tmp_path / "out", meter.tag, meter.max_gap_s)
    wide = {(r["asset_id"], r["shift_date"], r["shift_code"]): r for r in truth(ci_root, "asset_shift_energy")}
    assert narrow.keys() == wide.keys()
    assert 0 < sum(r["is_metered"] for r in narrow.values()) < sum(r["is_metered"] for r in wide.values())


# --- every new table through the real ingestion ------------------------------------------------------------------


def test_every_extract_of_every_plant_lands_in_bronze_without_a_reject(ci_root: Path, tmp_path: Path) -> None:
    """The generic bronze ingestion reads every table of every dialect (CSV ; , cp1252, CSV, Excel) cleanly."""
    plants = {p: load_plants()[p] for p in plant_ids(ci_root)}
    contracts = [c for c in load_contracts().values() if c.layer == "bronze" and c.source != "sensor"]
    assert len(contracts) == 13
    for contract in contracts:
        result = ingest_table(contract, plants, ci_root / "landing", tmp_path / "lake")
        for plant_id, outcome in result.plants.items():
            assert outcome.refused_files == [] and outcome.rows_rejected == 0, (contract.id, plant_id, outcome.files)
            expected = len(read_extract(ci_root, plant_id, contract.source, contract.table))
            assert outcome.rows_loaded == expected, (contract.id, plant_id)
    attendance = DeltaTable(str(tmp_path / "lake" / "bronze" / "hr" / "attendance")).to_pyarrow_table()
    us = [row for row in attendance.to_pylist() if row["plant_id"] == "US-OHI"]
    assert {r["source_line"] for r in us} == set(range(2, 2 + len(us)))  # Excel row numbers
    assert {r["shift_date"] for r in us} == {dt.date(2026, 10, 26)}
