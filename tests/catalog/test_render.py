"""catalog/render.py: dbt sources, seeds and KPI macros are generated from the catalog and cannot drift silently."""

from __future__ import annotations

import ast
import csv
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from catalog import CATALOG_DIR
from catalog.contracts import get_contract
from catalog.render import (
    DBT_PROJECT_DIR,
    dbt_env,
    delta_extension_path,
    energy_meter,
    formula_columns,
    generated_files,
    load_kpi_definitions,
    render_all,
)

MARTS_YAML = DBT_PROJECT_DIR / "models" / "marts" / "_marts__models.yml"
INTERMEDIATE_YAML = DBT_PROJECT_DIR / "models" / "intermediate" / "_intermediate__models.yml"


@pytest.fixture
def rendered_project(tmp_path: Path) -> Path:
    """A scratch copy of the dbt project's models (the SQL the model YAML is rendered beside), freshly rendered."""
    shutil.copytree(DBT_PROJECT_DIR / "models", tmp_path / "models", ignore=shutil.ignore_patterns("*.yml"))
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


def _model_columns(path: Path, model: str) -> set[str]:
    (entry,) = [m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == model]
    return {c["name"] for c in entry["columns"]}


def test_kpi_formulas_only_use_documented_columns_of_the_elements_they_are_summed_from():
    # asset-shift KPIs: the published elements; plant-day KPIs (SQDCP): the plant-day facts
    columns = {
        "asset_shift": _model_columns(MARTS_YAML, "kpi_elements_asset_shift"),
        "plant_day": _model_columns(INTERMEDIATE_YAML, "int_plant_days_sqdcp_summarized"),
    }
    kpis = load_kpi_definitions()

    for kpi_id, kpi in kpis.items():
        assert set(formula_columns(kpi, kpis)) <= columns[kpi.get("basis", "asset_shift")], kpi_id
        # coverage is always the share of scheduled asset time that reported: asset-shift elements, also for the
        # plant-day KPIs (summed over the plant's asset-shifts of the period, dbt_project/macros/kpi_rollup_elements.sql)
        coverage = kpi.get("coverage") or {}
        assert set(coverage.values()) <= columns["asset_shift"], kpi_id


def test_every_kpi_definition_has_a_worked_example_that_becomes_a_unit_test():
    (unit_tests,) = [f for f in generated_files() if f.path.name == "_int_kpis_computed__unit_tests.yml"]
    tested = {t["expect"]["rows"][0].popitem()[0] for t in yaml.safe_load(unit_tests.content)["unit_tests"]}

    assert tested == set(load_kpi_definitions())


def test_a_ratio_names_its_unit_divisors_and_a_count_keeps_value_equal_to_numerator():
    (kpi_file,) = [f for f in generated_files() if f.path.name == "kpi_formulas.sql"]

    assert "(cast((apt_s / 3600) as double) / nullif(failure_events, 0))" in kpi_file.content  # MTBF in hours
    assert "(cast(apt_s as double) / nullif((apt_s + adet_s), 0))" in kpi_file.content  # technical efficiency
    assert "cast(recordable_incidents as double)" in kpi_file.content
    assert "case when recordable_incidents is not null then 1.0 end" in kpi_file.content


def test_nee_is_its_basis_times_the_factors_with_oees_zero_rule():
    (kpi_file,) = [f for f in generated_files() if f.path.name == "kpi_formulas.sql"]
    nee = kpi_file.content[kpi_file.content.index("{% macro kpi_nee() -%}"):]

    assert "(cast(aupt_s as double) / nullif(pbt_s, 0)) * {{ kpi_effectiveness() }} * {{ kpi_quality_ratio() }}" in nee
    assert "when apt_s = 0 or pq = 0 then 0.0" in nee


def test_a_kpi_with_an_unknown_element_expression_fails_rendering(catalog_copy, tmp_path):
    kpi = catalog_copy / "kpis" / "setup_rate.yaml"
    kpi.write_text(kpi.read_text(encoding="utf-8").replace("denominator: aupt_s", "denominator: aupt_s; drop table x"))

    with pytest.raises(ValueError, match="must be element columns joined by"):
        render_all(catalog_dir=catalog_copy, dbt_project_dir=tmp_path / "dbt")


def _kpi_parameters(kpi_file_content: str) -> dict:
    body = kpi_file_content[kpi_file_content.index("{% macro kpi_parameters() -%}"):]
    return ast.literal_eval(body[body.index("return(") + 7 : body.index(") }}")])


def test_the_energy_meter_reaches_dbt_only_as_the_kpi_definitions_parameters(rendered_project, catalog_copy):
    meter = energy_meter()
    committed = (DBT_PROJECT_DIR / "macros" / "generated" / "kpi_formulas.sql").read_text(encoding="utf-8")
    assert _kpi_parameters(committed)["energy_per_good_unit"] == {
        "meter_tag": meter.tag, "meter_max_gap_s": meter.max_gap_s
    }
    # the model reads the generated macro; no dbt var repeats the values
    model = (DBT_PROJECT_DIR / "models" / "intermediate" / "int_asset_shift_energy_metered.sql").read_text()
    assert "kpi_parameter('energy_per_good_unit', 'meter_max_gap_s')" in model
    assert "kpi_parameter('energy_per_good_unit', 'meter_tag')" in model
    assert "var(" not in model
    dbt_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    assert not [name for name in dbt_vars if "meter" in name]

    # a changed definition changes the generated macro (and nothing else), and check mode reports it
    kpi = catalog_copy / "kpis" / "energy_per_good_unit.yaml"
    kpi.write_text(kpi.read_text(encoding="utf-8").replace(f"meter_max_gap_s: {meter.max_gap_s}", "meter_max_gap_s: 600"))
    assert energy_meter(catalog_copy).max_gap_s == 600
    (changed,) = [f for f in generated_files(catalog_dir=catalog_copy) if f.path.name == "kpi_formulas.sql"]
    assert _kpi_parameters(changed.content)["energy_per_good_unit"]["meter_max_gap_s"] == 600
    assert render_all(check=True, catalog_dir=catalog_copy, dbt_project_dir=rendered_project) == [
        "macros/generated/kpi_formulas.sql"
    ]


@pytest.mark.parametrize(
    ("parameter", "value", "error"),
    [
        ("meter_max_gap_s", "15 min", "positive whole number of seconds"),
        ("meter_max_gap_s", "0", "positive whole number of seconds"),
        ("meter_tag", "power_kw", "must be a kWh tag"),  # a tag of the mapping, but not a kWh counter
        ("meter_tag", "energy_mwh", "must be a kWh tag"),
    ],
)
def test_an_invalid_energy_meter_parameter_fails_validation(catalog_copy, parameter, value, error):
    kpi = catalog_copy / "kpis" / "energy_per_good_unit.yaml"
    document = yaml.safe_load(kpi.read_text(encoding="utf-8"))
    old = f"{parameter}: {document['parameters'][parameter]}"
    kpi.write_text(kpi.read_text(encoding="utf-8").replace(old, f"{parameter}: {value}"))

    with pytest.raises(ValueError, match=error):
        load_kpi_definitions(catalog_copy)


def test_energy_per_good_unit_must_name_its_meter(catalog_copy):
    kpi = catalog_copy / "kpis" / "energy_per_good_unit.yaml"
    kpi.write_text(kpi.read_text(encoding="utf-8").replace("  meter_tag: energy_kwh\n", ""))

    with pytest.raises(ValueError, match="parameters must set meter_tag"):
        load_kpi_definitions(catalog_copy)


def test_each_plants_local_oee_formula_becomes_sql_with_the_cause_of_each_deviation():
    (local_file,) = [f for f in generated_files() if f.path.name == "local_oee_formulas.sql"]
    formulas = ast.literal_eval(local_file.content[local_file.content.index("return(") + 7 : local_file.content.rindex(")")])

    assert formulas["DE-STR"]["availability_sql"] == "coalesce((cast(apt_s as double)) / nullif(cast(pot_s as double), 0), 0.0)"
    assert formulas["DE-STR"]["availability_cause"] == "calendar"
    assert formulas["MX-MTY"]["oee_cause"] == "definition"
    assert (formulas["US-OHI"]["availability_cause"], formulas["US-OHI"]["quality_cause"]) == ("mapping", "mapping")
    assert (formulas["SG-SIN"]["availability_cause"], formulas["SG-SIN"]["performance_cause"]) == ("mapping", "definition")
    # the public sample's engine names more than ISO elements: no SQL, its gap stays unexplained
    assert formulas["AZ-PLANT1"]["oee_sql"] is None


def test_bronze_sources_carry_no_dbt_tests(rendered_project):
    # bronze is validated batch by batch when it lands (the GE suites); a dbt test would rescan the whole history
    for path in (rendered_project / "models/staging").rglob("_*__sources.yml"):
        (source,) = yaml.safe_load(path.read_text())["sources"]
        assert [t["name"] for t in source["tables"] if t.get("data_tests") or t.get("tests")] == []


def test_the_required_columns_of_a_model_are_checked_in_one_test(rendered_project):
    models = yaml.safe_load((rendered_project / "models/marts/_marts__models.yml").read_text())["models"]
    (oee,) = [m for m in models if m["name"] == "oee_asset_shift"]

    assert oee["data_tests"][0] == {
        "columns_not_null": {
            "arguments": {
                "column_names": [c.name for c in get_contract("published.marts.oee_asset_shift").columns if c.required]
            }
        }
    }
    assert not any("not_null" in (c.get("data_tests") or []) for c in oee["columns"])


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
