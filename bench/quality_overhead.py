"""Quality-check overhead: what the checks add to the ingest and build they guard (target: at most 25%).

Two measurements side by side:

- the whole pipeline (the issue's definition): the `demo` network through Dagster (`northstar_main`), every step
  timed by Dagster; the checks are the bronze suites (`check_seconds` on each check result: read back, validate,
  record) plus every dbt data and unit test (dbt's run_results). Share = checks / (job time - checks).
- one large batch: the contract suite and catalog rules on a 500,000-row extract against that extract's ingest alone
  (the worst case: no build to share the cost with).

What the pipeline runs on every ingested batch (orchestration/defs/ingestion.py): the contract suite and the catalog
rules (allowed codes from the mappings, referential integrity to the asset and material master) on the rows this
ingest wrote. Master data comes from the `ci` network's MX-MTY extracts, so every check runs on real codes and
passes; the batch is a large production-count extract of that plant.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from bench import kpi_build
from bench.extract_ingest import write_counts_csv
from bench.kpi_build import run_dbt
from bench.report import Measurement, add
from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.extracts import ingest_table
from ingestion.simulator import generate_network
from quality.rules import References
from quality.suites import validate_batch

SIZES = {"small": 500_000, "full": 2_000_000}
PLANT = "MX-MTY"
COUNTS = "bronze.mes.production_counts"
BASE = datetime(2027, 1, 1)  # after the ci network's days


def _master_codes(lake: Path, contract_id: str, column: str) -> list[str]:
    table = DeltaTable(str(lake.parent / get_contract(contract_id).path)).to_pyarrow_table(filters=[("plant_id", "=", PLANT)])
    return sorted(set(table[column].to_pylist()))


def run(report: dict[str, Any], scale: str) -> None:
    run_batch(report, scale)
    run_pipeline(report)
    run_build_at_scale(report, scale)


def run_batch(report: dict[str, Any], scale: str) -> None:
    """The contract suite and catalog rules on one large batch, against that batch's ingest alone."""
    n = SIZES.get(scale, SIZES["small"])
    print(f"quality overhead ({n:,} rows)", flush=True)
    contract = get_contract(COUNTS)
    plants = {PLANT: load_plants()[PLANT]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate_network("ci", work / "ci")
        lake = work / "lake"
        for master in ("bronze.mes.assets", "bronze.erp.materials"):
            ingest_table(get_contract(master), plants, work / "ci/landing", lake)
        assets = _master_codes(lake, "bronze.mes.assets", "asset_local_id")
        materials = _master_codes(lake, "bronze.erp.materials", "material_local_id")
        references = References(lake_root=lake)
        # warm-up: imports, GE context, the master data cache
        write_counts_csv(work / "warm/MX-MTY/mes/produccion_w.csv", 1_000, assets, materials, BASE)
        ingest_table(contract, plants, work / "warm", work / "warm_lake")
        validate_batch(contract, DeltaTable(str(work / "warm_lake/bronze/mes/production_counts")).to_pyarrow_table(), references)

        write_counts_csv(work / "landing/MX-MTY/mes/produccion_bench.csv", n, assets, materials, BASE)
        start = time.perf_counter()
        ingest_table(contract, plants, work / "landing", lake)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        # as the pipeline does: the rows this ingest wrote, read back from Delta, then one result
        batch = DeltaTable(str(lake / "bronze/mes/production_counts")).to_pyarrow_table()
        result = validate_batch(contract, batch, references)
        check_s = time.perf_counter() - start
        assert result.success and result.rows == n, result.summary()
        share = check_s / ingest_s
        add(report, Measurement("contract suite and catalog rules on an ingested batch, share of ingest time",
                                share * 100, "%", target="<= 25%", met=share <= 0.25,
                                notes=f"{len(result.outcomes)} GE expectations (columns, nulls, bounds, key, allowed "
                                      f"codes, master data; row-level ones evaluated in Arrow) on {n:,} rows: "
                                      f"{check_s:.2f}s vs ingest {ingest_s:.2f}s"))


def _job_and_ge_seconds(data_root: Path) -> tuple[float, float, int]:
    """(job seconds, GE check seconds, GE checks) of the last run in the data root's Dagster home (step times)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(data_root / "dagster")) as instance:
        run = instance.get_run_records(limit=1)[0].dagster_run
        stats = instance.get_run_step_stats(run.run_id)
        job_s = sum(s.end_time - s.start_time for s in stats if s.end_time and s.start_time)
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        seconds = [r.event_log_entry.dagster_event.event_specific_data.metadata.get("check_seconds") for r in records]
        ge = [m.value for m in seconds if m is not None]
    return job_s, sum(ge), len(ge)


def run_pipeline(report: dict[str, Any]) -> None:
    """The checks' share of the whole pipeline: the demo network through Dagster.

    GE suites report their own time on each check result. dbt tests run inside the dbt step, so their cost is measured
    as wall time: `dbt build` (models and data tests, as the pipeline runs it) minus `dbt run` (models only) on the
    same warehouse, best of two.
    """
    from orchestration.cli import run_demo

    print("quality overhead in the pipeline (demo network through Dagster)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["DAGSTER_HOME"] = str(root / "dagster")
        try:
            code = run_demo("demo", root)
        finally:
            os.environ.pop("DAGSTER_HOME", None)
        assert code == 0, "the demo pipeline failed"
        job_s, ge_s, ge_n = _job_and_ge_seconds(root)
        run_s, build_s = [], []
        for _ in range(2):
            # as the pipeline builds (orchestration/defs/dbt.py: unit tests run in CI, not in pipeline runs)
            run_s.append(run_dbt(root, "run")[0])
            build_s.append(run_dbt(root, "build", "--exclude-resource-type", "unit_test")[0])
    tests_s = max(min(build_s) - min(run_s), 0.0)
    checks_s = ge_s + tests_s
    share = checks_s / (job_s - checks_s)
    add(report, Measurement("checks' share of the pipeline (ingest + build), demo network", share * 100, "%",
                            target="<= 25%", met=share <= 0.25,
                            notes=f"{ge_n} GE suite checks {ge_s:.1f}s + dbt tests {tests_s:.1f}s (dbt build "
                                  f"{min(build_s):.1f}s - dbt run {min(run_s):.1f}s) of a {job_s:.1f}s Dagster job"))


def _build_minus_run(work: Path, *args: str) -> tuple[float, float]:
    """(`dbt run` seconds, `dbt build` seconds) of the KPI library with `args`, as the pipeline builds (no unit
    tests), alternately on the same warehouse, best of two each; parsed once first (new vars make dbt parse again)."""
    run_dbt(work, "parse", *args)
    run_s, build_s = [], []
    for _ in range(2):
        run_s.append(run_dbt(work, "run", *kpi_build.KPI_SELECTION, *args)[0])
        build_s.append(run_dbt(work, "build", *kpi_build.KPI_SELECTION, "--exclude-resource-type", "unit_test",
                               *args)[0])
    return min(run_s), min(build_s)


def run_build_at_scale(report: dict[str, Any], scale: str) -> None:
    """The dbt tests' share of the KPI library's build on the KPI benchmark's bronze (`--scale full`: 480 assets x
    365 days, the bench network's asset-days): the full rebuild of all history, and the daily run of one more
    production day (the partition vars) on top of it. Tests = `dbt build` - `dbt run`, CLI wall time."""
    history, new_day, rows = kpi_build._prepare(scale)
    shape = (f"{kpi_build.SCALES[scale].assets_per_plant * len(kpi_build.PLANTS)} assets x "
             f"{kpi_build.SCALES[scale].days} days, {rows['bronze.mes.machine_states']:,} machine states")
    print(f"quality overhead in the KPI build ({shape})", flush=True)
    work = kpi_build._fresh_copy(history, history.parent / "work_checks")
    run_dbt(work, "seed")
    run_s, build_s = _build_minus_run(work)
    tests_s = max(build_s - run_s, 0.0)
    add(report, Measurement(f"dbt tests' share of the full KPI build, {scale} scale", tests_s / run_s * 100, "%",
                            target="<= 25%", met=tests_s <= 0.25 * run_s,
                            notes=f"{shape}: dbt build {build_s:.1f}s - dbt run {run_s:.1f}s = tests {tests_s:.1f}s"))
    kpi_build.append_new_day(work, new_day)
    day = kpi_build.production_days(kpi_build.SCALES[scale])[-1]
    run_s, build_s = _build_minus_run(work, *kpi_build._dbt_vars(day))
    tests_s = max(build_s - run_s, 0.0)
    add(report, Measurement(f"dbt tests' share of the daily KPI run, {scale} scale", tests_s / run_s * 100, "%",
                            target="<= 25%", met=tests_s <= 0.25 * run_s,
                            notes=f"one production day ({day}) on {shape}: dbt build {build_s:.1f}s - dbt run "
                                  f"{run_s:.1f}s = tests {tests_s:.1f}s"))
