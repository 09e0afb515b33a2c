"""Extract ingest benchmark: CSV -> validated bronze Delta, against pyarrow.csv + write_deltalake and a naive peer."""

from __future__ import annotations

import csv
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from deltalake import write_deltalake

from bench.report import Measurement, add
from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.extracts import ingest_table

SIZES = {"small": 500_000, "full": 2_000_000}
HEADER = ["equipo", "orden", "material", "inicio", "fin", "producido", "buenas", "desecho", "retrabajo"]


BENCH_ASSETS = [f"PR-{n:02d}" for n in range(40)]


def write_counts_csv(path: Path, n: int, assets: list[str] = BENCH_ASSETS, materials: list[str] = ("M-10",),
                     base: datetime = datetime(2026, 6, 1)) -> None:
    """n production-count rows with unique natural keys: every asset once per one-minute interval."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(n):
            start = base + timedelta(minutes=i // len(assets))
            w.writerow([assets[i % len(assets)], f"OT-{i // 4000}", materials[i % len(materials)],
                        start.strftime("%Y-%m-%d %H:%M:%S"), (start + timedelta(seconds=59)).strftime("%Y-%m-%d %H:%M:%S"),
                        50, 48, 2, 0])


def _limit(path: Path, uri: str) -> float:
    start = time.perf_counter()
    table = pacsv.read_csv(path)
    write_deltalake(uri, table)
    return time.perf_counter() - start


def _naive(path: Path, uri: str) -> float:
    """csv.DictReader, per-row parsing and validation in Python, one write."""
    contract = get_contract("bronze.mes.production_counts")
    start = time.perf_counter()
    rows = []
    now = datetime.now(timezone.utc)
    with path.open(newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            try:
                rows.append({"plant_id": "MX-MTY", "asset_local_id": r["equipo"], "order_id": r["orden"],
                             "material_local_id": r["material"],
                             "interval_start_local": datetime.strptime(r["inicio"], "%Y-%m-%d %H:%M:%S"),
                             "interval_end_local": datetime.strptime(r["fin"], "%Y-%m-%d %H:%M:%S"),
                             "produced_qty": int(r["producido"]), "good_qty": int(r["buenas"]),
                             "scrap_qty": int(r["desecho"]), "rework_qty": int(r["retrabajo"]),
                             "source_file": path.name, "source_line": line, "ingested_at": now})
            except ValueError:
                continue
    write_deltalake(uri, pa.Table.from_pylist(rows, schema=contract.arrow_schema()))
    return time.perf_counter() - start


def run(report: dict[str, Any], scale: str) -> None:
    n = SIZES.get(scale, SIZES["small"])
    print(f"extract ingest ({n:,} CSV rows)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "landing/MX-MTY/mes/produccion_bench.csv"
        # Warm-up on a small file (imports, first Delta table creation) so both sides are timed warm.
        write_counts_csv(work / "warm/MX-MTY/mes/produccion_w.csv", 1_000)
        ingest_table(get_contract("bronze.mes.production_counts"), {"MX-MTY": load_plants()["MX-MTY"]},
                     work / "warm", work / "warm_lake")
        _limit(work / "warm/MX-MTY/mes/produccion_w.csv", str(work / "warm_limit"))
        write_counts_csv(path, n)
        limit_s = _limit(path, str(work / "limit"))
        start = time.perf_counter()
        result = ingest_table(get_contract("bronze.mes.production_counts"), {"MX-MTY": load_plants()["MX-MTY"]},
                              work / "landing", work / "lake")
        ours_s = time.perf_counter() - start
        assert result.rows_loaded == n, (result.rows_loaded, n)
        naive_s = _naive(path, str(work / "naive"))
        add(report, Measurement("extract ingest, CSV to validated bronze Delta", n / ours_s, "rows/s", n / limit_s,
                                "pyarrow.csv + write_deltalake", n / naive_s, "csv.DictReader + per-row parsing",
                                ">= 0.7 x limit", (n / ours_s) / (n / limit_s) >= 0.7,
                                "validation: types, required, minimums, timestamp round trip; hashing; ledger"))
