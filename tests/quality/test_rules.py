"""Catalog rules on real batches: each passes on the clean `ci` network and fails on its fault, naming what failed.

The extracts go through the real bronze ingestion; the sensor batch is the simulator's true stream in the bronze
schema (the Kafka path is exercised by tests/integration/test_fault_knobs.py).
"""

from __future__ import annotations

import datetime as dt
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
from quality.rules import References, contract_rules, key_expectations
from quality.suites import SuiteResult, validate_batch

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
    assert rules == {"tag", "plant_id", "asset_local_id", "sensor_tag_distribution", "gateway_clock_skew"}


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
