"""Golden numbers: hand-worked OEE examples from public guides, entered as the plants' own extract files (their
dialect from catalog/plants: delimiter, decimal mark, encoding, date formats, local column names and state codes),
ingested by the real extract reader into bronze, built by dbt, and reproduced to 0.001.

- oee.com, "Calculate OEE" (the example of the KPI reference): an 8 h shift with two 15 min breaks and a 30 min meal
  break, 47 min down, ideal cycle time 1.0 s, 19,271 pieces of which 423 rejected: availability 88.81 %, performance
  86.11 %, quality 97.80 %, OEE 74.8 %. Entered in Singapore's JSON lines (its 07:00-15:00 shift A).
- waycalculator.com OEE calculator, example 1: 480 min planned, 420 min run, ideal cycle time 1 min, 400 pieces of
  which 380 good: availability 87.5 %, performance 95.2 %, quality 95 %, OEE 79.1 %. Entered in Ohio's CSV (its
  06:00-14:30 shift 1ST, with a 30 min lunch break making the 480 min planned).
- Willmott & McCarthy, "TPM - A Route to World-Class Performance", Miller 201 on Tuesday of week 17: 910 min of planned
  availability, 115 min of unplanned stoppages and 12 min of changeovers, standard cycle time 3 min, 203 completed
  cycles of which 152 right first time: availability 86.0 %, performance 77.7 %, quality 74.9 %, OEE 50 %. Entered
  in Monterrey's CSV with cycle times in minutes, over its two 12 h shifts of one production day (530 min planned
  down).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from conftest import Build, prebuilt, run_dbt, scenario
from deltalake import write_deltalake

from catalog.contracts import load_contracts
from catalog.plants import ExtractDialect, load_plants
from catalog.render import delta_extension_path
from ingestion.extracts import ingest_table

# Golden days without DST changes in any of the plants
SINGAPORE_DAY = date(2026, 7, 7)
OHIO_DAY = date(2026, 7, 8)
MONTERREY_DAY = date(2026, 7, 9)


def at(day: date, clock: str, *, days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=days), time.fromisoformat(clock))


def timeline(asset: str, *states: tuple[datetime, str]) -> list[dict[str, Any]]:
    """Consecutive states (start, local code); the last entry only marks the end."""
    return [
        {"asset_local_id": asset, "started_at_local": start, "ended_at_local": end, "state_local_code": code}
        for (start, code), (end, _) in itertools.pairwise(states)
    ]


def counts(asset: str, material: str, start: datetime, end: datetime, good: int, scrap: int) -> dict[str, Any]:
    return {
        "asset_local_id": asset,
        "order_id": "GOLD-1",
        "material_local_id": material,
        "interval_start_local": start,
        "interval_end_local": end,
        "produced_qty": good + scrap,
        "good_qty": good,
        "scrap_qty": scrap,
        "rework_qty": 0,
    }


# Rows in contract columns, per plant and table; written below in each plant's own dialect.
GOLDEN_EXTRACTS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "SG-SIN": {
        "assets": [{"asset_local_id": "OEE-COM", "line_local_id": "GOLD", "asset_name": "oee.com example"}],
        "shift_calendar": [
            {"shift_local_code": "A", "shift_date": SINGAPORE_DAY, "started_at_local": at(SINGAPORE_DAY, "07:00"),
             "ended_at_local": at(SINGAPORE_DAY, "15:00")},
        ],
        # 2 x 15 min breaks and a 30 min meal break (60 min), 47 min down: run time 373 min
        "machine_states": timeline(
            "OEE-COM",
            (at(SINGAPORE_DAY, "07:00"), "RUN"),
            (at(SINGAPORE_DAY, "09:00"), "BREAK"),
            (at(SINGAPORE_DAY, "09:15"), "RUN"),
            (at(SINGAPORE_DAY, "10:00"), "BRKDN"),
            (at(SINGAPORE_DAY, "10:47"), "RUN"),
            (at(SINGAPORE_DAY, "11:30"), "BREAK"),
            (at(SINGAPORE_DAY, "12:00"), "RUN"),
            (at(SINGAPORE_DAY, "13:30"), "BREAK"),
            (at(SINGAPORE_DAY, "13:45"), "RUN"),
            (at(SINGAPORE_DAY, "15:00"), "end"),
        ),
        "production_counts": [
            counts("OEE-COM", "WIDGET", at(SINGAPORE_DAY, "07:00"), at(SINGAPORE_DAY, "15:00"), 18848, 423)
        ],
        "materials": [{"material_local_id": "WIDGET", "material_name": "Widget", "ideal_cycle_time": 1.0,
                       "ideal_cycle_time_unit": "s"}],
    },
    "US-OHI": {
        "assets": [{"asset_local_id": "WAYCALC", "line_local_id": "GOLD", "asset_name": "waycalculator example 1"}],
        "shift_calendar": [
            {"shift_local_code": "1ST", "shift_date": OHIO_DAY, "started_at_local": at(OHIO_DAY, "06:00"),
             "ended_at_local": at(OHIO_DAY, "14:30")},
        ],
        # 30 min lunch (planned), 480 min planned production, 60 min down: run time 420 min
        "machine_states": timeline(
            "WAYCALC",
            (at(OHIO_DAY, "06:00"), "Running"),
            (at(OHIO_DAY, "10:00"), "Lunch break"),
            (at(OHIO_DAY, "10:30"), "Running"),
            (at(OHIO_DAY, "11:00"), "Machine breakdown"),
            (at(OHIO_DAY, "12:00"), "Running"),
            (at(OHIO_DAY, "14:30"), "end"),
        ),
        "production_counts": [
            counts("WAYCALC", "PART-1", at(OHIO_DAY, "06:00"), at(OHIO_DAY, "14:30"), 380, 20)
        ],
        "materials": [{"material_local_id": "PART-1", "material_name": "Part", "ideal_cycle_time": 60.0,
                       "ideal_cycle_time_unit": "s"}],
    },
    "MX-MTY": {
        "assets": [{"asset_local_id": "MILLER-201", "line_local_id": "GOLD", "asset_name": "Miller 201"}],
        "shift_calendar": [
            {"shift_local_code": "T1", "shift_date": MONTERREY_DAY, "started_at_local": at(MONTERREY_DAY, "07:00"),
             "ended_at_local": at(MONTERREY_DAY, "19:00")},
            {"shift_local_code": "T2", "shift_date": MONTERREY_DAY, "started_at_local": at(MONTERREY_DAY, "19:00"),
             "ended_at_local": at(MONTERREY_DAY, "07:00", days=1)},
        ],
        # 910 min planned availability in the 1440 min day (530 min planned down), 115 min of unplanned stoppages
        # and 12 min of changeover: uptime 783 min
        "machine_states": timeline(
            "MILLER-201",
            (at(MONTERREY_DAY, "07:00"), "210"),  # changeover
            (at(MONTERREY_DAY, "07:12"), "100"),
            (at(MONTERREY_DAY, "12:00"), "310"),  # 115 min stoppage
            (at(MONTERREY_DAY, "13:55"), "100"),
            (at(MONTERREY_DAY, "22:10"), "500"),  # planned down for the rest of the night
            (at(MONTERREY_DAY, "07:00", days=1), "end"),
        ),
        "production_counts": [
            counts("MILLER-201", "M201-P", at(MONTERREY_DAY, "07:00"), at(MONTERREY_DAY, "19:00"), 120, 31),
            counts("MILLER-201", "M201-P", at(MONTERREY_DAY, "19:00"), at(MONTERREY_DAY, "07:00", days=1), 32, 20),
        ],
        # the book's standard cycle time, in the plant's unit (minutes)
        "materials": [{"material_local_id": "M201-P", "material_name": "Pieza", "ideal_cycle_time": 3.0,
                       "ideal_cycle_time_unit": "min"}],
    },
}

# (plant, asset, grain, period) -> the guide's published figures (availability, performance, quality, OEE); for the
# TPM book the OEE it prints, 50 %, is the product of its rounded factors, 0.860 x 0.777 x 0.749 = 0.5005.
PUBLISHED = {
    "oee.com": ("SG-SIN:OEE-COM", "asset_shift", SINGAPORE_DAY, (0.8881, 0.8611, 0.9780, 0.748)),
    "waycalculator": ("US-OHI:WAYCALC", "asset_shift", OHIO_DAY, (0.875, 0.952, 0.95, 0.791)),
    "tpm_miller_201": ("MX-MTY:MILLER-201", "asset_day", MONTERREY_DAY, (0.860, 0.777, 0.749, 0.5005)),
}


def _text(value: Any, dialect: ExtractDialect) -> str:
    if isinstance(value, datetime):
        return value.strftime(dialect.timestamp_format)
    if isinstance(value, date):
        return value.strftime(dialect.date_format)
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal)
    return str(value)


def write_extract(landing: Path, dialect: ExtractDialect, rows: list[dict[str, Any]]) -> Path:
    """One extract file as the plant's system writes it: its file name, format, columns, encoding and formats."""
    path = landing / dialect.plant_id / dialect.source / dialect.file_glob.replace("*", "golden")
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = dialect.columns
    if dialect.format == "jsonl":
        lines = [
            json.dumps({local: (value if isinstance(value, int | float) else _text(value, dialect))
                        for local, value in ((columns[c], row[c]) for c in columns)}, ensure_ascii=False)
            for row in rows
        ]
    elif dialect.format == "csv":
        lines = [dialect.delimiter.join(columns.values())]
        lines += [dialect.delimiter.join(_text(row[c], dialect) for c in columns) for row in rows]
    else:
        raise AssertionError(f"{dialect.plant_id} writes {dialect.format}: add it to this test")
    path.write_bytes(("\n".join(lines) + "\n").encode(dialect.encoding))
    return path


@scenario("golden")
def _build_golden_extracts(data_root: Path) -> Build:
    landing, lake = data_root / "landing", data_root / "lake"
    plants = load_plants()
    for plant_id, tables in GOLDEN_EXTRACTS.items():
        for table, rows in tables.items():
            source = "erp" if table == "materials" else "mes"
            write_extract(landing, plants[plant_id].dialects[(source, table)], rows)
    rejected = {}
    for contract in load_contracts().values():
        if contract.layer != "bronze":
            continue
        if contract.source == "sensor":
            empty = pa.Table.from_pylist([], schema=contract.arrow_schema())
            write_deltalake(data_root / contract.path, empty, partition_by=contract.partition_by or None)
            continue
        rejected[contract.id] = ingest_table(contract, plants, landing, lake).rows_rejected
    started = monotonic()
    # the models only: the data and unit tests run on the fixture plants and the ci network
    build = run_dbt(data_root, "build", "--selector", "kpi_library", "--exclude-resource-type", "test", "unit_test")
    return Build(data_root, build, monotonic() - started, {"rejected": rejected})


@dataclass(frozen=True)
class Golden:
    data_root: Path
    connection: duckdb.DuckDBPyConnection


@pytest.fixture(scope="module")
def golden():
    built = prebuilt("golden")
    assert set(built.details["rejected"].values()) == {0}, built.details["rejected"]
    assert built.build.returncode == 0, built.build.stdout[-6000:]
    with duckdb.connect(str(built.data_root / "warehouse.duckdb"), read_only=True) as connection:
        connection.execute(f"load '{delta_extension_path()}'")
        yield Golden(built.data_root, connection)


def published(connection, asset_id: str, grain: str, day: date) -> tuple[float, ...]:
    rows = dict(
        connection.execute(
            "select kpi_id, value from main_marts.kpi_values where asset_id = ? and grain = ? and period_start = ? "
            "and kpi_id in ('availability', 'effectiveness', 'quality_ratio', 'oee')",
            [asset_id, grain, day],
        ).fetchall()
    )
    return tuple(rows[k] for k in ("availability", "effectiveness", "quality_ratio", "oee"))


@pytest.mark.parametrize("example", sorted(PUBLISHED))
def test_the_published_worked_example_is_reproduced_to_a_thousandth(golden, example):
    asset_id, grain, day, expected = PUBLISHED[example]

    assert published(golden.connection, asset_id, grain, day) == pytest.approx(expected, abs=0.001)


def test_the_extracts_went_through_the_plants_dialects_into_bronze(golden):
    rows = golden.connection.execute(
        "select plant_id, source_file, count(*) from delta_scan(?) group by all order by plant_id",
        [str(golden.data_root / "lake" / "bronze" / "mes" / "machine_states")],
    ).fetchall()

    assert rows == [
        ("MX-MTY", "MX-MTY/mes/paros_golden.csv", 5),
        ("SG-SIN", "SG-SIN/mes/machine_events_golden.jsonl", 9),
        ("US-OHI", "US-OHI/mes/downtime_golden.csv", 5),
    ]


def test_the_tpm_example_spans_both_monterrey_shifts_of_its_production_day(golden):
    t1 = golden.connection.execute(
        "select pot_s, pdot_s, pbt_s, apt_s, aust_s, adet_s, pq, gq from main_marts.kpi_elements_asset_shift "
        "where asset_id = 'MX-MTY:MILLER-201' and shift_code = 'T1'"
    ).fetchall()
    day = golden.connection.execute(
        "select numerator, denominator from main_marts.kpi_values where asset_id = 'MX-MTY:MILLER-201' "
        "and grain = 'asset_day' and kpi_id = 'availability'"
    ).fetchall()

    # T1 07:00-19:00: 12 min changeover (AUST, a loss as in the book), 115 min stoppage, 593 min running
    assert t1 == [(43200.0, 0.0, 43200.0, 593 * 60.0, 12 * 60.0, 115 * 60.0, 151, 120)]
    # the day: 783 of 910 planned minutes
    assert day == [(783 * 60.0, 910 * 60.0)]
