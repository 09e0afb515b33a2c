"""catalog/drift.py: the dbt models, the Dagster bronze assets and the GE suites say exactly what the contracts say,
and `northstar catalog render --check` fails, naming model and column, when a checked file is edited by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest
import yaml

from catalog import CATALOG_DIR
from catalog.cli import main as catalog_main
from catalog.contracts import load_contracts
from catalog.drift import (
    DBT_PROJECT_DIR,
    dagster_asset_drift,
    dbt_model_drift,
    kpi_drift,
    manifest_drift,
    quality_suite_drift,
    uncontracted_models,
    warehouse_drift,
)
from quality.suites import suite_for_contract

CONTRACTS = list(load_contracts().values())
MARTS_YAML = Path("models/marts/_marts__models.yml")


@pytest.fixture
def dbt_copy(tmp_path: Path) -> Path:
    """The repository's dbt project (without build output), to edit by hand."""
    target = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return target


def edit_marts_yaml(dbt_project: Path, edit) -> None:
    path = dbt_project / MARTS_YAML
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit({m["name"]: m for m in document["models"]})
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def column(model: dict, name: str) -> dict:
    return next(c for c in model["columns"] if c["name"] == name)


def messages(drifts) -> list[str]:
    return [str(d) for d in drifts]


# --- the repository as committed ------------------------------------------------------------------------------------


def test_the_dbt_models_follow_their_contracts():
    assert messages(dbt_model_drift(CONTRACTS)) == []


def test_kpi_columns_name_catalog_kpis_whose_formula_columns_exist():
    assert messages(kpi_drift(CONTRACTS, CATALOG_DIR / "kpis")) == []


def test_every_bronze_asset_takes_its_column_schema_and_version_from_its_contract():
    assert messages(dagster_asset_drift(CONTRACTS)) == []


def test_every_ge_suite_expects_what_its_contract_says():
    assert messages(quality_suite_drift(CONTRACTS)) == []


# --- hand edits of the dbt model YAML -------------------------------------------------------------------------------


def test_a_changed_column_type_names_model_column_and_contract(dbt_copy):
    edit_marts_yaml(dbt_copy, lambda models: column(models["oee_plant_day"], "oee").update(data_type="float"))

    assert messages(dbt_model_drift(CONTRACTS, dbt_copy)) == [
        (f"{dbt_copy / MARTS_YAML}: model oee_plant_day, column oee: data_type float; "
         "contract published.marts.oee_plant_day says double")
    ]


def test_a_dropped_and_an_undeclared_column_are_both_named(dbt_copy):
    def edit(models):
        model = models["oee_asset_shift"]
        model["columns"] = [c for c in model["columns"] if c["name"] != "rq"]
        model["columns"].append({"name": "oee_target", "data_type": "double"})

    edit_marts_yaml(dbt_copy, edit)

    found = messages(dbt_model_drift(CONTRACTS, dbt_copy))
    assert any("model oee_asset_shift, column rq: missing; contract published.marts.oee_asset_shift" in m
               for m in found)
    assert any("model oee_asset_shift, column oee_target: not in contract published.marts.oee_asset_shift" in m
               for m in found)


def test_a_published_model_without_an_enforced_contract_is_drift(dbt_copy):
    edit_marts_yaml(dbt_copy, lambda models: models["oee_plant_day"].pop("config"))

    assert any("model oee_plant_day: published model without config: contract: {enforced: true}" in m
               for m in messages(dbt_model_drift(CONTRACTS, dbt_copy)))


def test_nullability_and_key_must_match_the_contract(dbt_copy):
    def edit(models):
        model = models["oee_asset_shift"]
        column(model, "plant_name")["constraints"] = [{"type": "not_null"}]
        asset_id = column(model, "asset_id")
        asset_id.pop("constraints", None)
        required = model["data_tests"][0]["columns_not_null"]["arguments"]["column_names"]
        required.remove("asset_id")
        model["data_tests"][1]["unique_combination_of_columns"]["arguments"]["combination_of_columns"] = ["asset_id"]

    edit_marts_yaml(dbt_copy, edit)

    found = messages(dbt_model_drift(CONTRACTS, dbt_copy))
    assert any("column plant_name: not_null constraint; contract published.marts.oee_asset_shift does not require" in m
               for m in found)
    assert any("column asset_id: no not_null constraint or test; contract published.marts.oee_asset_shift requires"
               in m for m in found)
    assert any("model oee_asset_shift: no uniqueness test on the contract key" in m for m in found)


def test_a_model_missing_from_the_yaml_is_drift(dbt_copy):
    path = dbt_copy / MARTS_YAML
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["models"] = [m for m in document["models"] if m["name"] != "oee_plant_day"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    assert any("model oee_plant_day: no YAML declares the model of contract published.marts.oee_plant_day" in m
               for m in messages(dbt_model_drift(CONTRACTS, dbt_copy)))


def test_the_compiled_manifest_is_checked_too(tmp_path):
    node = {
        "resource_type": "model",
        "name": "oee_plant_day",
        "unique_id": "model.northstar.oee_plant_day",
        "config": {"contract": {"enforced": True}},
        "columns": {
            c.name: {"name": c.name, "data_type": c.duckdb_type}
            for c in load_contracts()["published.marts.oee_plant_day"].columns
        },
    }
    node["columns"]["pq"]["data_type"] = "integer"
    not_null = [
        {"resource_type": "test", "test_metadata": {"name": "not_null"}, "attached_node": node["unique_id"],
         "column_name": name}
        for name in ("plant_id", "shift_date")
    ]
    manifest = tmp_path / "manifest.json"
    tests = {f"test.{i}": test for i, test in enumerate(not_null)}
    manifest.write_text(json.dumps({"nodes": {node["unique_id"]: node, **tests}}))
    plant_day = [load_contracts()["published.marts.oee_plant_day"]]

    assert [d.subject + ": " + d.problem for d in manifest_drift(plant_day, manifest)] == [
        "model oee_plant_day, column pq: data_type integer; contract published.marts.oee_plant_day says bigint"
    ]


# --- `northstar catalog render --check` (what CI runs) --------------------------------------------------------------


def test_render_check_fails_on_a_hand_edited_checked_file_naming_model_and_column(dbt_copy, capsys):
    edit_marts_yaml(
        dbt_copy, lambda models: column(models["oee_asset_shift"], "shift_date").update(data_type="varchar")
    )

    assert catalog_main(["render", "--check", "--dbt-project-dir", str(dbt_copy)]) == 1
    out = capsys.readouterr().out
    assert "files that must follow the contracts differ from them" in out
    assert ("model oee_asset_shift, column shift_date: data_type varchar; "
            "contract published.marts.oee_asset_shift says date") in out


def test_render_check_fails_on_a_hand_edited_generated_file(dbt_copy, capsys):
    macro = dbt_copy / "macros" / "generated" / "kpi_formulas.sql"
    macro.write_text(macro.read_text(encoding="utf-8") + "\n-- tuned by hand\n", encoding="utf-8")

    assert catalog_main(["render", "--check", "--dbt-project-dir", str(dbt_copy)]) == 1
    out = capsys.readouterr().out
    assert "generated files differ from the catalog" in out
    assert "  macros/generated/kpi_formulas.sql" in out
    assert macro.read_text(encoding="utf-8").endswith("-- tuned by hand\n")  # --check writes nothing


# --- Dagster assets, GE suites, KPI references and a built warehouse -------------------------------------------------


def test_a_bronze_asset_whose_column_schema_differs_from_its_contract_is_named():
    contract = load_contracts()["bronze.mes.assets"]
    columns = [dg.TableColumn(c.name, str(c.arrow_type), constraints=dg.TableColumnConstraints(nullable=not c.required))
               for c in contract.columns]
    columns[1] = dg.TableColumn("asset_local_id", "int64", constraints=dg.TableColumnConstraints(nullable=False))
    spec = dg.AssetSpec(
        contract.asset_key,
        metadata={"contract_version": contract.version, "dagster/column_schema": dg.TableSchema(columns=columns)},
    )

    assert messages(dagster_asset_drift([contract], assets=[dg.AssetsDefinition(specs=[spec])])) == [
        "Dagster asset bronze/mes/assets: column asset_local_id: type int64; contract says string"
    ]


def test_a_bronze_contract_without_an_asset_is_named():
    contract = load_contracts()["bronze.mes.assets"]

    assert messages(dagster_asset_drift([contract], assets=[])) == [
        "Dagster asset bronze/mes/assets: contract bronze.mes.assets: no asset with this key"
    ]


def test_a_suite_that_forgets_a_contract_column_is_named():
    contract = load_contracts()["bronze.mes.assets"]

    def forgetful(c):
        suite = suite_for_contract(c)
        kept = [e for e in suite.expectations if not isinstance(e, gxe.ExpectColumnValuesToNotBeNull)
                or e.column != "line_local_id"]
        return gx.ExpectationSuite(name=suite.name, expectations=kept)

    found = messages(quality_suite_drift([contract], build_suite=forgetful))
    assert len(found) == 1 and "not-null columns" in found[0] and "line_local_id" in found[0]


def test_a_kpi_column_naming_an_unknown_kpi_is_named(tmp_path):
    contract = load_contracts()["published.marts.oee_plant_day"]
    kpis = tmp_path / "kpis"
    kpis.mkdir()
    for path in (CATALOG_DIR / "kpis").glob("*.yaml"):
        if path.stem != "quality_ratio":
            shutil.copy(path, kpis)

    assert messages(kpi_drift([contract], kpis)) == [
        (f"{contract.file.relative_to(CATALOG_DIR.parent)}: contract published.marts.oee_plant_day, column "
         f"quality_ratio: names KPI 'quality_ratio', which has no definition in {kpis}")
    ]


def test_a_built_warehouse_is_checked_against_the_contracts():
    plant_day = load_contracts()["published.marts.oee_plant_day"]
    columns = ", ".join(f"{c.name} {c.duckdb_type}" for c in plant_day.columns if c.name != "rq")
    with duckdb.connect() as connection:
        connection.execute("create schema main_marts")
        connection.execute(f"create table main_marts.oee_plant_day ({columns.replace('pq bigint', 'pq integer')})")

        assert sorted(messages(warehouse_drift(connection, [plant_day]))) == [
            "warehouse main_marts.oee_plant_day: column pq: type integer; contract says bigint",
            "warehouse main_marts.oee_plant_day: column rq: missing; contract published.marts.oee_plant_day has it",
        ]


# --- the model YAML generated from the contracts --------------------------------------------------------------------


def test_render_check_fails_on_a_hand_edited_generated_model_yaml(dbt_copy, capsys):
    edit_marts_yaml(dbt_copy, lambda models: column(models["oee_plant_day"], "plant_name").update(description="x"))

    assert catalog_main(["render", "--check", "--dbt-project-dir", str(dbt_copy)]) == 1
    out = capsys.readouterr().out
    assert "generated files differ from the catalog" in out
    assert "  models/marts/_marts__models.yml" in out


def test_a_dbt_model_without_a_contract_is_drift(dbt_copy):
    (dbt_copy / "models" / "marts" / "scrap_by_hand.sql").write_text("select 1 as x\n")

    assert [d.subject + ": " + d.problem for d in uncontracted_models(CONTRACTS, dbt_copy)] == [
        "model scrap_by_hand: no contract (draft it: `northstar catalog scaffold scrap_by_hand`)"
    ]


def test_every_dbt_model_has_a_contract():
    assert uncontracted_models(CONTRACTS) == []
