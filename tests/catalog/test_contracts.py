"""Contracts validate against the official ODCS schema and yield the Arrow schemas ingestion writes with."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from catalog.contracts import CONTRACTS_DIR, ContractError, load_contracts, parse_contract
from catalog.plants import load_plants


def test_every_contract_validates_against_the_odcs_schema():
    contracts = load_contracts()
    assert set(contracts) == {
        "bronze.erp.materials", "bronze.mes.assets", "bronze.mes.machine_states",
        "bronze.mes.production_counts", "bronze.mes.shift_calendar", "bronze.sensor.readings",
    }
    for contract in contracts.values():
        assert contract.path == "lake/" + "/".join(contract.asset_key)
        assert contract.primary_key and contract.freshness_hours


def test_arrow_schema_follows_the_contract():
    schema = load_contracts()["bronze.mes.production_counts"].arrow_schema()
    assert schema.field("produced_qty").type == pa.int64()
    assert schema.field("interval_start_local").type == pa.timestamp("us")
    assert schema.field("ingested_at").type == pa.timestamp("us", tz="UTC")
    assert not schema.field("plant_id").nullable


def test_an_invalid_contract_names_file_and_field(tmp_path):
    doc = yaml.safe_load((CONTRACTS_DIR / "bronze.mes.assets.yaml").read_text())
    doc["apiVersion"] = "v9"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError, match=r"bad.yaml: apiVersion: 'v9' is not one of"):
        parse_contract(bad)


def test_an_unknown_physical_type_is_refused(tmp_path):
    doc = yaml.safe_load((CONTRACTS_DIR / "bronze.mes.assets.yaml").read_text())
    doc["schema"][0]["properties"][2]["physicalType"] = "varchar"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError, match=r"properties/2 \(line_local_id\): physicalType 'varchar'"):
        parse_contract(bad)


def test_every_plant_dialect_maps_exactly_the_contract_business_columns():
    lineage = {"plant_id", "source_file", "source_line", "ingested_at"}
    contracts = load_contracts()
    for plant in load_plants().values():
        for (source, table), dialect in plant.dialects.items():
            contract = contracts[f"bronze.{source}.{table}"]
            assert set(dialect.columns) == set(contract.column_names) - lineage, (plant.plant_id, table)
