"""An independent reader of the simulator's landing files, shared by the simulator tests, and its own tests.

It parses CSV, JSON lines and Excel with the plant profile's dialect (catalog.plants, the module ingestion uses) and
types values by contract column name, so the tests check the files a real reader sees, not the simulator's objects.
The other test_simulator*.py modules import it (`from test_simulator_reader import ...`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq

from catalog.plants import ExtractDialect, load_plants

_INTS = {"produced_qty", "good_qty", "scrap_qty", "rework_qty", "order_qty", "ordered_qty", "shipped_qty",
         "price_unit", "defect_qty", "lost_days"}
_FLOATS = {"ideal_cycle_time", "availability", "performance", "quality", "oee", "gross_weight", "standard_cost",
           "downtime_min", "scheduled_time", "attended_time", "training_time"}
_DATES = {"shift_date", "released_date", "due_date", "promised_date", "shipped_date", "valid_from", "report_date",
          "training_date"}


def dialect(plant_id: str, source: str, table: str) -> ExtractDialect:
    return load_plants()[plant_id].dialects[(source, table)]


def extract_file(root: Path, plant_id: str, source: str, table: str) -> Path:
    spec = dialect(plant_id, source, table)
    files = sorted((root / "landing" / plant_id / source).glob(spec.file_glob))
    assert len(files) == 1, files
    return files[0]


def raw_records(path: Path, spec: ExtractDialect) -> list[dict[str, Any]]:
    """Records keyed by local column name, values as the file holds them (text, JSON values or Excel cells)."""
    if spec.format == "xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        header = list(rows[0])
        # read-only sheets drop trailing empty cells: pad each row to the header
        return [dict(zip(header, [*row, *[None] * (len(header) - len(row))])) for row in rows[1:]]
    text = path.read_bytes().decode(spec.encoding)
    if spec.format == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=spec.delimiter))


def _typed(name: str, value: Any, spec: ExtractDialect) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):  # an Excel date cell
        return value.date() if name in _DATES else value
    if name.endswith("_local") and not isinstance(value, dt.datetime):
        return dt.datetime.strptime(value, spec.timestamp_format)
    if name in _DATES:
        return dt.datetime.strptime(value, spec.date_format).date()
    if name in _INTS:
        return int(value)
    if name in _FLOATS:
        return float(str(value).replace(spec.decimal, ".")) if isinstance(value, str) else float(value)
    return str(value)


def read_extract(root: Path, plant_id: str, source: str, table: str) -> list[dict[str, Any]]:
    """Rows of the plant's single file for `table`, keyed by contract column, values typed."""
    spec = dialect(plant_id, source, table)
    records = raw_records(extract_file(root, plant_id, source, table), spec)
    assert all(list(record) == list(spec.columns.values()) for record in records), (plant_id, table)
    return [{name: _typed(name, record[local], spec) for name, local in spec.columns.items()} for record in records]


def truth(root: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(root / "simulator" / "ground_truth" / f"{name}.parquet").to_pylist()


def plant_ids(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "landing").iterdir())


def all_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


# --- the reader's own tests ------------------------------------------------------------------------------------------


def test_reader_types_every_format_it_meets(tmp_path: Path) -> None:
    from ingestion.simulator import generate_network

    generate_network("ci", tmp_path)
    de_counts = read_extract(tmp_path, "DE-STR", "mes", "production_counts")  # CSV ; , cp1252
    us_hours = read_extract(tmp_path, "US-OHI", "hr", "attendance")  # Excel
    assert isinstance(de_counts[0]["produced_qty"], int)
    assert isinstance(de_counts[0]["interval_start_local"], dt.datetime)
    assert isinstance(us_hours[0]["shift_date"], dt.date) and not isinstance(us_hours[0]["shift_date"], dt.datetime)
    assert isinstance(us_hours[0]["scheduled_time"], float) and us_hours[0]["employee_id"] == "0001"
