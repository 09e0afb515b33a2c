"""The `public` profile through Dagster (`northstar demo --network public`): the published supplier-quality mart
holds the defect quantity and downtime minutes per enterprise plant and year after the governed plant-name mapping,
with the sample's exact duplicate rows counted and left out of the sums.

The expected numbers are computed here from the raw CSV files with pandas (the fact table, the plant dimension and
catalog/mappings/plant_names.yaml), independently of the adapter and of the dbt SQL.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from integration_env import demo_environment

from catalog import CATALOG_DIR
from ingestion.public import datasets_dir
from orchestration.cli import run_demo

DATASETS = datasets_dir()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATASETS.is_dir(), reason=f"public datasets not found at {DATASETS}"),
]
SOURCE = "PUB-SQA"


@pytest.fixture(scope="module")
def public_root(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("public_demo")
    with demo_environment(root):
        assert run_demo("public", root) == 0
        yield root


def expected_from_the_raw_files() -> pd.DataFrame:
    facts = pd.read_csv(DATASETS / "supplier_quality" / "Metrics.csv", dtype=str)
    plants = pd.read_csv(DATASETS / "supplier_quality" / "Plant.csv", dtype=str)
    mapping = yaml.safe_load((CATALOG_DIR / "mappings" / "plant_names.yaml").read_text(encoding="utf-8"))
    enterprise = {
        m["local_name"]: m["enterprise_plant_id"] for m in mapping["mappings"] if m["source_plant_id"] == SOURCE
    }

    facts["duplicate"] = facts.duplicated(keep="first")  # identical in every column to an earlier row
    facts = facts.merge(plants, on="Plant ID", how="left", validate="many_to_one")
    facts["enterprise_plant_id"] = facts["Plant"].map(enterprise)
    facts["year"] = facts["Date"].str[:4].astype(int)
    facts["qty"] = facts["Defect Qty"].astype(float)
    facts["minutes"] = facts["Downtime min"].astype(float)
    facts["qty_once"] = facts["qty"].where(~facts["duplicate"], 0.0)
    facts["minutes_once"] = facts["minutes"].where(~facts["duplicate"], 0.0)
    assert facts["enterprise_plant_id"].notna().all(), "every name of the sample has a governed mapping"
    return facts.groupby(["enterprise_plant_id", "year"]).agg(
        record_rows=("qty", "size"),
        duplicate_rows=("duplicate", "sum"),
        defect_qty=("qty_once", "sum"),
        downtime_min=("minutes_once", "sum"),
        defect_qty_reported=("qty", "sum"),
        downtime_min_reported=("minutes", "sum"),
    )


def published(root: Path) -> pd.DataFrame:
    with duckdb.connect(str(root / "published.duckdb"), read_only=True) as connection:
        return connection.execute("select * from main_marts.supplier_quality_plant_year order by all").df()


def test_the_published_mart_holds_defects_and_downtime_per_enterprise_plant_and_year(public_root):
    expected = expected_from_the_raw_files()
    mart = published(public_root).set_index(["enterprise_plant_id", "year"])

    assert mart["is_mapped"].all()
    assert sorted(mart.index) == sorted(expected.index)
    assert mart.index.get_level_values(0).nunique() == 24  # the sample's 24 plants, one enterprise id each
    for key, row in expected.iterrows():
        got = mart.loc[key]
        for column in ("record_rows", "duplicate_rows", "defect_qty", "defect_qty_reported"):
            assert int(got[column]) == int(row[column]), (key, column)
        for column in ("downtime_min", "downtime_min_reported"):
            assert math.isclose(float(got[column]), float(row[column]), rel_tol=0, abs_tol=1e-6), (key, column)


def test_duplicates_are_counted_and_reported_not_summed(public_root):
    expected = expected_from_the_raw_files()
    mart = published(public_root)

    assert int(mart["duplicate_rows"].sum()) == int(expected["duplicate_rows"].sum()) > 0
    added = mart["defect_qty_reported"] - mart["defect_qty"]
    assert int(added.sum()) == int((expected["defect_qty_reported"] - expected["defect_qty"]).sum())


def test_misspelt_plant_names_resolve_to_their_enterprise_plant(public_root):
    names = published(public_root).drop_duplicates("enterprise_plant_id").set_index("enterprise_plant_id")["plant_name"]

    assert names["SQ-DTW"] == "Detroit, MI"  # the sample writes "Detriot, MI"
    assert names["SQ-MKE"] == "Milwaukee, WI"  # "Milwaukee, Wi"
    assert names["SQ-CVG"] == "Cincinnati, OH"  # "Cincinnati OH"
