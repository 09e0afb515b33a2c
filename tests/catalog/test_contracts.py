"""Contracts validate against the official ODCS schema and yield the Arrow schemas ingestion writes with; warehouse
contracts (silver, published) describe dbt models in DuckDB types."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from catalog.contracts import CONTRACTS_DIR, ContractError, load_contracts, normalize_duckdb_type, parse_contract
from catalog.plants import load_plants

WAREHOUSE_CONTRACTS = {
    "published.marts.oee_asset_shift",
    "published.marts.oee_plant_day",
    "silver.intermediate.int_asset_shifts_summarized",
}


def test_every_contract_validates_against_the_odcs_schema():
    contracts = load_contracts()
    assert {
        "bronze.erp.materials", "bronze.mes.assets", "bronze.mes.machine_states",
        "bronze.mes.production_counts", "bronze.mes.shift_calendar", "bronze.sensor.readings",
    } | WAREHOUSE_CONTRACTS <= set(contracts)
    assert {c.layer for c in contracts.values()} == {"bronze", "silver", "published"}
    for contract in contracts.values():
        assert contract.primary_key and contract.freshness_hours, contract.id


def test_bronze_contracts_name_the_delta_path_their_asset_key_mirrors():
    for contract in load_contracts().values():
        if contract.layer == "bronze":
            assert not contract.in_warehouse
            assert contract.path == "lake/" + "/".join(contract.asset_key)


def test_warehouse_contracts_name_the_dbt_model_and_its_dagster_asset_key():
    contracts = load_contracts()
    asset_shift = contracts["published.marts.oee_asset_shift"]

    assert asset_shift.in_warehouse
    assert asset_shift.asset_key == ["marts", "oee_asset_shift"]
    assert asset_shift.path == "main_marts.oee_asset_shift"
    assert asset_shift.primary_key == ["asset_id", "shift_date", "shift_code"]
    assert contracts["silver.intermediate.int_asset_shifts_summarized"].asset_key == [
        "intermediate", "int_asset_shifts_summarized",
    ]


def test_warehouse_columns_carry_duckdb_types_units_and_the_kpi_they_publish():
    plant_day = load_contracts()["published.marts.oee_plant_day"]

    assert plant_day.column("shift_date").duckdb_type == "date"
    assert plant_day.column("pq").arrow_type == pa.int64()
    assert plant_day.column("apt_s").unit == "s"
    assert plant_day.column("oee").kpi == "oee"
    assert plant_day.kpi_ids == ["availability", "effectiveness", "quality_ratio", "oee"]
    assert load_contracts()["published.marts.oee_asset_shift"].column("shift_started_at").duckdb_type == (
        "timestamp with time zone"
    )


def test_duckdb_type_spellings_are_normalized():
    assert normalize_duckdb_type("TIMESTAMPTZ") == "timestamp with time zone"
    assert normalize_duckdb_type(" Double ") == "double"
    assert normalize_duckdb_type("TEXT") == "varchar"


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


def test_a_warehouse_contract_refuses_an_arrow_type_name(tmp_path):
    doc = yaml.safe_load((CONTRACTS_DIR / "published.marts.oee_plant_day.yaml").read_text())
    doc["schema"][0]["properties"][3]["physicalType"] = "float64"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError, match=r"properties/3 \(pot_s\): physicalType 'float64' is not one of"):
        parse_contract(bad)


def test_a_warehouse_contract_must_name_its_relation_after_server_schema_and_model(tmp_path):
    doc = yaml.safe_load((CONTRACTS_DIR / "published.marts.oee_plant_day.yaml").read_text())
    doc["schema"][0]["physicalName"] = "main_marts.plant_day"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError, match=r"physicalName: 'main_marts.plant_day' must be 'main_marts.oee_plant_day'"):
        parse_contract(bad)


def test_the_business_date_must_name_a_required_date_or_local_timestamp_column(tmp_path):
    assert parse_contract(CONTRACTS_DIR / "bronze.mes.machine_states.yaml").business_date == "started_at_local"
    assert parse_contract(CONTRACTS_DIR / "bronze.mes.assets.yaml").business_date is None
    doc = yaml.safe_load((CONTRACTS_DIR / "bronze.mes.machine_states.yaml").read_text())
    doc["customProperties"].append({"property": "businessDate", "value": "state_local_code"})
    doc["customProperties"] = [p for p in doc["customProperties"] if p.get("value") != "started_at_local"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError, match=r"businessDate: 'state_local_code' must name a required date32 or timestamp"):
        parse_contract(bad)


def test_every_plant_dialect_maps_exactly_the_contract_business_columns():
    lineage = {"plant_id", "source_file", "source_line", "ingested_at"}
    contracts = load_contracts()
    for plant in load_plants().values():
        for (source, table), dialect in plant.dialects.items():
            contract = contracts[f"bronze.{source}.{table}"]
            assert set(dialect.columns) == set(contract.column_names) - lineage, (plant.plant_id, table)
