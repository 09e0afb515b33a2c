"""Landing extracts written in each plant's own dialect (docs/design.md, `catalog/plants/<plant_id>.yaml`).

Rows are first built with contract column names and Python values (naive local `datetime`, `date`, `int`, `float`,
`str`), then rendered with the plant's local column names, in the order the profile lists them, as CSV (delimiter,
decimal mark, encoding, strptime formats) or JSON lines. Files carry no `plant_id` column: the landing folder
`landing/<plant_id>/<source>/` says which plant they belong to.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import SimulatedPlant
from .profiles import ExtractDialect, TableDialect
from .shifts import epoch_to_local

# (source, table) in the order files are written.
TABLES: tuple[tuple[str, str], ...] = (
    ("mes", "assets"),
    ("mes", "machine_states"),
    ("mes", "production_counts"),
    ("mes", "shift_calendar"),
    ("erp", "materials"),
)


@dataclass(frozen=True)
class RenderedExtract:
    source: str
    table: str
    file_name: str
    rows: int
    content: bytes


def contract_rows(plant: SimulatedPlant, table: str) -> list[dict[str, Any]]:
    """The rows of one table with contract column names and typed values (local wall-clock timestamps)."""
    tz = plant.profile.tz
    if table == "assets":
        return [
            {
                "asset_local_id": simulated.asset.asset_local_id,
                "line_local_id": simulated.asset.line_local_id,
                "asset_name": simulated.asset.asset_name,
            }
            for simulated in plant.assets
        ]
    if table == "machine_states":
        return [
            {
                "asset_local_id": simulated.asset.asset_local_id,
                "started_at_local": epoch_to_local(event.start, tz),
                "ended_at_local": epoch_to_local(event.end, tz),
                "state_local_code": event.local_code,
            }
            for simulated in plant.assets
            for event in simulated.events
        ]
    if table == "production_counts":
        return [
            {
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
            for simulated in plant.assets
            for interval in simulated.intervals
        ]
    if table == "shift_calendar":
        return [
            {
                "shift_local_code": shift.shift_code,
                "shift_date": shift.shift_date,
                "started_at_local": epoch_to_local(shift.start, tz),
                "ended_at_local": epoch_to_local(shift.end, tz),
            }
            for shift in plant.shifts
        ]
    if table == "materials":
        return [
            {
                "material_local_id": material.material_local_id,
                "material_name": material.material_name,
                "ideal_cycle_time": material.ideal_cycle_time,
                "ideal_cycle_time_unit": material.ideal_cycle_time_unit,
            }
            for material in plant.materials
        ]
    raise KeyError(f"unknown table {table!r}")


def _csv_text(value: Any, dialect: ExtractDialect) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime(dialect.timestamp_format)
    if isinstance(value, dt.date):
        return value.strftime(dialect.date_format)
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal)
    return str(value)


def _json_value(value: Any, dialect: ExtractDialect) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime(dialect.timestamp_format)
    if isinstance(value, dt.date):
        return value.strftime(dialect.date_format)
    return value


def render(rows: Sequence[Mapping[str, Any]], dialect: ExtractDialect, table: TableDialect) -> bytes:
    """One extract file's bytes: local column names in profile order, values in the plant's dialect."""
    columns = table.columns  # contract column -> local column name
    if rows and set(rows[0]) != set(columns):
        raise ValueError(
            f"profile columns {sorted(columns)} do not match the contract columns {sorted(rows[0])} "
            f"for {table.file_glob}"
        )
    if dialect.format == "jsonl":
        lines = (
            json.dumps({local: _json_value(row[name], dialect) for name, local in columns.items()}, ensure_ascii=False)
            for row in rows
        )
        return "".join(f"{line}\n" for line in lines).encode(dialect.encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\n")
    writer.writerow(columns.values())
    writer.writerows([_csv_text(row[name], dialect) for name in columns] for row in rows)
    return buffer.getvalue().encode(dialect.encoding)


def render_plant_extracts(plant: SimulatedPlant, stamp: str) -> Iterator[RenderedExtract]:
    """Every extract of one plant, one file per table, named by the profile's glob with `*` = `stamp`."""
    for source, table in TABLES:
        dialect = plant.profile.extracts[source]
        table_dialect = dialect.tables[table]
        rows = contract_rows(plant, table)
        yield RenderedExtract(
            source=source,
            table=table,
            file_name=table_dialect.file_name(stamp),
            rows=len(rows),
            content=render(rows, dialect, table_dialect),
        )
