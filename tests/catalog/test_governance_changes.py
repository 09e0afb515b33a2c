"""A proposal's changes are classified (breaking or not) and its dependents come from lineage: the dbt manifest, the
KPI definitions and the app pages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from catalog import CATALOG_DIR
from catalog.governance import Governance, Workspace
from catalog.governance.changes import classify
from catalog.governance.lineage import Lineage

REPO_ROOT = CATALOG_DIR.parent


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def categories(changes) -> list[tuple[str, bool]]:
    return [(c.category, c.breaking) for c in changes]


def contract_text(edit) -> tuple[str, str]:
    old = text(CATALOG_DIR / "contracts" / "published.marts.oee_plant_day.yaml")
    document = yaml.safe_load(old)
    edit(document["schema"][0]["properties"])
    return old, yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# --- classification -------------------------------------------------------------------------------------------------


def test_a_removed_column_is_breaking():
    old, new = contract_text(lambda props: props.remove(next(p for p in props if p["name"] == "rq")))

    assert categories(classify("contract", old, new)) == [("removed column", True)]


def test_a_type_change_is_breaking_and_an_added_column_is_not():
    def edit(props):
        next(p for p in props if p["name"] == "pq")["physicalType"] = "integer"
        props.append({"name": "oee_target", "logicalType": "number", "physicalType": "double", "description": "x"})

    old, new = contract_text(edit)

    assert categories(classify("contract", old, new)) == [("added column", False), ("type change", True)]


def test_a_column_that_may_now_be_null_is_breaking():
    old, new = contract_text(lambda props: next(p for p in props if p["name"] == "plant_id").pop("required"))

    assert ("nullability change", True) in categories(classify("contract", old, new))


def test_a_formula_change_is_breaking_and_a_target_change_is_not():
    old = text(CATALOG_DIR / "kpis" / "availability.yaml")
    formula = old.replace("numerator: apt_s", "numerator: apt_s + aust_s")
    target = old.replace("target: 0.90", "target: 0.92")

    assert categories(classify("kpi", old, formula)) == [("formula change", True)]
    changes = classify("kpi", old, target)
    assert categories(changes) == [("target change", False)]
    assert changes[0].detail == "target: 0.9 -> 0.92"


def test_a_parameter_change_is_breaking():
    old = text(CATALOG_DIR / "kpis" / "energy_per_good_unit.yaml")
    gap = old.replace("meter_max_gap_s: 900", "meter_max_gap_s: 600")
    assert gap != old

    assert categories(classify("kpi", old, gap)) == [("parameter change", True)]


def test_every_mapping_change_is_breaking_and_named_by_plant_and_code():
    old = text(CATALOG_DIR / "mappings" / "machine_states.yaml")
    remapped = '  - {plant_id: DE-STR, local_code: "Pause", enterprise_state: NO_ORDER, valid_from: "2027-01-01"}\n'
    kept = [line for line in old.splitlines(keepends=True) if 'local_code: "JAM"' not in line]
    new = "".join(kept) + remapped
    assert len(kept) == len(old.splitlines()) - 1

    changes = classify("mapping", old, new)
    assert categories(changes) == [("mapping change", True), ("mapping change", True)]
    assert [c.detail for c in changes] == [
        "added DE-STR 'Pause' (valid from 2027-01-01) -> {\"enterprise_state\": \"NO_ORDER\"}",
        "removed SG-SIN 'JAM' (valid from 2020-01-01)",
    ]


def test_a_plant_schedule_change_is_breaking():
    old = text(CATALOG_DIR / "plants" / "SG-SIN.yaml")
    document = yaml.safe_load(old)
    document["timezone"] = "Asia/Tokyo"

    assert categories(classify("plant", old, yaml.safe_dump(document))) == [("schedule change", True)]


def test_a_first_version_is_a_new_item_and_a_comment_is_not_a_change():
    old = text(CATALOG_DIR / "kpis" / "oee.yaml")

    assert categories(classify("kpi", None, old)) == [("new item", False)]
    assert categories(classify("kpi", old, "# reviewed\n" + old)) == [("comments or formatting", False)]


# --- dependents from lineage ----------------------------------------------------------------------------------------


def node(kind: str, name: str, *, schema: str | None = None, macros: tuple[str, ...] = (), **extra) -> dict:
    return {"resource_type": kind, "name": name, "config": {"schema": schema} if schema else {},
            "depends_on": {"macros": [f"macro.northstar.{m}" for m in macros]}, **extra}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with the real catalog and apps, and a small compiled manifest of the OEE lineage."""
    ignore = shutil.ignore_patterns("*.py", "__pycache__", "governance")
    shutil.copytree(CATALOG_DIR, tmp_path / "catalog", ignore=ignore)
    shutil.copytree(REPO_ROOT / "apps", tmp_path / "apps", ignore=shutil.ignore_patterns("__pycache__"))
    kpi_macros = ("kpi_availability", "kpi_effectiveness", "kpi_quality_ratio", "kpi_oee")
    nodes = {
        "seed.northstar.machine_state_mappings": node(
            "seed", "machine_state_mappings", schema="catalog",
            description="Plant-local machine state code. Generated from catalog/mappings/machine_states.yaml."),
        "model.northstar.int_asset_shifts_summarized": node("model", "int_asset_shifts_summarized",
                                                            schema="intermediate"),
        "model.northstar.oee_asset_shift": node("model", "oee_asset_shift", schema="marts", macros=kpi_macros),
        "model.northstar.oee_plant_day": node("model", "oee_plant_day", schema="marts", macros=kpi_macros),
        "model.northstar.int_sensor_readings_hourly": node("model", "int_sensor_readings_hourly",
                                                           schema="intermediate"),
    }
    sources = {
        "source.northstar.mes.production_counts": {
            "resource_type": "source", "source_name": "mes", "name": "production_counts",
            "config": {"meta": {"dagster": {"asset_key": ["bronze", "mes", "production_counts"]}}},
        },
    }
    child_map = {
        "source.northstar.mes.production_counts": ["model.northstar.int_asset_shifts_summarized"],
        "seed.northstar.machine_state_mappings": ["model.northstar.int_asset_shifts_summarized"],
        "model.northstar.int_asset_shifts_summarized": ["model.northstar.oee_asset_shift"],
        "model.northstar.oee_asset_shift": ["model.northstar.oee_plant_day"],
    }
    parent_map: dict[str, list[str]] = {}
    for parent, children in child_map.items():
        for child in children:
            parent_map.setdefault(child, []).append(parent)
    target = tmp_path / "dbt_project" / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(
        {"nodes": nodes, "sources": sources, "child_map": child_map, "parent_map": parent_map}))
    return tmp_path


def test_a_bronze_contract_reaches_the_marts_their_kpis_and_the_pages_that_read_them(repo):
    deps = Lineage(repo / "catalog", repo).dependents("contract:bronze.mes.production_counts")

    assert {"bronze/mes/production_counts", "intermediate/int_asset_shifts_summarized", "marts/oee_asset_shift",
            "marts/oee_plant_day"} <= set(deps.assets)
    assert {"availability", "effectiveness", "quality_ratio", "oee"} <= set(deps.kpis)
    assert deps.pages == ("apps/app_pages/plant_drilldown.py", "apps/app_pages/scorecard.py")


def test_a_kpi_reaches_the_kpis_computed_from_it_and_the_pages_showing_them(repo):
    deps = Lineage(repo / "catalog", repo).dependents("kpi:quality_ratio")

    assert deps.assets == ("marts/oee_asset_shift", "marts/oee_plant_day")
    assert {"quality_ratio", "oee"} <= set(deps.kpis) and "availability" not in deps.kpis
    assert "apps/app_pages/scorecard.py" in deps.pages


def test_a_mapping_reaches_the_marts_through_the_seed_rendered_from_it(repo):
    deps = Lineage(repo / "catalog", repo).dependents("mapping:machine_states")

    assert deps.assets[0] == "catalog/machine_state_mappings" and "marts/oee_plant_day" in deps.assets
    assert "oee" in deps.kpis


def test_a_mart_uses_its_contract_kpis_and_everything_upstream(repo):
    used = Lineage(repo / "catalog", repo).items_in_use(["marts", "oee_plant_day"])

    assert {"contract:published.marts.oee_plant_day", "contract:published.marts.oee_asset_shift",
            "contract:silver.intermediate.int_asset_shifts_summarized", "contract:bronze.mes.production_counts",
            "mapping:machine_states", "kpi:oee", "kpi:availability"} <= set(used)


def test_without_a_manifest_the_dependents_say_dbt_lineage_is_missing(repo):
    (repo / "dbt_project" / "target" / "manifest.json").unlink()
    deps = Lineage(repo / "catalog", repo).dependents("kpi:oee")

    assert deps.assets == ("marts/oee_asset_shift", "marts/oee_plant_day")
    assert "no dbt manifest" in deps.notes[0]


def test_a_proposal_review_shows_the_diff_changes_and_dependents(repo):
    gov = Governance(Workspace(catalog_dir=repo / "catalog", governance_dir=repo / "ledger", repo_root=repo))
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")
    gov.approve(proposal.id, actor="bjorn", reason="ok")
    gov.approve(proposal.id, actor="chen", reason="ok")
    content = gov.current("kpi:oee").replace(b"target: 0.85", b"target: 0.8")
    change, _ = gov.propose("kpi:oee", actor="bjorn", reason="2027 target", content=content)

    review = gov.review(change.label)
    assert [str(c) for c in review.changes] == ["target change: target: 0.85 -> 0.8"] and not review.breaking
    assert "-target: 0.85\n+target: 0.8\n" in review.diff
    assert "apps/app_pages/scorecard.py" in review.dependents.pages
