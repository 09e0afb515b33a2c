"""catalog/scaffold.py (`northstar catalog scaffold`): a dbt model's contract drafted from the built relation and its
dbt YAML, and refreshed after the model changed without losing what its owner curated."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from catalog import CATALOG_DIR
from catalog.cli import main as catalog_main
from catalog.contracts import load_contracts, parse_contract
from catalog.render import DBT_PROJECT_DIR, render_all
from catalog.scaffold import ScaffoldError, scaffold

NEW_MART_YAML = """
version: 2
models:
  - name: scrap_weight_plant_day
    description: Scrap weight per plant and production day.
    data_tests:
      - unique_combination_of_columns:
          arguments: {combination_of_columns: [plant_id, shift_date]}
      - expression_is_true:
          arguments: {expression: "scrap_kg >= 0"}
    columns:
      - {name: shift_date, description: "Production day", data_tests: [not_null]}
      - {name: scrap_kg, description: "Scrapped weight, kg", data_tests: [{accepted_values: {arguments: {values: [1]}}}]}
"""


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """A copy of the catalog and of the dbt models, a new mart written by an engineer (SQL and hand YAML), and a
    warehouse where the new mart is built and oee_plant_day gained a column and lost one."""
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    dbt_project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR / "models", dbt_project / "models")
    marts = dbt_project / "models" / "marts"
    (marts / "scrap_weight_plant_day.sql").write_text("select 1 as x\n")
    (marts / "_scrap__hand.yml").write_text(NEW_MART_YAML)
    plant_day = load_contracts()["published.marts.oee_plant_day"]
    columns = [f"{c.name} {c.duckdb_type}" for c in plant_day.columns if c.name != "rq"] + ["oee_target double"]
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema main_marts")
        connection.execute(f"create table main_marts.oee_plant_day ({', '.join(columns)})")
        connection.execute(
            "create table main_marts.scrap_weight_plant_day (plant_id varchar, shift_date date, scrap_kg double)"
        )
    return {"catalog": catalog, "dbt_project": dbt_project, "warehouse": warehouse}


def run(workspace: dict[str, Path], models: list[str], *, update: bool = False):
    return scaffold(
        models,
        warehouse=workspace["warehouse"],
        catalog_dir=workspace["catalog"],
        dbt_project_dir=workspace["dbt_project"],
        update=update,
    )


def test_a_new_model_gets_a_valid_odcs_contract_with_the_built_columns_and_the_yamls_words_and_tests(workspace):
    (result,) = run(workspace, ["scrap_weight_plant_day"])

    assert result.created and result.contract_id == "published.marts.scrap_weight_plant_day"
    contract = parse_contract(result.path)  # validates against the official ODCS JSON schema
    assert [(c.name, c.duckdb_type, c.required) for c in contract.columns] == [
        ("plant_id", "varchar", False),
        ("shift_date", "date", True),
        ("scrap_kg", "double", False),
    ]
    assert contract.primary_key == ["plant_id", "shift_date"]
    # words from the dbt YAML, and for plant_id (not described there) from the other contracts
    assert contract.column("scrap_kg").description == "Scrapped weight, kg"
    assert contract.column("plant_id").description.startswith("Enterprise plant id")
    assert contract.description == "Scrap weight per plant and production day."
    table = contract.raw["schema"][0]
    assert table["physicalName"] == "main_marts.scrap_weight_plant_day" and table["physicalType"] == "table"
    assert [r.get("metric") or r["implementation"] for r in table["quality"]] == [
        "duplicateValues",
        {"expression_is_true": {"arguments": {"expression": "scrap_kg >= 0"}}},
    ]
    (scrap_rule,) = contract.raw["schema"][0]["properties"][2]["quality"]
    assert scrap_rule == {
        "type": "custom",
        "engine": "dbt",
        "implementation": {"accepted_values": {"arguments": {"values": [1]}}},
    }
    assert contract.owner == "enterprise-operational-excellence" and contract.freshness_hours == 24
    assert result.undocumented == []


def test_the_model_yaml_rendered_from_the_drafted_contract_enforces_it_with_the_same_tests(workspace):
    run(workspace, ["scrap_weight_plant_day"])
    (workspace["dbt_project"] / "models" / "marts" / "_scrap__hand.yml").unlink()  # the contract replaces it

    render_all(catalog_dir=workspace["catalog"], dbt_project_dir=workspace["dbt_project"])

    document = yaml.safe_load((workspace["dbt_project"] / "models" / "marts" / "_marts__models.yml").read_text())
    (model,) = [m for m in document["models"] if m["name"] == "scrap_weight_plant_day"]
    assert model["config"] == {"contract": {"enforced": True}}
    # the hand-written column test not_null becomes the model's one test for all required columns
    assert model["data_tests"] == [
        {"columns_not_null": {"arguments": {"column_names": ["shift_date"]}}},
        {"unique_combination_of_columns": {"arguments": {"combination_of_columns": ["plant_id", "shift_date"]}}},
        {"expression_is_true": {"arguments": {"expression": "scrap_kg >= 0"}}},
    ]
    assert [(c["name"], c["data_type"], c.get("data_tests")) for c in model["columns"]] == [
        ("plant_id", "varchar", None),
        ("shift_date", "date", None),
        ("scrap_kg", "double", [{"accepted_values": {"arguments": {"values": [1]}}}]),
    ]


def test_update_adds_and_removes_columns_keeps_curated_fields_and_bumps_the_major_version(workspace):
    before = parse_contract(workspace["catalog"] / "contracts" / "published.marts.oee_plant_day.yaml")

    (result,) = run(workspace, ["oee_plant_day"], update=True)

    assert (result.added, result.removed, result.retyped) == (["oee_target"], ["rq"], [])
    after = parse_contract(result.path)
    assert after.version == "2.0.0" and before.version == "1.0.0"
    assert after.column_names == [n for n in before.column_names if n != "rq"] + ["oee_target"]
    for name in ("oee", "pq", "plant_id"):  # curated: description, unit, KPI, rules, key, required
        assert (
            after.raw["schema"][0]["properties"][after.column_names.index(name)]
            == before.raw["schema"][0]["properties"][before.column_names.index(name)]
        )
    assert after.primary_key == before.primary_key and after.kpi_ids == before.kpi_ids
    assert result.path.read_text(encoding="utf-8").startswith("# Data contract (Open Data Contract Standard v3)")


def test_without_update_an_existing_contract_is_left_alone(workspace):
    path = workspace["catalog"] / "contracts" / "published.marts.oee_plant_day.yaml"
    text = path.read_text(encoding="utf-8")

    (result,) = run(workspace, ["oee_plant_day"])

    assert not result.changed and path.read_text(encoding="utf-8") == text


def test_a_model_that_is_not_built_is_refused_with_what_to_do(workspace):
    with pytest.raises(ScaffoldError, match=r"main_marts.oee_asset_shift is not in the warehouse: build it first"):
        run(workspace, ["oee_asset_shift"])


def test_the_cli_drafts_and_reports_what_to_describe(workspace, capsys):
    args = [
        "scaffold",
        "scrap_weight_plant_day",
        "--warehouse",
        str(workspace["warehouse"]),
        "--catalog-dir",
        str(workspace["catalog"]),
        "--dbt-project-dir",
        str(workspace["dbt_project"]),
    ]

    assert catalog_main(args) == 0
    assert "drafted: published.marts.scrap_weight_plant_day" in capsys.readouterr().out
    assert catalog_main(args) == 0
    assert "exists (use --update to refresh its columns)" in capsys.readouterr().out
