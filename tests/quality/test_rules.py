"""Catalog rules on real batches: each passes on the clean `ci` network and fails on its fault, naming what failed.

The extracts go through the real bronze ingestion; the sensor batch is the simulator's true stream in the bronze
schema (the Kafka path is exercised by tests/integration/test_fault_knobs.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from catalog.contracts import get_contract, load_contracts
from catalog.plants import load_plants
from ingestion.extracts import ingest_table
from ingestion.simulator import generate_network
from quality.rules import PROFILES_DIR, References, contract_rules, derived_checks, key_expectations
from quality.suites import SuiteResult, record_profiles, validate_batch

PLANTS = ("DE-STR", "MX-MTY", "US-OHI")


@pytest.fixture(scope="module")
def ci_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    generate_network("ci", root)
    plants = {p: load_plants()[p] for p in PLANTS}
    for contract in load_contracts().values():
        if contract.layer == "bronze" and contract.source != "sensor":
            ingest_table(contract, plants, root / "landing", root / "lake")
    return root


def _batch(root: Path, contract_id: str) -> pa.Table:
    return DeltaTable(str(root / get_contract(contract_id).path)).to_pyarrow_table()


def _sensor_batch(root: Path) -> pa.Table:
    truth = pq.read_table(root / "simulator/ground_truth/sensor_readings.parquet")
    n = truth.num_rows
    return pa.table({
        "plant_id": truth["plant_id"], "asset_local_id": truth["asset_local_id"], "tag": truth["tag"],
        "reading_at": truth["ts"], "value": truth["value"], "unit": pa.array(["-"] * n),
        "kafka_topic": pa.array(["northstar.sensor.readings"] * n), "kafka_partition": pa.array([0] * n, pa.int32()),
        "kafka_offset": pa.array(range(n), pa.int64()),
        "ingested_at": pa.array([dt.datetime(2026, 11, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")),
    })


def _validate(root: Path, contract_id: str, batch: pa.Table) -> SuiteResult:
    return validate_batch(get_contract(contract_id), batch, References(lake_root=root / "lake"))


def _failure(result: SuiteResult, target: str):
    """The one failure on a column, or of the catalog rule its notes name."""
    failing = [f for f in result.failures if target in (f.column, f.rule)]
    assert len(failing) == 1, result.summary()
    return failing[0]


def _replace(batch: pa.Table, column: str, rows: list[int], value) -> pa.Table:
    values = batch[column].to_pylist()
    for i in rows:
        values[i] = value
    return batch.set_column(batch.schema.get_field_index(column), column, pa.array(values, batch.schema.field(column).type))


def test_every_bronze_batch_of_the_clean_network_passes_every_rule(ci_root: Path) -> None:
    for contract in load_contracts().values():
        if contract.layer != "bronze":
            continue
        batch = _sensor_batch(ci_root) if contract.source == "sensor" else _batch(ci_root, contract.id)
        result = _validate(ci_root, contract.id, batch)
        assert result.success and result.rows == batch.num_rows > 0, result.summary()
    # the rules ran: allowed codes, master data, volume, drift and skew are all among the expectations
    readings = _validate(ci_root, "bronze.sensor.readings", _sensor_batch(ci_root))
    rules = {o.rule.split(":")[0] for o in readings.outcomes if o.rule}
    assert rules == {"tag", "plant_id", "asset_local_id", "sensor_tag_distribution", "sensor_drift_vs_history",
                     "gateway_clock_skew"}


def test_an_unmapped_state_code_fails_with_the_code_and_its_count(ci_root: Path) -> None:
    batch = _batch(ci_root, "bronze.mes.machine_states")
    de_str = [i for i, p in enumerate(batch["plant_id"].to_pylist()) if p == "DE-STR"]
    faulty = _replace(_replace(batch, "state_local_code", de_str[:4], "Störung X"), "state_local_code", de_str[4:7], "Y")
    result = _validate(ci_root, "bronze.mes.machine_states", faulty)
    failure = _failure(result, "state_local_code: mapped in machine_states.yaml")
    assert failure.expectation == "expect_column_pair_values_to_be_in_set" and failure.unexpected_count == 7
    assert failure.column == "plant_id,state_local_code"
    assert failure.sample == [{"value": ["DE-STR", "Störung X"], "count": 4}, {"value": ["DE-STR", "Y"], "count": 3}]


def test_rows_pointing_outside_the_plants_master_data_fail_referential_integrity(ci_root: Path) -> None:
    counts = _batch(ci_root, "bronze.mes.production_counts")
    de_str = [i for i, p in enumerate(counts["plant_id"].to_pylist()) if p == "DE-STR"]
    # an asset of another plant: not in DE-STR's asset master (nor in its asset mapping)
    result = _validate(ci_root, "bronze.mes.production_counts", _replace(counts, "asset_local_id", de_str[:2], "EQ-101"))
    failure = _failure(result, "asset_local_id: in bronze.mes.assets.asset_local_id")
    assert failure.unexpected_count == 2 and failure.sample == [{"value": ["DE-STR", "EQ-101"], "count": 2}]
    orders = _batch(ci_root, "bronze.erp.work_orders")
    result = _validate(ci_root, "bronze.erp.work_orders", _replace(orders, "material_local_id", [0], "NO-SUCH-MAT"))
    failure = _failure(result, "material_local_id: in bronze.erp.materials.material_local_id")
    assert failure.unexpected_count == 1 and failure.sample[0]["value"][1] == "NO-SUCH-MAT"


def test_a_shift_missing_from_the_calendar_fails_the_volume_rule_naming_it(ci_root: Path) -> None:
    calendar = _batch(ci_root, "bronze.mes.shift_calendar").sort_by([("plant_id", "ascending"), ("shift_date", "ascending")])
    dropped = calendar.slice(1, 1).to_pylist()[0]
    result = _validate(ci_root, "bronze.mes.shift_calendar", pa.concat_tables([calendar.slice(0, 1), calendar.slice(2)]))
    failure = _failure(result, "shift")
    assert failure.unexpected_count == 1 and failure.rule.startswith("expected_shifts")
    assert failure.sample == [{"shift": f"{dropped['plant_id']} {dropped['shift_date']} {dropped['shift_local_code']}"}]


def test_a_drifting_tag_fails_its_reference_quantiles(ci_root: Path) -> None:
    batch = _sensor_batch(ci_root)
    celsius = pc.equal(batch["tag"], "temperature_c")
    fahrenheit = pc.if_else(celsius, pc.add(pc.multiply(batch["value"], 1.8), 32.0), batch["value"])
    result = _validate(ci_root, "bronze.sensor.readings", batch.set_column(4, "value", fahrenheit))
    failure = _failure(result, "value")
    assert failure.rule == "sensor_tag_distribution: tag temperature_c"
    assert failure.expectation == "expect_column_quantile_values_to_be_between" and failure.sample[0]["values"][1] > 70


def test_a_skewed_gateway_clock_is_named_with_its_offset(ci_root: Path) -> None:
    batch = _sensor_batch(ci_root)
    a101 = pc.and_(pc.equal(batch["plant_id"], "DE-STR"), pc.equal(batch["asset_local_id"], "A101"))
    skewed = pc.if_else(a101, pc.add(batch["reading_at"], pa.scalar(dt.timedelta(seconds=90))), batch["reading_at"])
    result = _validate(ci_root, "bronze.sensor.readings", batch.set_column(3, "reading_at", skewed))
    failure = _failure(result, "offset_s")
    assert failure.unexpected_count == 1
    assert failure.sample == [{"offset_s": 90.0, "plant_id": "DE-STR", "asset_local_id": "A101"}]


def test_rules_come_from_the_catalog_not_from_code(ci_root: Path) -> None:
    """Every custom rule is a contract `quality:` entry on a real column; allowed codes follow CODE_SOURCES."""
    for contract in load_contracts().values():
        for rule in contract_rules(contract):
            assert rule.column is None or rule.column in contract.column_names, rule
            if rule.kind == "references":
                target, _, column = rule.params["references"].rpartition(".")
                assert column in get_contract(target).column_names, rule
    labels = [e.notes for e in key_expectations(get_contract("bronze.mes.production_counts"), References())]
    assert labels == ["asset_local_id: mapped in assets.yaml", "material_local_id: mapped in materials.yaml",
                      "asset_local_id: in bronze.mes.assets.asset_local_id",
                      "material_local_id: in bronze.erp.materials.material_local_id"]


def test_the_drift_check_finds_a_rule_naming_a_missing_column() -> None:
    import copy
    import dataclasses

    from catalog.drift import quality_suite_drift

    contract = get_contract("bronze.mes.production_counts")
    assert quality_suite_drift([contract]) == []
    raw = copy.deepcopy(contract.raw)
    asset = next(p for p in raw["schema"][0]["properties"] if p["name"] == "asset_local_id")
    next(q for q in asset["quality"] if q.get("engine"))["implementation"]["references"] = "bronze.mes.assets.asset_id"
    drifts = quality_suite_drift([dataclasses.replace(contract, raw=raw)])
    assert [(d.subject, "asset_id" in d.problem) for d in drifts] == [("quality rule asset_in_master", True)]


def test_a_micro_batch_of_one_skewed_gateway_is_judged_against_its_stored_peers(tmp_path: Path, ci_root: Path) -> None:
    """Only A101's readings arrive in this batch (the others were deduplicated): its peers come from bronze."""
    from deltalake import write_deltalake

    stored = _sensor_batch(ci_root)
    table = tmp_path / get_contract("bronze.sensor.readings").path
    write_deltalake(str(table), stored)
    a101 = stored.filter(pc.and_(pc.equal(stored["plant_id"], "DE-STR"), pc.equal(stored["asset_local_id"], "A101")))
    batch = a101.set_column(3, "reading_at", pc.add(a101["reading_at"], pa.scalar(dt.timedelta(seconds=-120))))
    write_deltalake(str(table), batch, mode="append")  # the pipeline validates what it has just written
    result = validate_batch(get_contract("bronze.sensor.readings"), batch, References(lake_root=tmp_path / "lake"))
    assert [f.column for f in result.failures] == ["offset_s"]  # no US-OHI tag in the batch: no drift verdict on it
    assert result.failures[0].sample == [{"offset_s": -120.0, "plant_id": "DE-STR", "asset_local_id": "A101"}]
    a102 = stored.filter(pc.and_(pc.equal(stored["plant_id"], "DE-STR"), pc.equal(stored["asset_local_id"], "A102")))
    clean = validate_batch(get_contract("bronze.sensor.readings"), a102, References(lake_root=tmp_path / "lake"))
    assert clean.success, clean.summary()


def test_an_asset_missing_from_the_state_extract_fails_the_volume_rule_naming_it(ci_root: Path) -> None:
    states = _batch(ci_root, "bronze.mes.machine_states")
    silent = pc.and_(pc.equal(states["plant_id"], "MX-MTY"), pc.equal(states["asset_local_id"], "EQ-202"))
    result = _validate(ci_root, "bronze.mes.machine_states", states.filter(pc.invert(silent)))
    failure = _failure(result, "asset")
    assert failure.unexpected_count == 1 and failure.sample == [{"asset": "MX-MTY EQ-202"}]
    assert failure.rule == "expected_assets: assets of bronze.mes.assets.asset_local_id"


# --- volume per plant-day and shift on production counts (expected_shift_assets) ----------------------------------


def _shift_volume(root: Path, batch: pa.Table):
    counts = get_contract("bronze.mes.production_counts")
    check = next(c for c in derived_checks(counts, batch, References(lake_root=root / "lake"))
                 if c.name == "expected_shift_assets")
    return check.frame


def _in_window(batch: pa.Table, plant: str, start: str, end: str, asset: str | None = None) -> pa.Array:
    mask = pc.and_(pc.equal(batch["plant_id"], plant), pc.and_(
        pc.greater_equal(batch["interval_start_local"], pa.scalar(dt.datetime.fromisoformat(start), pa.timestamp("us"))),
        pc.less(batch["interval_start_local"], pa.scalar(dt.datetime.fromisoformat(end), pa.timestamp("us")))))
    return mask if asset is None else pc.and_(mask, pc.equal(batch["asset_local_id"], asset))


def test_every_scheduled_shift_of_the_clean_network_has_counts_from_every_master_asset(ci_root: Path) -> None:
    frame = _shift_volume(ci_root, _batch(ci_root, "bronze.mes.production_counts"))
    calendar = _batch(ci_root, "bronze.mes.shift_calendar").to_pylist()
    # every shift of the (clean) calendar is judged, none else: DE-STR Sat + Mon x 3, MX-MTY Sat + Mon x 2, US-OHI Mon x 2
    assert sorted(frame["shift"]) == sorted(f"{r['plant_id']} {r['shift_date']} {r['shift_local_code']}"
                                            for r in calendar) and len(frame) == 12
    assert set(frame["assets_expected"]) == set(frame["assets_reporting"]) == {4}
    assert set(frame["asset_share"]) == {1.0} and set(frame["assets_missing"]) == {""}


def test_a_shift_missing_from_the_production_counts_fails_naming_plant_day_and_shift(ci_root: Path) -> None:
    counts = _batch(ci_root, "bronze.mes.production_counts")
    # DE-STR's Monday night shift: 22:00 to Tuesday 06:00 (its rows after midnight start on the next day)
    night = _in_window(counts, "DE-STR", "2026-10-26 22:00", "2026-10-27 06:00")
    assert pc.sum(night).as_py() > 0
    result = _validate(ci_root, "bronze.mes.production_counts", counts.filter(pc.invert(night)))
    failure = _failure(result, "asset_share")
    assert failure.unexpected_count == 1 and failure.rule.startswith("expected_shift_assets")
    assert failure.sample == [{"asset_share": 0.0, "shift": "DE-STR 2026-10-26 N", "assets_missing": "A101 A102 A201 A202"}]
    assert [f.column for f in result.failures] == ["asset_share"]  # nothing else fails


def test_an_asset_silent_in_one_shift_fails_naming_the_shift_and_the_asset(ci_root: Path) -> None:
    counts = _batch(ci_root, "bronze.mes.production_counts")
    silent = _in_window(counts, "MX-MTY", "2026-10-24 07:00", "2026-10-24 19:00", asset="EQ-202")
    result = _validate(ci_root, "bronze.mes.production_counts", counts.filter(pc.invert(silent)))
    failure = _failure(result, "asset_share")
    assert failure.unexpected_count == 1
    assert failure.sample == [{"asset_share": 0.75, "shift": "MX-MTY 2026-10-24 T1", "assets_missing": "EQ-202"}]


def test_a_partial_delivery_judges_only_the_days_it_holds(ci_root: Path) -> None:
    """A delivery of Monday's rows only (calendar day of the interval start): Saturday's night shift is not in it and
    Monday's night shift is judged by its rows before midnight; no day outside the delivery is judged."""
    counts = _batch(ci_root, "bronze.mes.production_counts")
    monday = counts.filter(_in_window(counts, "DE-STR", "2026-10-26 00:00", "2026-10-27 00:00"))
    frame = _shift_volume(ci_root, monday)
    assert list(frame["shift"]) == ["DE-STR 2026-10-26 F", "DE-STR 2026-10-26 S", "DE-STR 2026-10-26 N"]
    assert set(frame["asset_share"]) == {1.0}


def test_the_faulty_networks_missing_shift_fails_the_production_count_volume(tmp_path: Path) -> None:
    """The simulator's missing_shifts knob leaves a shift out of the calendar and of the production counts: the
    volume check on production counts names every such plant, day and shift of the ledger."""
    import json

    import yaml

    network = tmp_path / "missing.yaml"
    ci = yaml.safe_load((Path(__file__).resolve().parents[2] / "ingestion/simulator/networks/ci.yaml").read_text())
    network.write_text(yaml.safe_dump({**ci, "name": "missing", "faults": {"missing_shifts": 1}}), encoding="utf-8")
    generate_network(str(network), tmp_path)
    plants = {p: load_plants()[p] for p in PLANTS}
    for contract_id in ("bronze.mes.assets", "bronze.mes.production_counts"):
        ingest_table(get_contract(contract_id), plants, tmp_path / "landing", tmp_path / "lake")
    ledger = [json.loads(line) for line in (tmp_path / "simulator/ground_truth/fault_ledger.jsonl").read_text().splitlines()]
    expected = set()
    for entry in ledger:
        if entry["knob"] == "missing_shifts" and "production counts" in entry["detail"]:
            code, _, day = entry["detail"].split(" ")[1:4]
            expected.add(f"{entry['plant_id']} {day} {code}")
    assert len(expected) == 3
    result = _validate(tmp_path, "bronze.mes.production_counts", _batch(tmp_path, "bronze.mes.production_counts"))
    failure = _failure(result, "asset_share")
    assert failure.unexpected_count == 3 and {s["shift"] for s in failure.sample} == expected


# --- distribution drift against previous batches (drift_vs_history) -------------------------------------------------


def _utc_day(batch: pa.Table, day: str) -> pa.Table:
    start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    return batch.filter(pc.and_(pc.greater_equal(batch["reading_at"], start),
                                pc.less(batch["reading_at"], start + dt.timedelta(days=1))))


def _drift_outcome(result: SuiteResult):
    return next(o for o in result.outcomes if o.rule and o.rule.startswith("sensor_drift_vs_history"))


def _profiles(lake: Path) -> list[dict]:
    return DeltaTable(str(lake / PROFILES_DIR)).to_pyarrow_table().to_pylist()


def test_sensor_drift_against_the_previous_accepted_batches(tmp_path: Path, ci_root: Path) -> None:
    """Daily batches through a real profile table: the first has no history and passes, the next clean one passes
    against it, a batch where one gateway sends °F as °C fails naming plant, asset, tag, its median and the baseline
    (the other series pass), and, failing, it does not become history."""
    lake = tmp_path / "lake"
    contract = get_contract("bronze.sensor.readings")
    readings = _sensor_batch(ci_root)
    sunday, monday = _utc_day(readings, "2026-10-25"), _utc_day(readings, "2026-10-26")

    first = validate_batch(contract, sunday, References(lake_root=lake))
    drift = _drift_outcome(first)
    assert first.success and "no history yet: 24 series profiled" in drift.rule
    assert record_profiles(str(lake / PROFILES_DIR), contract.id, first, run_id="r1") == 24
    # a day of 5-minute readings per asset of DE-STR and MX-MTY, three tags each (US-OHI's readings start later)
    assert {(p["plant_id"], json.loads(p["series"])[1]) for p in _profiles(lake)} == {
        (plant, tag) for plant in ("DE-STR", "MX-MTY") for tag in ("temperature_c", "vibration_mm_s", "power_kw")}
    assert all(p["accepted"] and p["rows"] >= 288 for p in _profiles(lake))

    clean = validate_batch(contract, monday, References(lake_root=lake))
    assert clean.success, clean.summary()
    assert "without history" not in _drift_outcome(clean).rule

    a101 = pc.and_(pc.equal(monday["asset_local_id"], "A101"), pc.equal(monday["tag"], "temperature_c"))
    fahrenheit = pc.if_else(a101, pc.add(pc.multiply(monday["value"], 1.8), 32.0), monday["value"])
    faulty = validate_batch(contract, monday.set_column(4, "value", fahrenheit), References(lake_root=lake))
    failure = _failure(faulty, "median_shift")
    assert failure.unexpected_count == 1 and "|shift| <= 1.5" in failure.rule
    sample = failure.sample[0]
    assert (sample["plant_id"], sample["asset_local_id"], sample["tag"]) == ("DE-STR", "A101", "temperature_c")
    assert sample["median_shift"] > 1.5 and sample["median"] > 90 and sample["baseline_median"] < 45
    assert sample["baseline_spread"] > 0
    assert [f.column for f in faulty.failures] == ["value", "median_shift"]  # and the static reference ranges

    record_profiles(str(lake / PROFILES_DIR), contract.id, faulty, run_id="r2")
    rejected = [p for p in _profiles(lake) if p["run_id"] == "r2"]
    assert len(rejected) == 24 and not any(p["accepted"] for p in rejected)
    history = References(lake_root=lake).profile_history(contract.id, "sensor_drift_vs_history", ["DE-STR"], 5)
    assert set(history["history_batches"].to_pylist()) == {1}  # the failing batch is not part of the baseline


def test_the_drift_history_reads_the_last_batches_only(tmp_path: Path, ci_root: Path) -> None:
    lake = tmp_path / "lake"
    contract = get_contract("bronze.sensor.readings")
    sunday = _utc_day(_sensor_batch(ci_root), "2026-10-25")
    result = validate_batch(contract, sunday, References(lake_root=lake))
    for n in range(7):
        record_profiles(str(lake / PROFILES_DIR), contract.id, result, run_id=f"r{n}")
    history = References(lake_root=lake).profile_history(contract.id, "sensor_drift_vs_history", ["MX-MTY"], 5)
    assert history.num_rows == 12 and set(history["history_batches"].to_pylist()) == {5}


def test_a_micro_batch_below_the_minimum_rows_is_neither_judged_nor_profiled(tmp_path: Path, ci_root: Path) -> None:
    contract = get_contract("bronze.sensor.readings")
    hour = _sensor_batch(ci_root).slice(0, 0)
    readings = _sensor_batch(ci_root)
    start = dt.datetime(2026, 10, 25, 10, tzinfo=dt.UTC)
    hour = readings.filter(pc.and_(pc.greater_equal(readings["reading_at"], start),
                                   pc.less(readings["reading_at"], start + dt.timedelta(hours=1))))
    result = validate_batch(contract, hour, References(lake_root=tmp_path / "lake"))
    assert hour.num_rows > 0 and result.success and result.profiles is None
    assert record_profiles(str(tmp_path / "lake" / PROFILES_DIR), contract.id, result) == 0
