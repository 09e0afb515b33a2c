"""Storage and concurrency scenarios 9-11 on real Delta tables."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import SchemaMismatchError

from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.delta import ensure_contract_table
from ingestion.extracts import ingest_table
from ingestion.maintenance import maintain

COUNTS = get_contract("bronze.mes.production_counts")
MTY = {"MX-MTY": load_plants()["MX-MTY"]}
HEADER = "equipo,orden,material,inicio,fin,producido,buenas,desecho,retrabajo\n"


def _rows(n: int) -> str:
    return "".join(f"PR-{i:02d},OT-1,M-10,2026-06-01 {7 + i % 10:02d}:00:00,2026-06-01 {8 + i % 10:02d}:00:00,50,48,2,0\n"
                   for i in range(n))


def test_two_runs_reprocessing_one_plant_concurrently_leave_exactly_one_run(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    (landing / "MX-MTY/mes").mkdir(parents=True)
    (landing / "MX-MTY/mes/produccion_1.csv").write_text(HEADER + _rows(10))
    ingest_table(COUNTS, MTY, landing, lake)
    (landing / "MX-MTY/mes/produccion_1.csv").write_text(HEADER + _rows(12))  # a corrected re-delivery
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(ingest_table(COUNTS, MTY, landing, lake))
        except Exception as exc:  # noqa: BLE001 - the loser must fail cleanly, with a Delta commit error
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all("Commit" in type(f).__name__ or "commit" in str(f).lower() for f in failures), failures
    table = DeltaTable(str(lake / "bronze/mes/production_counts")).to_pyarrow_table()
    assert table.num_rows == 12
    assert sorted(table["source_line"].to_pylist()) == list(range(2, 14))


def test_a_schema_change_during_append_fails_cleanly_and_never_mixes_schemas(tmp_path):
    uri = str(tmp_path / "t")
    ensure_contract_table(uri, COUNTS)
    drifted = COUNTS.arrow_schema().append(pa.field("shift", pa.string())).empty_table()
    with pytest.raises(SchemaMismatchError):
        write_deltalake(uri, drifted, mode="append")
    table = DeltaTable(uri)
    assert table.version() == 0
    assert [f.name for f in table.schema().to_arrow()] == COUNTS.column_names


def test_vacuum_below_the_retention_floor_is_refused_and_time_travel_still_reads(tmp_path):
    uri = str(tmp_path / "t")
    ensure_contract_table(uri, COUNTS)
    (tmp_path / "landing/MX-MTY/mes").mkdir(parents=True)
    for n in (3, 5):
        (tmp_path / "landing/MX-MTY/mes/produccion_1.csv").write_text(HEADER + _rows(n))
        ingest_table(COUNTS, MTY, tmp_path / "landing", tmp_path / "lake")
    lake_uri = str(tmp_path / "lake/bronze/mes/production_counts")
    with pytest.raises(ValueError, match="below the floor of 168 h"):
        maintain(lake_uri, retention_hours=1)
    with pytest.raises(Exception, match="(?i)retention"):
        DeltaTable(lake_uri).vacuum(retention_hours=1, dry_run=False)
    result = maintain(lake_uri)
    assert result.files_vacuumed == 0
    old = DeltaTable(lake_uri, version=1).to_pyarrow_table()
    assert old.num_rows == 3
    assert DeltaTable(lake_uri).to_pyarrow_table().num_rows == 5
