"""MES and ERP file extracts from the landing area into bronze Delta tables.

Each plant drops files in ``landing/<plant_id>/<source>/``; the plant profile in the catalog says how to read them
(format, delimiter, decimal mark, encoding, timestamp format, local column names). Rows are typed against the
contract-derived Arrow schema; a bad value sends its row to the reject table with file, line, column and error.
When a file's reject share exceeds the threshold the whole file is refused. One plant's bad file never stops the
others.

Idempotency: a content-hash ledger records every file ingested. If a plant's files for a table are unchanged, the
table is not touched (no new Delta version); a copied or renamed file with known content is skipped; a changed file
with the same name is a new version (recorded in the ledger). The replacement unit is the plant-day: the files a run
reads for a plant (new files and new versions) form one delivery, and every day that delivery holds, by the contract's
``businessDate`` column, is replaced atomically with ``overwrite`` + ``predicate`` (plant and day ranges). Days the
delivery does not hold, and other plants, are untouched. Tables without a business date (master data) are replaced
per plant. Re-reading a file version the ledger already knows would replace its days again, so it is never re-read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from deltalake import DeltaTable, write_deltalake

from catalog.contracts import Column, Contract
from catalog.plants import ExtractDialect, PlantProfile
from ingestion.archives import ArchiveError, unpack_zip
from ingestion.delta import ensure_contract_table, ensure_table

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FIELD_CHARS = 64 * 1024

REJECT_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_line", pa.int64()),  # null: the whole file was refused
        pa.field("column", pa.string()),
        pa.field("error", pa.string(), nullable=False),
        pa.field("raw_value", pa.string()),
        pa.field("rejected_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("table", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),  # loaded | refused | duplicate_content | new_version
        pa.field("rows_loaded", pa.int64(), nullable=False),
        pa.field("rows_rejected", pa.int64(), nullable=False),
        pa.field("previous_sha256", pa.string()),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class ExtractError(ValueError):
    """A file cannot be read at all; the message names the file (and line/column where known)."""


@dataclass
class Reject:
    source_file: str
    source_line: int | None
    column: str | None
    error: str
    raw_value: str | None = None

    def __str__(self) -> str:
        where = self.source_file + (f", line {self.source_line}" if self.source_line else "")
        where += f", column {self.column!r}" if self.column else ""
        return f"{where}: {self.error}"


@dataclass
class FileOutcome:
    source_file: str
    sha256: str
    status: str
    rows_loaded: int = 0
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class PlantOutcome:
    plant_id: str
    files: list[FileOutcome] = field(default_factory=list)
    skipped_unchanged: bool = False
    rows_loaded: int = 0

    @property
    def rows_rejected(self) -> int:
        return sum(1 for f in self.files for r in f.rejects if r.source_line is not None)

    @property
    def refused_files(self) -> list[str]:
        return [f.source_file for f in self.files if f.status == "refused"]


@dataclass
class ExtractResult:
    contract_id: str
    plants: dict[str, PlantOutcome] = field(default_factory=dict)
    table_version: int | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(p.rows_loaded for p in self.plants.values())

    @property
    def rows_rejected(self) -> int:
        return sum(p.rows_rejected for p in self.plants.values())


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Reading one file into string columns named by the contract
# ---------------------------------------------------------------------------------------------------------------


def _read_csv_strings(path: Path, rel: str, dialect: ExtractDialect) -> tuple[dict[str, pa.Array], list[int], list[Reject]]:
    """Read a CSV file as strings. Returns contract-named columns, the file line of each row, and structural rejects."""
    with path.open("rb") as f:
        raw_header = f.readline(MAX_FIELD_CHARS * 16)
    try:
        header_line = raw_header.decode(dialect.encoding)
    except UnicodeDecodeError as exc:
        raise ExtractError(f"{rel}: line 1: cannot be decoded as {dialect.encoding}: {exc}") from None
    if not header_line.strip():
        raise ExtractError(f"{rel}: empty file (no header)")
    header = next(csv.reader([header_line], delimiter=dialect.delimiter))
    header[0] = header[0].lstrip("\ufeff")
    _check_header(rel, header, dialect)
    structural: list[Reject] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        structural.append(
            Reject(rel, row.number, None, f"expected {row.expected_columns} fields, found {row.actual_columns}", row.text[:200])
        )
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        try:
            return pacsv.read_csv(
                path,
                # Row numbers of invalid rows are only known to a serial reader.
                read_options=pacsv.ReadOptions(encoding=dialect.encoding, column_names=header, skip_rows=1,
                                               use_threads=use_threads),
                parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter, invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise ExtractError(f"{rel}: cannot be read as {dialect.encoding} CSV: {exc}") from exc

    table = read(use_threads=True)
    if structural:
        structural.clear()
        table = read(use_threads=False)
    # Without embedded newlines, data row i sits on line i + 2; rows skipped by the handler shift the rest.
    skipped = sorted(r.source_line for r in structural if r.source_line)
    if not skipped:
        lines = pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64))
    else:
        lines_list, line, k = [], 2, 0
        for _ in range(table.num_rows):
            while k < len(skipped) and skipped[k] == line:
                line, k = line + 1, k + 1
            lines_list.append(line)
            line += 1
        lines = pa.array(lines_list, pa.int64())
    columns = {contract_col: table.column(local) for contract_col, local in dialect.columns.items()}
    return columns, lines, structural


def _read_jsonl_strings(path: Path, rel: str, dialect: ExtractDialect) -> tuple[dict[str, pa.Array], list[int], list[Reject]]:
    values: dict[str, list[str | None]] = {c: [] for c in dialect.columns}
    lines: list[int] = []
    structural: list[Reject] = []
    try:
        text = path.read_text(encoding=dialect.encoding)
    except UnicodeDecodeError as exc:
        raise ExtractError(f"{rel}: cannot be read as {dialect.encoding}: {exc}") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(raw) > MAX_FIELD_CHARS * 16:
            structural.append(Reject(rel, number, None, f"line longer than {MAX_FIELD_CHARS * 16} characters"))
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as exc:
            structural.append(Reject(rel, number, None, f"invalid JSON: {exc}", raw[:200]))
            continue
        if not isinstance(record, dict):
            structural.append(Reject(rel, number, None, "JSON line is not an object", raw[:200]))
            continue
        missing = [local for local in dialect.columns.values() if local not in record]
        if missing:
            structural.append(Reject(rel, number, missing[0], f"missing field {missing[0]!r}", raw[:200]))
            continue
        for contract_col, local in dialect.columns.items():
            v = record[local]
            values[contract_col].append(None if v is None else (v if isinstance(v, str) else json.dumps(v)))
        lines.append(number)
    if not lines and not structural:
        raise ExtractError(f"{rel}: empty file (no records)")
    return {c: pa.array(v, pa.string()) for c, v in values.items()}, lines, structural


def _excel_text(value: Any, dialect: ExtractDialect) -> str | None:
    """Excel cells arrive typed; render them in the plant's formats so one typing path validates every format."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime(dialect.timestamp_format)
    if isinstance(value, date):
        return value.strftime(dialect.date_format)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx_strings(path: Path, rel: str, dialect: ExtractDialect) -> tuple[dict[str, pa.Array], list[int], list[Reject]]:
    """First sheet, header in row 1; the line of a row is its Excel row number."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise ExtractError(f"{rel}: cannot be read as an Excel workbook: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise ExtractError(f"{rel}: empty workbook (no header row)")
        header = [str(h).strip() if h is not None else "" for h in header_row]
        _check_header(rel, header, dialect)
        position = {name: header.index(name) for name in dialect.columns.values()}
        values: dict[str, list[str | None]] = {c: [] for c in dialect.columns}
        lines: list[int] = []
        for number, row in enumerate(rows, start=2):
            if row is None or all(v is None for v in row):
                continue
            for contract_col, local in dialect.columns.items():
                i = position[local]
                values[contract_col].append(_excel_text(row[i] if i < len(row) else None, dialect))
            lines.append(number)
    finally:
        workbook.close()
    return {c: pa.array(v, pa.string()) for c, v in values.items()}, lines, []


def _read_parquet_columns(path: Path, rel: str, dialect: ExtractDialect) -> tuple[dict[str, pa.Array], list[int], list[Reject]]:
    """Parquet is typed already; columns keep their types when they match the contract (row i is "line" i + 1)."""
    import pyarrow.parquet as papq

    try:
        table = papq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ExtractError(f"{rel}: cannot be read as Parquet: {exc}") from None
    _check_header(rel, table.column_names, dialect)
    columns = {c: table.column(local).combine_chunks() for c, local in dialect.columns.items()}
    return columns, list(range(1, table.num_rows + 1)), []


def _check_header(rel: str, header: list[str], dialect: ExtractDialect) -> None:
    missing = [local for local in dialect.columns.values() if local not in header]
    if missing:
        raise ExtractError(
            f"{rel}: line 1: missing column(s) {missing} (schema drift?); header is {header}; "
            f"plant profile {dialect.plant_id} expects {list(dialect.columns.values())}"
        )


# ---------------------------------------------------------------------------------------------------------------
# Typing string columns against the contract
# ---------------------------------------------------------------------------------------------------------------


def _day_offset(fmt: str) -> int | None:
    """Where the day of month sits in text rendered with ``fmt`` (fixed-width formats only), else None."""
    sample = datetime(2001, 2, 3, 4, 5, 6).strftime(fmt)
    widths_fixed = all(d not in fmt for d in ("%-", "%b", "%B", "%a", "%A", "%p", "%j", "%y"))
    return sample.index("03") if widths_fixed and sample.count("03") == 1 else None


def _same_day(text: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """Arrow's strptime rolls impossible dates over (31.06. -> 01.07.): the parsed day must equal the written day."""
    offset = _day_offset(fmt)
    if offset is not None:
        written = pc.binary_slice(text.cast(pa.binary()), offset, offset + 2)
        try:  # compared as numbers: "03" is day 3
            return pc.fill_null(pc.equal(pc.day(parsed), pc.cast(pc.cast(written, pa.string()), pa.int64())), False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # something other than two digits there (the value does not match the format): compare as text
        written = pc.utf8_slice_codeunits(text, offset, offset + 2)
        return pc.fill_null(pc.equal(pc.cast(pc.day(parsed), pa.string()), pc.utf8_ltrim(written, characters="0")), False)
    round_trip = pc.strftime(pc.cast(parsed, pa.timestamp("s"), safe=False), format=fmt)  # variable-width format
    return pc.fill_null(pc.equal(round_trip, text), False)


def _convert(
    name: str, values: pa.Array, target: pa.DataType, dialect: ExtractDialect
) -> tuple[pa.Array, pa.Array, str]:
    """Convert a string column to ``target``. Returns (converted, bad mask, error text for bad values)."""
    if not pa.types.is_string(values.type):  # typed formats (Parquet): keep matching types, re-check the rest as text
        same_kind = values.type == target or (pa.types.is_integer(values.type) and pa.types.is_integer(target)) or (
            pa.types.is_timestamp(values.type) and pa.types.is_timestamp(target) and values.type.tz == getattr(target, "tz", None)
        )
        if same_kind:
            return pc.cast(values, target), pa.repeat(pa.scalar(False), len(values)), "wrong type"
        values = pc.cast(values, pa.string())
    text = pc.utf8_trim_whitespace(values)
    empty = pc.or_kleene(pc.is_null(text), pc.equal(text, ""))
    if pa.types.is_string(target):
        too_long = pc.greater(pc.utf8_length(pc.fill_null(text, "")), MAX_FIELD_CHARS)
        return pc.if_else(empty, None, text), too_long, f"longer than {MAX_FIELD_CHARS} characters"
    if pa.types.is_integer(target):
        clean = pc.if_else(empty, None, text)
        try:  # fast path: the whole column casts
            return pc.cast(clean, target), pa.repeat(pa.scalar(False), len(values)), "not an integer"
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        ok = pc.match_substring_regex(pc.fill_null(text, ""), _INT.pattern)
        bad = pc.and_(pc.invert(ok), pc.invert(empty))
        return pc.cast(pc.if_else(ok, text, None), target), bad, "not an integer"
    if pa.types.is_floating(target):
        normal = pc.replace_substring(text, ",", ".") if dialect.decimal == "," else text
        clean = pc.if_else(empty, None, normal)
        try:
            return pc.cast(clean, target), pa.repeat(pa.scalar(False), len(values)), "not a number"
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        ok = pc.match_substring_regex(pc.fill_null(normal, ""), _FLOAT.pattern)
        bad = pc.and_(pc.invert(ok), pc.invert(empty))
        return pc.cast(pc.if_else(ok, normal, None), target), bad, f"not a number (decimal mark {dialect.decimal!r})"
    if pa.types.is_timestamp(target) or pa.types.is_date(target):
        fmt = dialect.date_format if pa.types.is_date(target) else dialect.timestamp_format
        parsed = pc.strptime(pc.if_else(empty, None, text), format=fmt, unit="us", error_is_null=True)
        parsed = pc.if_else(_same_day(text, parsed, fmt), parsed, None)
        bad = pc.and_(pc.is_null(parsed), pc.invert(empty))
        if pa.types.is_date(target):
            parsed = pc.cast(parsed, pa.date32())
        elif target.tz is not None:
            parsed = pc.assume_timezone(parsed, target.tz)
        return parsed, bad, f"not a timestamp in format {fmt!r}"
    raise TypeError(f"{name}: no conversion to {target}")


def _check_column(values: pa.Array, col: Column, dialect: ExtractDialect) -> tuple[pa.Array, pa.Array, str]:
    """Convert one column and apply the contract's rules: (converted, mask of bad values, error text)."""
    converted, bad, message = _convert(col.name, values, col.arrow_type, dialect)
    if col.required:
        missing = pc.is_null(converted)
        bad = pc.or_(bad, pc.and_(missing, pc.invert(bad)))
    if col.minimum is not None and not pa.types.is_string(col.arrow_type):
        below = pc.fill_null(pc.less(converted, col.minimum), False)
        bad = pc.or_(bad, below)
    return converted, pc.fill_null(bad, True), message


def type_rows(
    columns: dict[str, pa.Array], lines: pa.Array, rel: str, dialect: ExtractDialect, contract: Contract
) -> tuple[dict[str, pa.Array], pa.Array, list[Reject]]:
    """Type every contract column; return typed columns, the mask of good rows, and one reject per bad value.

    Conversion and checks are Arrow compute over whole columns; only the bad values are seen by Python.
    """
    n = len(lines)
    good = pa.repeat(pa.scalar(True), n)
    rejects: list[Reject] = []
    typed: dict[str, pa.Array] = {}
    for name, values in columns.items():
        col = contract.column(name)
        converted, bad, message = _check_column(values, col, dialect)
        bad_idx = pc.indices_nonzero(bad)
        if len(bad_idx):
            raw = values.take(bad_idx).to_pylist()
            conv = converted.take(bad_idx).to_pylist()
            for line, raw_value, value in zip(lines.take(bad_idx).to_pylist(), raw, conv):
                if raw_value in (None, "") and col.required:
                    err = "required value is empty"
                elif value is not None and col.minimum is not None and value < col.minimum:
                    err = f"below minimum {col.minimum}"
                else:
                    err = message
                rejects.append(Reject(rel, line, dialect.columns[name], err,
                                      None if raw_value is None else str(raw_value)[:200]))
        typed[name] = converted
        good = pc.and_(good, pc.invert(bad))
    return typed, good, rejects


# ---------------------------------------------------------------------------------------------------------------
# Ingesting a table for all plants
# ---------------------------------------------------------------------------------------------------------------


def read_extract_file(
    path: Path, rel: str, dialect: ExtractDialect, contract: Contract, ingested_at: datetime
) -> tuple[pa.Table, list[Reject], int]:
    """Read and type one file. Returns (good rows in contract schema, rejects, number of data rows seen)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ExtractError(f"{rel}: {size} bytes exceeds the limit of {MAX_FILE_BYTES} bytes")
    readers = {"csv": _read_csv_strings, "jsonl": _read_jsonl_strings, "xlsx": _read_xlsx_strings,
               "parquet": _read_parquet_columns}
    if dialect.format not in readers:
        raise ExtractError(f"{rel}: format {dialect.format!r} is not supported ({', '.join(readers)})")
    reader = readers[dialect.format]
    columns, lines, structural = reader(path, rel, dialect)
    lines = pa.array(lines, pa.int64()) if not isinstance(lines, pa.Array) else lines
    typed, good, rejects = type_rows(columns, lines, rel, dialect, contract)
    n_rows = len(lines) + len(structural)
    keep = pc.indices_nonzero(good)
    every_row = len(keep) == len(lines)
    data = {name: arr if every_row else pc.take(arr, keep) for name, arr in typed.items()}
    data["plant_id"] = pa.repeat(pa.scalar(dialect.plant_id, pa.string()), len(keep))
    data["source_file"] = pa.repeat(pa.scalar(rel, pa.string()), len(keep))
    data["source_line"] = lines if every_row else pc.take(lines, keep)
    data["ingested_at"] = pa.repeat(pa.scalar(ingested_at, pa.timestamp("us", tz="UTC")), len(keep))
    schema = contract.arrow_schema()
    table = pa.Table.from_arrays([data[f.name] for f in schema], schema=schema)
    return table, structural + sorted(rejects, key=lambda r: (r.source_line or 0)), n_rows


def _ledger_state(ledger_uri: str, plant: str, source: str, table: str) -> tuple[dict[str, str], set[str]]:
    """Latest hash recorded per file name, and every hash whose rows were loaded, for one plant and table."""
    ledger = DeltaTable(ledger_uri)
    rows = ledger.to_pyarrow_table(
        filters=[("plant_id", "=", plant), ("source", "=", source), ("table", "=", table)]
    ).sort_by("recorded_at").to_pylist()
    latest = {r["source_file"]: r["sha256"] for r in rows}
    loaded = {r["sha256"] for r in rows if r["status"] in ("loaded", "new_version")}
    return latest, loaded


def ingest_table(
    contract: Contract,
    plants: dict[str, PlantProfile],
    landing_root: Path,
    lake_root: Path,
    *,
    max_reject_share: float = 0.05,
) -> ExtractResult:
    """Ingest one bronze table (e.g. ``bronze.mes.machine_states``) from every plant's landing folder."""
    source, table_name = contract.source, contract.table
    uri = str(lake_root / "bronze" / source / table_name)
    rejects_uri = str(lake_root / "quarantine" / source / table_name)
    ledger_uri = str(lake_root / "_meta" / "file_ledger")
    ensure_contract_table(uri, contract)
    ensure_table(ledger_uri, LEDGER_SCHEMA)
    result = ExtractResult(contract.id)
    now = datetime.now(timezone.utc)
    for plant_id, profile in sorted(plants.items()):
        dialect = profile.dialects.get((source, table_name))
        if dialect is None:
            continue
        outcome = PlantOutcome(plant_id)
        result.plants[plant_id] = outcome
        folder = landing_root / plant_id / source
        archive_rejects = _unpack_archives(folder, landing_root)
        files = sorted(p for p in folder.glob(dialect.file_glob) if p.is_file() and not p.is_symlink())
        hashes = {str(p.relative_to(landing_root)): (p, sha256_file(p)) for p in files}
        latest, loaded_hashes = _ledger_state(ledger_uri, plant_id, source, table_name)
        # A file version the ledger already knows (loaded, refused or a duplicate) is never read again: its plant-days
        # were replaced when it arrived, and replacing them again would overwrite any later delivery for those days.
        fresh = {rel: ph for rel, ph in hashes.items() if latest.get(rel) != ph[1]}
        outcome.files.extend(archive_rejects)
        if hashes and not fresh:
            outcome.skipped_unchanged = True
            continue
        parts: list[pa.Table] = []
        ledger_rows: list[dict[str, Any]] = []
        seen_hashes: set[str] = set()
        for rel, (path, digest) in fresh.items():
            if digest in seen_hashes or digest in loaded_hashes:
                # A copy or a renamed file whose content is already loaded: counting it again would duplicate rows.
                outcome.files.append(FileOutcome(rel, digest, "duplicate_content"))
                ledger_rows.append(_ledger_row(plant_id, source, table_name, rel, digest, "duplicate_content", 0, 0, None, now))
                continue
            seen_hashes.add(digest)
            try:
                rows, rejects, n_rows = read_extract_file(path, rel, dialect, contract, now)
            except ExtractError as exc:
                fo = FileOutcome(rel, digest, "refused", rejects=[Reject(rel, None, None, str(exc))])
                outcome.files.append(fo)
                ledger_rows.append(_ledger_row(plant_id, source, table_name, rel, digest, "refused", 0, 0, latest.get(rel), now))
                continue
            bad_rows = len({r.source_line for r in rejects})
            status = "new_version" if rel in latest else "loaded"
            if n_rows and bad_rows / n_rows > max_reject_share:
                rejects.append(
                    Reject(rel, None, None,
                           f"file refused: {bad_rows} of {n_rows} rows rejected ({bad_rows / n_rows:.1%} > "
                           f"threshold {max_reject_share:.1%})")
                )
                outcome.files.append(FileOutcome(rel, digest, "refused", 0, rejects))
                ledger_rows.append(_ledger_row(plant_id, source, table_name, rel, digest, "refused", 0, bad_rows, latest.get(rel), now))
                continue
            parts.append(rows)
            outcome.files.append(FileOutcome(rel, digest, status, rows.num_rows, rejects))
            ledger_rows.append(
                _ledger_row(plant_id, source, table_name, rel, digest, status, rows.num_rows, bad_rows, latest.get(rel), now)
            )
        delivery = pa.concat_tables(parts) if parts else contract.arrow_schema().empty_table()
        if delivery.num_rows:
            # The plant-days this delivery holds are replaced atomically; other days and other plants are untouched.
            write_deltalake(uri, delivery, mode="overwrite", predicate=replacement_predicate(contract, plant_id, delivery),
                            partition_by=contract.partition_by or None)
        outcome.rows_loaded = delivery.num_rows
        reject_rows = [
            {"plant_id": plant_id, "source_file": r.source_file, "source_line": r.source_line, "column": r.column,
             "error": r.error, "raw_value": r.raw_value, "rejected_at": now}
            for f in outcome.files for r in f.rejects
        ]
        if reject_rows:
            ensure_table(rejects_uri, REJECT_SCHEMA)
            write_deltalake(rejects_uri, pa.Table.from_pylist(reject_rows, schema=REJECT_SCHEMA), mode="append")
        if ledger_rows:
            write_deltalake(ledger_uri, pa.Table.from_pylist(ledger_rows, schema=LEDGER_SCHEMA), mode="append")
    result.table_version = DeltaTable(uri).version()
    return result


def business_days(contract: Contract, rows: pa.Table) -> list[date]:
    """The distinct local days of the contract's business date in ``rows`` (empty for tables without one)."""
    if contract.business_date is None:
        return []
    days = pc.unique(pc.cast(rows[contract.business_date], pa.date32(), safe=False))
    return sorted(days.to_pylist())


def replacement_predicate(contract: Contract, plant_id: str, rows: pa.Table) -> str:
    """The Delta predicate selecting the replacement units ``rows`` cover: the plant, and the plant-days if dated.

    Consecutive days collapse into one range, so a year-long delivery is one clause; the bounds are day literals,
    which Delta compares as dates for a date column and as local midnights for a timestamp column.
    """
    predicate = f"plant_id = '{_sql_literal(plant_id)}'"
    column = contract.business_date
    if column is None:
        return predicate
    ranges: list[list[date]] = []  # [first day, day after the last day]
    for day in business_days(contract, rows):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + timedelta(days=1)
        else:
            ranges.append([day, day + timedelta(days=1)])
    within = " OR ".join(f"({column} >= '{first}' AND {column} < '{end}')" for first, end in ranges)
    return f"{predicate} AND ({within})"


def _unpack_archives(folder: Path, landing_root: Path) -> list[FileOutcome]:
    """Unpack zip archives in a plant's landing folder after checking them; refused archives become file outcomes."""
    refused = []
    for archive in sorted(folder.glob("*.zip")):
        rel = str(archive.relative_to(landing_root))
        try:
            unpack_zip(archive)
        except ArchiveError as exc:
            refused.append(FileOutcome(rel, sha256_file(archive), "refused", rejects=[Reject(rel, None, None, str(exc))]))
    return refused


def _sql_literal(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise ValueError(f"plant id {value!r} is not a safe identifier")
    return value


def _ledger_row(plant: str, source: str, table: str, rel: str, digest: str, status: str, loaded: int, rejected: int,
                previous: str | None, now: datetime) -> dict[str, Any]:
    return {"plant_id": plant, "source": source, "table": table, "source_file": rel, "sha256": digest,
            "status": status, "rows_loaded": loaded, "rows_rejected": rejected,
            "previous_sha256": previous if previous and previous != digest else None, "recorded_at": now}
