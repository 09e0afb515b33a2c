"""Quality-check overhead: the checks' cost as a share of the ingest they guard (target: at most 25%).

What the pipeline runs on every ingested batch (orchestration/defs/ingestion.py): the contract suite and the catalog
rules (allowed codes from the mappings, referential integrity to the asset and material master) on the rows this
ingest wrote. Master data comes from the `ci` network's MX-MTY extracts, so every check runs on real codes and
passes; the batch is a large production-count extract of that plant.
"""

from __future__ import annotations

import csv
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from bench.extract_ingest import HEADER
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


def _write_counts(path: Path, n: int, assets: list[str], materials: list[str]) -> None:
    """n production-count rows of the plant's real assets and materials, unique natural keys (one-minute intervals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    base = datetime(2027, 1, 1)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(n):
            start = base + timedelta(minutes=i // len(assets))
            w.writerow([assets[i % len(assets)], f"OT-{i // 4000}", materials[i % len(materials)],
                        start.strftime("%Y-%m-%d %H:%M:%S"), (start + timedelta(seconds=59)).strftime("%Y-%m-%d %H:%M:%S"),
                        50, 48, 2, 0])


def _master_codes(lake: Path, contract_id: str, column: str) -> list[str]:
    table = DeltaTable(str(lake.parent / get_contract(contract_id).path)).to_pyarrow_table(filters=[("plant_id", "=", PLANT)])
    return sorted(set(table[column].to_pylist()))


def run(report: dict[str, Any], scale: str) -> None:
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
        _write_counts(work / "warm/MX-MTY/mes/produccion_w.csv", 1_000, assets, materials)
        ingest_table(contract, plants, work / "warm", work / "warm_lake")
        validate_batch(contract, DeltaTable(str(work / "warm_lake/bronze/mes/production_counts")).to_pyarrow_table(), references)

        _write_counts(work / "landing/MX-MTY/mes/produccion_bench.csv", n, assets, materials)
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
