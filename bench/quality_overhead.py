"""Quality-check overhead: the contract suites' cost as a share of the ingest they guard (target: at most 25%)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from bench.extract_ingest import _write_csv
from bench.report import Measurement, add
from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.extracts import ingest_table
from quality.suites import suite_for_contract, validate_frame

SIZES = {"small": 500_000, "full": 2_000_000}


def run(report: dict[str, Any], scale: str) -> None:
    n = SIZES.get(scale, SIZES["small"])
    print(f"quality overhead ({n:,} rows)", flush=True)
    contract = get_contract("bronze.mes.production_counts")
    plants = {"MX-MTY": load_plants()["MX-MTY"]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _write_csv(work / "warm/MX-MTY/mes/produccion_w.csv", 1_000)
        ingest_table(contract, plants, work / "warm", work / "warm_lake")
        validate_frame(DeltaTable(str(work / "warm_lake/bronze/mes/production_counts")).to_pandas(), suite_for_contract(contract))
        _write_csv(work / "landing/MX-MTY/mes/produccion_bench.csv", n)
        start = time.perf_counter()
        ingest_table(contract, plants, work / "landing", work / "lake")
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        batch = DeltaTable(str(work / "lake/bronze/mes/production_counts")).to_pandas()
        result = validate_frame(batch, suite_for_contract(contract))
        check_s = time.perf_counter() - start
        assert result.success and result.rows == n
        share = check_s / ingest_s
        add(report, Measurement("contract suite on an ingested batch, share of ingest time", share * 100, "%",
                                target="<= 25%", met=share <= 0.25,
                                notes=f"{len(result.outcomes)} expectations (GE pandas engine) on {n:,} rows: "
                                      f"{check_s:.2f}s vs ingest {ingest_s:.2f}s"))
