"""Landing extracts written in each plant's own dialect (docs/design.md, `catalog/plants/<plant_id>.yaml`).

Rows are built with contract column names and Python values in the plant's units (naive local `datetime`, `date`,
`int`, `float`, `str`), then rendered with the plant's local column names, in the order the profile lists them:
- CSV: delimiter, decimal mark, encoding and strptime formats of the profile; header on line 1;
- JSON lines: one object per line, numbers as JSON numbers, dates and timestamps as text in the profile's formats;
- Excel (.xlsx, openpyxl): first sheet, header in row 1, one record per row from row 2; dates and timestamps are
  Excel date cells, numbers numeric cells. The zip members and document properties carry a fixed timestamp, so the
  same data gives the same bytes.
Files carry no `plant_id` column: the landing folder `landing/<plant_id>/<source>/` says which plant they belong to.
Rows are streamed to the file (bounded memory for a year of a bench plant); row-level faults (faults.py) are applied
on the way, by row number.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from catalog.plants import ExtractDialect

from .local_oee import LocalFigures
from .model import SimulatedPlant
from .shifts import epoch_to_local

# (source, table) in the order files are written.
TABLES: tuple[tuple[str, str], ...] = (
    ("mes", "assets"),
    ("mes", "machine_states"),
    ("mes", "production_counts"),
    ("mes", "shift_calendar"),
    ("mes", "local_oee_report"),
    ("erp", "materials"),
    ("erp", "work_orders"),
    ("erp", "shipments"),
    ("erp", "standard_costs"),
    ("erp", "supplier_quality"),
    ("hr", "attendance"),
    ("hr", "training"),
    ("ehs", "incidents"),
)
LB_PER_KG = 1 / 0.45359237
FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_XLSX_DATE_FORMATS = {"%m/%d/%Y": "mm/dd/yyyy", "%d.%m.%Y": "dd.mm.yyyy", "%Y-%m-%d": "yyyy-mm-dd"}


@dataclass(frozen=True)
class TableRows:
    """The rows of one table of one plant: how many, and a fresh iterator over them (contract names, local units)."""

    count: int
    rows: Callable[[], Iterator[dict[str, Any]]]


def _mass(kg: float, unit: str) -> float:
    return round(kg * LB_PER_KG, 2) if unit == "lb" else round(kg, 2)


def _working_time(hours: float, unit: str) -> float:
    return round(hours * 60, 2) if unit == "min" else round(hours, 4)


def plant_tables(plant: SimulatedPlant, local_report: Mapping[tuple[str, str, dt.date], LocalFigures]) -> dict[
    tuple[str, str], TableRows
]:
    """Every table of one plant. `local_report[(asset_local_id, shift_code, shift_date)]` is its local OEE report
    (one entry per asset-shift the plant's own system reported on, in the plant's unit and rounding)."""
    tz = plant.profile.tz
    units = plant.profile.units
    price_unit = plant.config.price_unit

    def assets() -> Iterator[dict[str, Any]]:
        for simulated in plant.assets:
            yield {
                "asset_local_id": simulated.asset.asset_local_id,
                "line_local_id": simulated.asset.line_local_id,
                "asset_name": simulated.asset.asset_name,
            }

    def machine_states() -> Iterator[dict[str, Any]]:
        for simulated in plant.assets:
            for event in simulated.events:
                yield {
                    "asset_local_id": simulated.asset.asset_local_id,
                    "started_at_local": epoch_to_local(event.start, tz),
                    "ended_at_local": epoch_to_local(event.end, tz),
                    "state_local_code": event.local_code,
                }

    def production_counts() -> Iterator[dict[str, Any]]:
        for simulated in plant.assets:
            for interval in simulated.intervals:
                yield {
                    "asset_local_id": simulated.asset.asset_local_id,
                    "order_id": interval.order_id,
                    "material_local_id": interval.material.material_local_id,
                    "interval_start_local": epoch_to_local(interval.start, tz),
                    "interval_end_local": epoch_to_local(interval.end, tz),
                    "produced_qty": interval.produced_qty,
                    "good_qty": interval.good_qty,
                    "scrap_qty": interval.scrap_qty,
                    "rework_qty": interval.rework_qty,
                }

    def shift_calendar() -> Iterator[dict[str, Any]]:
        for shift in plant.shifts:
            yield {
                "shift_local_code": shift.shift_code,
                "shift_date": shift.shift_date,
                "started_at_local": epoch_to_local(shift.start, tz),
                "ended_at_local": epoch_to_local(shift.end, tz),
            }

    def local_oee_report() -> Iterator[dict[str, Any]]:
        for simulated in plant.assets:
            for shift in plant.shifts:
                figures = local_report.get((simulated.asset.asset_local_id, shift.shift_code, shift.shift_date))
                if figures is None:  # the local system reported nothing for this asset-shift
                    continue
                yield {
                    "asset_local_id": simulated.asset.asset_local_id,
                    "shift_date": shift.shift_date,
                    "shift_local_code": shift.shift_code,
                    "availability": figures.availability,
                    "performance": figures.performance,
                    "quality": figures.quality,
                    "oee": figures.oee,
                }

    def materials() -> Iterator[dict[str, Any]]:
        for material in plant.materials:
            yield {
                "material_local_id": material.material_local_id,
                "material_name": material.material_name,
                "ideal_cycle_time": material.ideal_cycle_time,
                "ideal_cycle_time_unit": material.ideal_cycle_time_unit,
            }

    def work_orders() -> Iterator[dict[str, Any]]:
        for order in plant.work_orders:
            yield {
                "order_id": order.order_id,
                "material_local_id": order.material.material_local_id,
                "asset_local_id": order.asset_local_id,
                "order_qty": order.order_qty,
                "planned_scrap_qty": order.planned_scrap_qty,
                "released_date": order.released_date,
                "due_date": order.due_date,
            }

    def shipments() -> Iterator[dict[str, Any]]:
        for shipment in plant.shipments:
            yield {
                "shipment_id": shipment.shipment_id,
                "order_id": shipment.order_id,
                "material_local_id": shipment.material.material_local_id,
                "ordered_qty": shipment.ordered_qty,
                "shipped_qty": shipment.shipped_qty,
                "promised_date": shipment.promised_date,
                "shipped_date": shipment.shipped_date,
                "gross_weight": _mass(shipment.gross_weight_kg, units.mass),
                "weight_unit": units.mass,
            }

    def standard_costs() -> Iterator[dict[str, Any]]:
        for cost in plant.standard_costs:
            yield {
                "material_local_id": cost.material.material_local_id,
                "valid_from": cost.valid_from,
                "standard_cost": round(cost.cost_per_piece * price_unit, 4),
                "price_unit": price_unit,
                "currency": plant.profile.currency,
            }

    def supplier_quality() -> Iterator[dict[str, Any]]:
        for record in plant.supplier_quality:
            yield {
                "report_date": record.report_date,
                "plant_name": record.plant_name,
                "vendor_id": record.vendor_id,
                "vendor_name": record.vendor_name,
                "material_local_id": record.material_local_id,
                "material_type": record.material_type,
                "category": record.category,
                "defect_id": record.defect_id,
                "defect": record.defect,
                "defect_type": record.defect_type,
                "defect_qty": record.defect_qty,
                "downtime_min": record.downtime_min,
            }

    def attendance() -> Iterator[dict[str, Any]]:
        for record in plant.attendance:
            yield {
                "employee_id": record.employee_id,
                "shift_date": record.shift_date,
                "shift_local_code": record.shift_code,
                "scheduled_time": _working_time(record.scheduled_h, units.working_time),
                "attended_time": _working_time(record.attended_h, units.working_time),
                "worked_time": _working_time(record.worked_h, units.working_time),
                "time_unit": units.working_time,
                "absence_reason": record.absence_reason,
            }

    def training() -> Iterator[dict[str, Any]]:
        for record in plant.training:
            yield {
                "employee_id": record.employee_id,
                "training_date": record.training_date,
                "course": record.course,
                "training_time": _working_time(record.hours, units.working_time),
                "time_unit": units.working_time,
            }

    def incidents() -> Iterator[dict[str, Any]]:
        for incident in plant.incidents:
            yield {
                "incident_id": incident.incident_id,
                "occurred_at_local": epoch_to_local(incident.occurred_at, tz),
                "incident_type": incident.local_type,
                "line_local_id": incident.line_local_id,
                "lost_days": incident.lost_days,
                "description": incident.description,
            }

    return {
        ("mes", "assets"): TableRows(len(plant.assets), assets),
        ("mes", "machine_states"): TableRows(sum(len(a.events) for a in plant.assets), machine_states),
        ("mes", "production_counts"): TableRows(sum(len(a.intervals) for a in plant.assets), production_counts),
        ("mes", "shift_calendar"): TableRows(len(plant.shifts), shift_calendar),
        ("mes", "local_oee_report"): TableRows(len(local_report), local_oee_report),
        ("erp", "materials"): TableRows(len(plant.materials), materials),
        ("erp", "work_orders"): TableRows(len(plant.work_orders), work_orders),
        ("erp", "shipments"): TableRows(len(plant.shipments), shipments),
        ("erp", "standard_costs"): TableRows(len(plant.standard_costs), standard_costs),
        ("erp", "supplier_quality"): TableRows(len(plant.supplier_quality), supplier_quality),
        ("hr", "attendance"): TableRows(len(plant.attendance), attendance),
        ("hr", "training"): TableRows(len(plant.training), training),
        ("ehs", "incidents"): TableRows(len(plant.incidents), incidents),
    }


@dataclass
class FileEdits:
    """Row- and header-level changes to one file (faults.py): by 0-based row index, applied while rendering."""

    replace: dict[int, dict[str, Any]]  # row -> contract column -> written value
    drop: set[int]
    renamed: dict[str, str]  # contract column -> drifted local name
    added: tuple[str, str] | None  # (local column name, value) appended to every row

    @classmethod
    def none(cls) -> FileEdits:
        return cls({}, set(), {}, None)


def first_line_of_row(dialect: ExtractDialect) -> int:
    """File line (Excel row) of data row 0: after the header for CSV and Excel, line 1 for JSON lines."""
    return 1 if dialect.format == "jsonl" else 2


@functools.lru_cache(maxsize=1 << 16)
def _formatted(value: dt.date, pattern: str) -> str:
    # State boundaries appear twice (end of one state, start of the next) and dates thousands of times: a year of a
    # bench plant formats about 2 M values, and strftime is the largest single cost of writing the extracts.
    return value.strftime(pattern)


def _text(value: Any, dialect: ExtractDialect) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return _formatted(value, dialect.timestamp_format)
    if isinstance(value, dt.date):
        return _formatted(value, dialect.date_format)
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal)
    return str(value)


@functools.lru_cache(maxsize=1 << 16)
def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_value(value: Any, dialect: ExtractDialect) -> str:
    """One value as JSON text, exactly as json.dumps writes it (floats and ints by repr, like json does)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return _json_text(_formatted(value, dialect.timestamp_format))
    if isinstance(value, dt.date):
        return _json_text(_formatted(value, dialect.date_format))
    raise TypeError(f"no JSON text for {value!r}")


def _edited_rows(rows: Iterable[dict[str, Any]], edits: FileEdits) -> Iterator[dict[str, Any]]:
    for index, row in enumerate(rows):
        if index not in edits.drop:
            yield {**row, **edits.replace.get(index, {})} if index in edits.replace else row


def _header(dialect: ExtractDialect, edits: FileEdits) -> list[str]:
    header = [edits.renamed.get(name, local) for name, local in dialect.columns.items()]
    return header + ([edits.added[0]] if edits.added else [])


def render(out: BinaryIO, rows: Iterable[dict[str, Any]], dialect: ExtractDialect, edits: FileEdits) -> int:
    """Write one extract to `out` in the plant's dialect; returns the number of data rows written."""
    columns = dialect.columns  # contract column -> local column name, in file order
    header = _header(dialect, edits)
    extra = [edits.added[1]] if edits.added else []
    written = 0
    if dialect.format == "xlsx":
        return _render_xlsx(out, rows, dialect, edits)
    if dialect.format == "jsonl":
        keys = [_json_text(key) for key in header]
        for row in _edited_rows(rows, edits):
            values = [_json_value(row[name], dialect) for name in columns] + extra
            line = "{" + ", ".join(f"{key}: {value}" for key, value in zip(keys, values)) + "}\n"
            out.write(line.encode(dialect.encoding))
            written += 1
        return written
    text = io.TextIOWrapper(out, encoding=dialect.encoding, newline="", write_through=True)
    writer = csv.writer(text, delimiter=dialect.delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in _edited_rows(rows, edits):
        writer.writerow([_text(row[name], dialect) for name in columns] + extra)
        written += 1
    text.detach()
    return written


def _render_xlsx(out: BinaryIO, rows: Iterable[dict[str, Any]], dialect: ExtractDialect, edits: FileEdits) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Export")
    sheet.append(_header(dialect, edits))
    date_format = _XLSX_DATE_FORMATS.get(dialect.date_format, "yyyy-mm-dd")
    written = 0
    for row in _edited_rows(rows, edits):
        cells = []
        for name in dialect.columns:
            cell = WriteOnlyCell(sheet, value=row[name])
            if isinstance(row[name], dt.datetime):
                cell.number_format = f"{date_format} hh:mm:ss"
            elif isinstance(row[name], dt.date):
                cell.number_format = date_format
            cells.append(cell)
        if edits.added:
            cells.append(WriteOnlyCell(sheet, value=edits.added[1]))
        sheet.append(cells)
        written += 1
    fixed = dt.datetime(*FIXED_ZIP_TIME)
    workbook.properties.created = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    out.write(_deterministic_zip(buffer.getvalue()))
    return written


def _deterministic_zip(content: bytes) -> bytes:
    """The same workbook with fixed member timestamps and document dates (openpyxl stamps the save time)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2020-01-01T00:00:00Z", data)
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, data)
    return target_buffer.getvalue()


def write_extract(
    path: Path, rows: Iterable[dict[str, Any]], dialect: ExtractDialect, edits: FileEdits | None = None
) -> int:
    """Render one extract into `path` (the caller makes the write atomic); returns the data rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        return render(out, rows, dialect, edits or FileEdits.none())
