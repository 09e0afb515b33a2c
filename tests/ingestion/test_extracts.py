"""File extracts into bronze Delta: dialects, rejects with file/line/column, refusal, idempotency by content hash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.extracts import ingest_table

PLANTS = {k: v for k, v in load_plants().items() if k in ("DE-STR", "MX-MTY")}

STR_COUNTS_HEADER = "Anlage;Auftrag;Material;Von;Bis;Menge;Gutmenge;Ausschuss;Nacharbeit\n"
MTY_COUNTS_HEADER = "equipo,orden,material,inicio,fin,producido,buenas,desecho,retrabajo\n"


def _str_counts_rows(n: int) -> str:
    return "".join(
        f"M{i:02d};A1;MAT-1;01.06.2026 {6 + i % 8:02d}:00:00;01.06.2026 {7 + i % 8:02d}:00:00;100;95;3;2\n"
        for i in range(n)
    )


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    _write(
        landing / "MX-MTY/mes/produccion_2026-06-01.csv",
        MTY_COUNTS_HEADER + "PR-01,OT-1,M-10,2026-06-01 07:00:00,2026-06-01 08:00:00,50,48,2,0\n",
    )
    return landing, lake


def _ingest(landing: Path, lake: Path, table: str = "bronze.mes.production_counts", share: float = 0.25):
    return ingest_table(get_contract(table), PLANTS, landing, lake, max_reject_share=share)


def _rows(lake: Path, table: str = "mes/production_counts"):
    return DeltaTable(str(lake / "bronze" / table)).to_pyarrow_table()


def _rejects(lake: Path, table: str = "mes/production_counts"):
    return DeltaTable(str(lake / "quarantine" / table)).to_pyarrow_table().to_pylist()


def test_german_dialect_reads_semicolons_decimal_comma_and_cp1252(roots):
    landing, lake = roots
    _write(
        landing / "DE-STR/erp/materialstamm_2026-06-01.csv",
        "Materialnummer;Kurztext;Sollzykluszeit;Einheit\nMAT-1;Gehäuse groß;12,5;s\nMAT-2;Flansch;0,75;min\n",
        encoding="cp1252",
    )
    result = _ingest(landing, lake, "bronze.erp.materials")
    assert result.rows_loaded == 2 and result.rows_rejected == 0
    rows = {r["material_local_id"]: r for r in _rows(lake, "erp/materials").to_pylist()}
    assert rows["MAT-1"]["ideal_cycle_time"] == 12.5
    assert rows["MAT-1"]["material_name"] == "Gehäuse groß"
    assert rows["MAT-2"]["ideal_cycle_time"] == 0.75 and rows["MAT-2"]["ideal_cycle_time_unit"] == "min"
    assert rows["MAT-2"]["source_line"] == 3
    assert rows["MAT-2"]["source_file"] == "DE-STR/erp/materialstamm_2026-06-01.csv"


def test_bad_values_go_to_rejects_with_file_line_and_column_and_good_rows_load(roots):
    landing, lake = roots
    body = _str_counts_rows(10)
    lines = body.splitlines(keepends=True)
    lines[1] = lines[1].replace(";100;", ";1O0;")  # letter O: line 3 of the file
    lines[4] = lines[4].replace("01.06.2026 10:00:00;01.06.2026 11", "31.06.2026 10:00:00;01.06.2026 11")  # line 6
    _write(landing / "DE-STR/mes/mengen_2026-06-01.csv", STR_COUNTS_HEADER + "".join(lines), "cp1252")
    result = _ingest(landing, lake)
    assert result.plants["DE-STR"].rows_loaded == 8
    assert result.plants["MX-MTY"].rows_loaded == 1
    rejects = sorted(_rejects(lake), key=lambda r: r["source_line"])
    assert [(r["source_line"], r["column"]) for r in rejects] == [(3, "Menge"), (6, "Von")]
    assert rejects[0]["source_file"] == "DE-STR/mes/mengen_2026-06-01.csv"
    assert rejects[0]["error"] == "not an integer" and rejects[0]["raw_value"] == "1O0"
    assert "not a timestamp" in rejects[1]["error"]


def test_row_with_an_extra_field_is_rejected_with_its_line(roots):
    landing, lake = roots
    lines = _str_counts_rows(10).splitlines(keepends=True)
    lines[6] = lines[6].rstrip("\n") + ";extra\n"  # line 8
    _write(landing / "DE-STR/mes/mengen_2026-06-01.csv", STR_COUNTS_HEADER + "".join(lines), "cp1252")
    result = _ingest(landing, lake)
    assert result.plants["DE-STR"].rows_loaded == 9
    (reject,) = _rejects(lake)
    assert reject["source_line"] == 8 and "expected 9 fields, found 10" in reject["error"]
    assert sorted(_rows(lake).filter(pc.equal(_rows(lake)["plant_id"], "DE-STR"))["source_line"].to_pylist()) == [
        2, 3, 4, 5, 6, 7, 9, 10, 11
    ]


def test_missing_column_refuses_the_file_and_other_plants_keep_flowing(roots):
    landing, lake = roots
    header = STR_COUNTS_HEADER.replace("Gutmenge", "Gut")
    _write(landing / "DE-STR/mes/mengen_2026-06-01.csv", header + _str_counts_rows(3), "cp1252")
    result = _ingest(landing, lake)
    assert result.plants["DE-STR"].refused_files == ["DE-STR/mes/mengen_2026-06-01.csv"]
    assert result.plants["MX-MTY"].rows_loaded == 1
    (reject,) = _rejects(lake)
    assert "missing column(s) ['Gutmenge']" in reject["error"] and "line 1" in reject["error"]


def test_file_above_the_reject_share_is_refused_whole(roots):
    landing, lake = roots
    lines = _str_counts_rows(4).splitlines(keepends=True)
    lines[0] = lines[0].replace(";95;", ";x;")
    lines[1] = lines[1].replace(";95;", ";y;")
    _write(landing / "DE-STR/mes/mengen_2026-06-01.csv", STR_COUNTS_HEADER + "".join(lines), "cp1252")
    result = _ingest(landing, lake, share=0.25)
    assert result.plants["DE-STR"].rows_loaded == 0
    assert result.plants["DE-STR"].refused_files == ["DE-STR/mes/mengen_2026-06-01.csv"]
    errors = [r["error"] for r in _rejects(lake)]
    assert "file refused: 2 of 4 rows rejected (50.0% > threshold 25.0%)" in errors


def test_empty_and_header_only_files(roots):
    landing, lake = roots
    _write(landing / "DE-STR/mes/mengen_2026-06-01.csv", "", "cp1252")
    _write(landing / "DE-STR/mes/mengen_2026-06-02.csv", STR_COUNTS_HEADER, "cp1252")
    result = _ingest(landing, lake)
    outcome = result.plants["DE-STR"]
    assert outcome.refused_files == ["DE-STR/mes/mengen_2026-06-01.csv"]
    assert outcome.rows_loaded == 0
    assert any("empty file" in r["error"] for r in _rejects(lake))


def test_reingesting_unchanged_copied_and_changed_files(roots):
    landing, lake = roots
    original = _write(landing / "DE-STR/mes/mengen_2026-06-01.csv", STR_COUNTS_HEADER + _str_counts_rows(5), "cp1252")
    _ingest(landing, lake)
    version = DeltaTable(str(lake / "bronze/mes/production_counts")).version()

    again = _ingest(landing, lake)
    assert again.plants["DE-STR"].skipped_unchanged
    assert DeltaTable(str(lake / "bronze/mes/production_counts")).version() == version

    shutil.copy(original, landing / "DE-STR/mes/mengen_copy.csv")
    copied = _ingest(landing, lake)
    assert [f.status for f in copied.plants["DE-STR"].files] == ["duplicate_content"]
    assert _rows(lake).num_rows == 5 + 1

    _write(original, STR_COUNTS_HEADER + _str_counts_rows(7), "cp1252")
    changed = _ingest(landing, lake)
    statuses = {f.source_file: f.status for f in changed.plants["DE-STR"].files}
    assert statuses["DE-STR/mes/mengen_2026-06-01.csv"] == "new_version"
    assert _rows(lake).num_rows == 7 + 1
    ledger = DeltaTable(str(lake / "_meta/file_ledger")).to_pyarrow_table().sort_by("recorded_at").to_pylist()
    versions = [r for r in ledger if r["source_file"] == "DE-STR/mes/mengen_2026-06-01.csv"]
    assert [r["status"] for r in versions] == ["loaded", "new_version"]
    assert versions[1]["previous_sha256"] == versions[0]["sha256"]
