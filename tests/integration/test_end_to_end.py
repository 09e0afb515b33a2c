"""The whole small network through Dagster, as `make demo` runs it, checked against the simulator's ground truth.

Real parts only: the simulator writes extracts, a real Tansu broker carries the sensor stream, Dagster materializes
every asset (Delta bronze tables, GE checks, dbt build), and the published mart is compared with the truth.
"""

from __future__ import annotations

import math

import duckdb
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from integration_env import demo_environment

from orchestration.cli import run_demo

pytestmark = pytest.mark.slow

ELEMENTS = ["pot_s", "pdot_s", "pbt_s", "apt_s", "aust_s", "adet_s", "adot_s", "pq", "gq", "sq", "rq", "pri_pq_s"]
KPIS = ["availability", "effectiveness", "quality_ratio", "oee"]
BRONZE = ["mes/assets", "mes/machine_states", "mes/production_counts", "mes/shift_calendar", "erp/materials",
          "sensor/readings"]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("northstar")
    with demo_environment(root):
        assert run_demo("ci", root) == 0
        yield root


def _mart(root, table: str) -> list[dict]:
    with duckdb.connect(str(root / "published.duckdb"), read_only=True) as con:
        cur = con.execute(f"select * from main_marts.{table}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)


def test_published_oee_equals_ground_truth_for_every_asset_shift(demo_root):
    truth = pq.read_table(demo_root / "simulator/ground_truth/asset_shift.parquet").to_pylist()
    published = {(r["asset_id"], r["shift_started_at"]): r for r in _mart(demo_root, "oee_asset_shift")}
    assert len(published) == len(truth) > 0
    mismatches = []
    for t in truth:
        row = published[(t["asset_id"], t["shift_started_at"])]
        for col in ELEMENTS + KPIS:
            if not _close(row[col], t[col]):
                mismatches.append((t["asset_id"], t["shift_code"], str(t["shift_date"]), col, row[col], t[col]))
    assert not mismatches, mismatches[:10]


def test_plant_day_rollup_is_a_ratio_of_sums_of_the_truth(demo_root):
    truth = pq.read_table(demo_root / "simulator/ground_truth/asset_shift.parquet").to_pylist()
    sums: dict[tuple, dict[str, float]] = {}
    for t in truth:
        acc = sums.setdefault((t["plant_id"], t["shift_date"]), {c: 0.0 for c in ELEMENTS})
        for c in ELEMENTS:
            acc[c] += t[c]
    published = {(r["plant_id"], r["shift_date"]): r for r in _mart(demo_root, "oee_plant_day")}
    assert set(published) == set(sums)
    for key, acc in sums.items():
        a, e, q = acc["apt_s"] / acc["pbt_s"], acc["pri_pq_s"] / acc["apt_s"], acc["gq"] / acc["pq"]
        row = published[key]
        assert _close(row["availability"], a) and _close(row["effectiveness"], e)
        assert _close(row["quality_ratio"], q) and _close(row["oee"], a * e * q), key


def test_every_sensor_reading_landed_exactly_once(demo_root):
    truth = pq.read_table(demo_root / "simulator/ground_truth/sensor_readings.parquet")
    rows = DeltaTable(str(demo_root / "lake/bronze/sensor/readings")).to_pyarrow_table()
    assert rows.num_rows == truth.num_rows
    keys = rows.group_by(["plant_id", "asset_local_id", "tag", "reading_at"]).aggregate([])
    assert keys.num_rows == truth.num_rows


def test_a_second_demo_run_is_idempotent(demo_root):
    before = {t: DeltaTable(str(demo_root / "lake/bronze" / t)).to_pyarrow_table().num_rows for t in BRONZE}
    mart_before = sorted(_mart(demo_root, "oee_asset_shift"), key=lambda r: (r["asset_id"], r["shift_started_at"]))
    assert run_demo("ci", demo_root) == 0
    after = {t: DeltaTable(str(demo_root / "lake/bronze" / t)).to_pyarrow_table().num_rows for t in BRONZE}
    assert after == before
    mart_after = sorted(_mart(demo_root, "oee_asset_shift"), key=lambda r: (r["asset_id"], r["shift_started_at"]))
    assert mart_after == mart_before


def test_injected_bad_data_blocks_publication_and_the_published_layer_keeps_the_last_good_version(demo_root):
    """Write-audit-publish (scenario 17): a re-sent extract that repeats its rows replaces its plant-day, and its
    duplicate natural keys pass the door (each row is well-formed) but fail the contract suite; nothing is published,
    the last good data stays, and the log names suite, expectation and count."""
    from quality.publication import read_status

    before_status = read_status(demo_root / "published.duckdb")
    before = sorted(_mart(demo_root, "oee_asset_shift"), key=lambda r: (r["asset_id"], r["shift_started_at"]))
    source = next((demo_root / "landing/DE-STR/mes").glob("mengen_*.csv"))
    lines = source.read_bytes().splitlines(keepends=True)
    (demo_root / "landing/DE-STR/mes/mengen_resent.csv").write_bytes(lines[0] + b"".join(lines[1:6]) * 2)
    try:
        assert run_demo("ci", demo_root) == 1
    finally:
        (demo_root / "landing/DE-STR/mes/mengen_resent.csv").unlink()
    after = sorted(_mart(demo_root, "oee_asset_shift"), key=lambda r: (r["asset_id"], r["shift_started_at"]))
    assert after == before
    status = read_status(demo_root / "published.duckdb")
    assert status.status == "blocked" and status.data_as_of == before_status.data_as_of
    unique = [r for r in status.reasons if r.get("expectation") == "expect_compound_columns_to_be_unique"]
    assert unique and unique[0]["check"] == "bronze/mes/production_counts:contract_suite"
    assert unique[0]["suite"] == "bronze.mes.production_counts.v1.0.0" and unique[0]["failing"] == 10
