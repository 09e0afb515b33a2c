"""catalog/render.py: dbt sources, seeds and KPI macros are generated from the catalog and cannot drift silently."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from catalog import CATALOG_DIR
from catalog.render import DBT_PROJECT_DIR, dbt_env, delta_extension_path, generated_files, render_all

MARTS_YAML = DBT_PROJECT_DIR / "models" / "marts" / "_marts__models.yml"


@pytest.fixture
def rendered_project(tmp_path: Path) -> Path:
    """A scratch dbt project directory holding freshly rendered artifacts."""
    render_all(dbt_project_dir=tmp_path)
    return tmp_path


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_committed_dbt_artifacts_match_the_catalog():
    assert render_all(check=True) == []


def test_check_reports_a_hand_edited_generated_file_and_writes_nothing(rendered_project):
    edited = rendered_project / "macros" / "generated" / "kpi_formulas.sql"
    edited.write_text(edited.read_text().replace("nullif(pbt_s, 0)", "pbt_s"))
    edited_text = edited.read_text()

    assert render_all(check=True, dbt_project_dir=rendered_project) == ["macros/generated/kpi_formulas.sql"]
    assert edited.read_text() == edited_text


def test_render_restores_a_hand_edited_seed(rendered_project):
    seed = rendered_project / "seeds" / "catalog" / "plants.csv"
    seed.write_text(seed.read_text().replace("Europe/Berlin", "Europe/Paris"))

    assert render_all(dbt_project_dir=rendered_project) == ["seeds/catalog/plants.csv"]
    assert "Europe/Berlin" in seed.read_text()
    assert render_all(check=True, dbt_project_dir=rendered_project) == []


def test_check_reports_a_stale_file_in_a_generated_directory(rendered_project):
    (rendered_project / "seeds" / "catalog" / "retired_lookup.csv").write_text("a\n1\n")

    assert render_all(check=True, dbt_project_dir=rendered_project) == ["seeds/catalog/retired_lookup.csv"]
    assert render_all(dbt_project_dir=rendered_project) == ["seeds/catalog/retired_lookup.csv"]
    assert not (rendered_project / "seeds" / "catalog" / "retired_lookup.csv").exists()


def test_every_generated_text_file_says_it_is_generated_and_from_where():
    for file in generated_files():
        if file.path.suffix == ".csv":
            continue  # dbt's seed loader accepts no comment line; _catalog__seeds.yml carries the note for them
        first_line = file.content.splitlines()[0]
        assert "generated from catalog/" in first_line, file.path
        assert "by catalog/render.py — do not edit" in first_line, file.path


def test_mapping_seed_keeps_plant_local_codes_verbatim_with_their_iso_element(rendered_project):
    with (rendered_project / "seeds" / "catalog" / "machine_state_mappings.csv").open(encoding="utf-8") as f:
        rows = {(r["plant_id"], r["local_code"]): r for r in csv.DictReader(f)}

    assert rows[("DE-STR", "Störung Hydraulik")]["iso_element"] == "ADET"
    assert rows[("MX-MTY", "100")]["enterprise_state"] == "RUNNING"
    assert rows[("US-OHI", "Lunch break")]["iso_element"] == "PDOT"


def test_seed_column_types_keep_numeric_looking_codes_as_strings(rendered_project):
    properties = yaml.safe_load((rendered_project / "seeds" / "catalog" / "_catalog__seeds.yml").read_text())
    mappings = next(s for s in properties["seeds"] if s["name"] == "machine_state_mappings")

    assert mappings["config"]["column_types"]["local_code"] == "varchar"
    assert mappings["config"]["column_types"]["valid_from"] == "date"


def test_a_mapping_to_an_unknown_enterprise_state_fails_rendering(catalog_copy, tmp_path):
    mappings = catalog_copy / "mappings" / "machine_states.yaml"
    mappings.write_text(
        mappings.read_text(encoding="utf-8").replace("enterprise_state: SETUP,", "enterprise_state: SETUPP,")
    )

    with pytest.raises(ValueError, match="unknown enterprise_state 'SETUPP'"):
        render_all(catalog_dir=catalog_copy, dbt_project_dir=tmp_path / "dbt")


def test_sources_read_the_delta_path_of_their_contract_under_the_asset_key_that_mirrors_it(rendered_project):
    for path in sorted(rendered_project.glob("models/staging/*/_*__sources.yml")):
        (source,) = yaml.safe_load(path.read_text())["sources"]
        for table in source["tables"]:
            meta = table["config"]["meta"]
            asset_key = meta["dagster"]["asset_key"]
            assert asset_key == ["bronze", source["name"], table["name"]]
            assert meta["external_location"] == (
                f"delta_scan('{{{{ env_var('NORTHSTAR_DATA_ROOT') }}}}/lake/{'/'.join(asset_key)}')"
            )


def test_kpi_formulas_only_use_columns_of_the_published_asset_shift_mart():
    marts = yaml.safe_load(MARTS_YAML.read_text())
    (asset_shift,) = [m for m in marts["models"] if m["name"] == "oee_asset_shift"]
    mart_columns = {c["name"] for c in asset_shift["columns"]}

    for path in sorted((CATALOG_DIR / "kpis").glob("*.yaml")):
        kpi = yaml.safe_load(path.read_text())
        formula = kpi["formula"]
        used = {formula["numerator"], formula["denominator"]} if formula["kind"] == "ratio" else set(formula["factors"])
        assert used <= mart_columns, path.name


def test_oee_macro_states_the_design_rule_for_empty_denominators():
    (kpi_file,) = [f for f in generated_files() if f.path.name == "kpi_formulas.sql"]

    assert "when nullif(pbt_s, 0) is null then null" in kpi_file.content
    assert "when apt_s = 0 or pq = 0 then 0.0" in kpi_file.content


def test_dbt_env_points_dbt_at_the_data_root_and_a_loadable_delta_extension(tmp_path):
    env = dbt_env(tmp_path)

    assert env["NORTHSTAR_DATA_ROOT"] == str(tmp_path.resolve())
    assert env["NORTHSTAR_DUCKDB_DELTA_EXTENSION"] == str(delta_extension_path())
    assert Path(env["DBT_PROFILES_DIR"], "profiles.yml").is_file()
    with duckdb.connect() as connection:
        connection.execute(f"load '{env['NORTHSTAR_DUCKDB_DELTA_EXTENSION']}'")
        loaded = connection.execute("select loaded from duckdb_extensions() where extension_name = 'delta'").fetchone()
    assert loaded == (True,)
