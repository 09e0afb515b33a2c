"""Bad inputs at the door (scenarios 18, 20, 21) and the other extract formats (Excel, Parquet, JSON lines)."""

from __future__ import annotations

import datetime as dt
import io
import stat
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as papq
import pytest
from deltalake import DeltaTable

from catalog.contracts import get_contract
from catalog.plants import ExtractDialect, PlantProfile, load_plants
from ingestion.archives import ArchiveError, check_zip
from ingestion.extracts import ingest_table

COUNTS = get_contract("bronze.mes.production_counts")
PLANTS = load_plants()
MTY_HEADER = "equipo,orden,material,inicio,fin,producido,buenas,desecho,retrabajo\n"


def mty_rows(n: int, start: int = 0) -> str:
    return "".join(f"PR-{i:02d},OT-1,M-10,2026-06-01 07:00:00,2026-06-01 08:00:00,50,48,2,0\n" for i in range(start, start + n))


def ingest(landing: Path, lake: Path, plants: dict[str, PlantProfile], contract=COUNTS, share: float = 0.5):
    return ingest_table(contract, plants, landing, lake, max_reject_share=share)


def rejects(lake: Path, table: str = "mes/production_counts") -> list[dict]:
    return DeltaTable(str(lake / "quarantine" / table)).to_pyarrow_table().to_pylist()


def rows(lake: Path, table: str = "mes/production_counts"):
    return DeltaTable(str(lake / "bronze" / table)).to_pyarrow_table()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_bom_is_tolerated(tmp_path):
    write(tmp_path / "landing/MX-MTY/mes/produccion_1.csv", ("\ufeff" + MTY_HEADER + mty_rows(3)).encode("utf-8"))
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"MX-MTY": PLANTS["MX-MTY"]})
    assert result.rows_loaded == 3 and result.rows_rejected == 0


def test_wrong_encoding_refuses_the_file_and_names_it(tmp_path):
    write(tmp_path / "landing/MX-MTY/mes/produccion_1.csv", (MTY_HEADER + "PRÜ-1,OT,M,2026-06-01 07:00:00,"
                                                                "2026-06-01 08:00:00,1,1,0,0\n").encode("cp1252"))
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"MX-MTY": PLANTS["MX-MTY"]})
    assert result.plants["MX-MTY"].refused_files == ["MX-MTY/mes/produccion_1.csv"]
    (reject,) = rejects(tmp_path / "lake")
    assert reject["source_file"] == "MX-MTY/mes/produccion_1.csv" and "utf-8" in reject["error"]


def test_unterminated_quote_is_a_clear_error_with_the_file(tmp_path):
    write(tmp_path / "landing/MX-MTY/mes/produccion_1.csv",
          (MTY_HEADER + mty_rows(2) + 'PR-9,"OT-9,M-10,2026-06-01 07:00:00,2026-06-01 08:00:00,5,5,0,0\n').encode())
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"MX-MTY": PLANTS["MX-MTY"]})
    outcome = result.plants["MX-MTY"]
    assert outcome.refused_files == ["MX-MTY/mes/produccion_1.csv"] or outcome.rows_rejected == 1
    assert any(r["source_file"] == "MX-MTY/mes/produccion_1.csv" for r in rejects(tmp_path / "lake"))


def test_a_one_megabyte_field_is_rejected_with_line_and_column_and_the_rest_loads(tmp_path):
    big = "X" * (1024 * 1024)
    body = MTY_HEADER + mty_rows(5) + f"PR-77,{big},M-10,2026-06-01 07:00:00,2026-06-01 08:00:00,5,5,0,0\n" + mty_rows(5, 5)
    write(tmp_path / "landing/MX-MTY/mes/produccion_1.csv", body.encode())
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"MX-MTY": PLANTS["MX-MTY"]})
    assert result.plants["MX-MTY"].rows_loaded == 10
    (reject,) = rejects(tmp_path / "lake")
    assert (reject["source_line"], reject["column"]) == (7, "orden") and "longer than" in reject["error"]
    assert len(reject["raw_value"]) <= 200


def test_deeply_nested_json_line_is_rejected_with_its_line(tmp_path):
    sg = PLANTS["SG-SIN"]
    good = ('{"equipmentId":"EQ-1","workOrder":"W1","partNumber":"P1","startTime":"2026-06-01T07:00:00",'
            '"endTime":"2026-06-01T08:00:00","totalCount":10,"goodCount":9,"scrapCount":1,"reworkCount":0}\n')
    deep = '{"equipmentId":' + "[" * 200_000 + "]" * 200_000 + "}\n"
    write(tmp_path / "landing/SG-SIN/mes/output_1.jsonl", (good + deep + good.replace("07:00", "08:00").replace("08:00:00\",\"total", "09:00:00\",\"total")).encode())
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"SG-SIN": sg})
    assert result.plants["SG-SIN"].rows_loaded == 2
    (reject,) = rejects(tmp_path / "lake")
    assert reject["source_line"] == 2 and ("invalid JSON" in reject["error"] or "longer than" in reject["error"])


def excel_plant(tmp_path) -> dict[str, PlantProfile]:
    base = PLANTS["MX-MTY"]
    dialect = ExtractDialect(plant_id="MX-XLS", source="mes", table="production_counts", format="xlsx",
                             file_glob="produccion_*.xlsx", columns=base.dialects[("mes", "production_counts")].columns,
                             timestamp_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d")
    return {"MX-XLS": PlantProfile("MX-XLS", "Excel plant", "America/Monterrey", (), {("mes", "production_counts"): dialect}, {})}


def test_excel_extract_loads_with_excel_row_numbers_and_rejects(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MTY_HEADER.strip().split(","))
    ws.append(["PR-1", "OT-1", "M-10", dt.datetime(2026, 6, 1, 7), dt.datetime(2026, 6, 1, 8), 50, 48, 2, 0])
    ws.append(["PR-2", "OT-1", "M-10", dt.datetime(2026, 6, 1, 7), dt.datetime(2026, 6, 1, 8), "fifty", 48, 2, 0])
    ws.append(["PR-3", "OT-1", "M-10", dt.datetime(2026, 6, 1, 7), dt.datetime(2026, 6, 1, 8), 60.0, 60, 0, 0])
    path = tmp_path / "landing/MX-XLS/mes/produccion_1.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    result = ingest(tmp_path / "landing", tmp_path / "lake", excel_plant(tmp_path))
    assert result.plants["MX-XLS"].rows_loaded == 2
    loaded = rows(tmp_path / "lake").to_pylist()
    assert [(r["asset_local_id"], r["source_line"], r["produced_qty"]) for r in loaded] == [("PR-1", 2, 50), ("PR-3", 4, 60)]
    assert loaded[0]["interval_start_local"] == dt.datetime(2026, 6, 1, 7)
    (reject,) = rejects(tmp_path / "lake")
    assert (reject["source_line"], reject["column"], reject["raw_value"]) == (3, "producido", "fifty")


def test_parquet_extract_keeps_its_types(tmp_path):
    base = PLANTS["MX-MTY"].dialects[("mes", "production_counts")]
    dialect = ExtractDialect(plant_id="MX-PQ", source="mes", table="production_counts", format="parquet",
                             file_glob="produccion_*.parquet", columns=base.columns)
    plants = {"MX-PQ": PlantProfile("MX-PQ", "Parquet plant", "UTC", (), {("mes", "production_counts"): dialect}, {})}
    table = pa.table({"equipo": ["A", "B"], "orden": ["O", "O"], "material": ["M", "M"],
                      "inicio": pa.array([dt.datetime(2026, 6, 1, 7)] * 2, pa.timestamp("us")),
                      "fin": pa.array([dt.datetime(2026, 6, 1, 8)] * 2, pa.timestamp("us")),
                      "producido": [10, 20], "buenas": [10, 19], "desecho": [0, 1], "retrabajo": [0, -1]})
    path = tmp_path / "landing/MX-PQ/mes/produccion_1.parquet"
    path.parent.mkdir(parents=True)
    papq.write_table(table, path)
    result = ingest(tmp_path / "landing", tmp_path / "lake", plants)
    assert result.plants["MX-PQ"].rows_loaded == 1
    (reject,) = rejects(tmp_path / "lake")
    assert (reject["source_line"], reject["column"], reject["error"]) == (2, "retrabajo", "below minimum 0")


def zip_bytes(members: list[tuple[str, bytes, int | None]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("../../etc/cron.d/evil", b"x", None)], "escapes the landing folder"),
        ([("/etc/passwd", b"x", None)], "has an absolute path"),
        ([("link.csv", b"/etc/passwd", stat.S_IFLNK | 0o777)], "is a symbolic link"),
        ([("bomb.csv", b"0" * 50_000_000, None)], "zip bomb"),
    ],
    ids=["dotdot", "absolute", "symlink", "bomb"],
)
def test_abusive_archives_are_refused_before_extraction(tmp_path, members, message):
    archive = write(tmp_path / "landing/MX-MTY/mes/drop.zip", zip_bytes(members))
    with pytest.raises(ArchiveError, match=message) as info:
        check_zip(archive)
    assert "drop.zip" in str(info.value) and members[0][0] in str(info.value)
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"MX-MTY": PLANTS["MX-MTY"]})
    assert result.plants["MX-MTY"].refused_files == ["MX-MTY/mes/drop.zip"]
    assert sorted(p.name for p in (tmp_path / "landing/MX-MTY/mes").iterdir()) == ["drop.zip"]
    assert not (tmp_path / "etc").exists()


def test_a_clean_archive_is_unpacked_and_ingested(tmp_path):
    write(tmp_path / "landing/MX-MTY/mes/drop.zip", zip_bytes([("export/produccion_1.csv", (MTY_HEADER + mty_rows(4)).encode(), None)]))
    result = ingest(tmp_path / "landing", tmp_path / "lake", {"MX-MTY": PLANTS["MX-MTY"]})
    assert result.plants["MX-MTY"].rows_loaded == 4
    assert (tmp_path / "landing/MX-MTY/mes/produccion_1.csv").exists()
