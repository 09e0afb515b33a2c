"""The public steel plant's 15-minute energy readings, replayed through Kafka as plant KR-GWY's sensor stream.

`Steel_industry_data.csv` (UCI, DAEWOO Steel, Gwangyang, 2018) has one row per 15 minutes in Korean local time
(Asia/Seoul, no DST), dates day-first. Each numeric column becomes a tag of the plant's main meter (asset
`GWY-MAIN`; tags and units in catalog/mappings/sensor_tags.yaml); the values are interval values (energy used in the
15 minutes ending at the reading time), not counters.

Quirk, handled visibly: each day's last reading (24:00) is labelled `DD/MM/YYYY 0:00` with the *same* date, so a
naive parser puts it at the start of that day, 24 h early. A `0:00` label that follows a reading of the same date is
read as 24:00, i.e. 0:00 of the next day; every such row is counted in the quirk report, and the daily truth shows
what naive parsing would have given. The file's missing final newline and the non-numeric columns (NSM,
WeekStatus, Day_of_week, Load_Type) are reported too.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from ingestion.simulator.sensors import SensorReading

from .quirks import QuirkReport

DATASET = "steel_energy"
PLANT_ID = "KR-GWY"
ASSET_ID = "GWY-MAIN"
FILE = "Steel_industry_data.csv"
TZ = ZoneInfo("Asia/Seoul")
# source column -> (local tag, unit); the same pairs as catalog/mappings/sensor_tags.yaml for KR-GWY
TAGS: tuple[tuple[str, str, str], ...] = (
    ("Usage_kWh", "usage_kwh", "kWh"),
    ("Lagging_Current_Reactive.Power_kVarh", "lagging_kvarh", "kVArh"),
    ("Leading_Current_Reactive_Power_kVarh", "leading_kvarh", "kVArh"),
    ("CO2(tCO2)", "co2_tco2", "tCO2"),
    ("Lagging_Current_Power_Factor", "lagging_pf_pct", "%"),
    ("Leading_Current_Power_Factor", "leading_pf_pct", "%"),
)
NOT_REPLAYED = ("NSM", "WeekStatus", "Day_of_week", "Load_Type")
DAILY_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),  # local date (Asia/Seoul) of the interval's end, 24:00 belonging to the day it ends
        ("readings", pa.int64()),
        ("usage_kwh", pa.float64()),
        ("co2_t", pa.float64()),
        ("usage_kwh_naive", pa.float64()),  # what parsing the labels literally would attribute to the day
    ]
)


def default_path() -> Path:
    from . import datasets_dir

    return datasets_dir() / DATASET / FILE


def _rows(path: Path) -> Iterator[tuple[int, dt.datetime, dt.datetime, dict[str, str]]]:
    """(line, literal local time, corrected local time, row) in file order."""
    previous_date: dt.date | None = None
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            literal = dt.datetime.strptime(row["date"], "%d/%m/%Y %H:%M")
            corrected = literal
            if literal.time() == dt.time(0, 0) and literal.date() == previous_date:
                corrected = literal + dt.timedelta(days=1)  # "24:00" of the labelled day
            previous_date = literal.date()
            yield line, literal, corrected, row


def iter_steel_readings(path: Path | None = None) -> Iterator[SensorReading]:
    """Every numeric value as a reading of KR-GWY/GWY-MAIN at its corrected time (UTC), in file order."""
    for _, _, corrected, row in _rows(path or default_path()):
        ts = corrected.replace(tzinfo=TZ).astimezone(dt.UTC)
        for column, tag, unit in TAGS:
            yield SensorReading(PLANT_ID, ASSET_ID, tag, ts, float(row[column]), unit)


def analyse(path: Path, quirks: QuirkReport) -> pa.Table:
    """Count the file's quirks into the report and return the daily truth (energy and CO2 per local day)."""
    midnight_rows, lines, examples = 0, 0, []
    daily: dict[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    naive: dict[dt.date, float] = defaultdict(float)
    for line, literal, corrected, row in _rows(path):
        lines += 1
        if corrected != literal:
            midnight_rows += 1
            if len(examples) < 3:
                examples.append(f"line {line}: {row['date']!r} read as {corrected:%Y-%m-%d %H:%M} (24:00)")
        # An interval ending at 00:00 belongs to the day before: the day of the reading time minus a moment.
        day = (corrected - dt.timedelta(seconds=1)).date()
        daily[day]["readings"] += 1
        daily[day]["usage_kwh"] += float(row["Usage_kWh"])
        daily[day]["co2_t"] += float(row["CO2(tCO2)"])
        naive[(literal - dt.timedelta(seconds=1)).date()] += float(row["Usage_kWh"])
    quirks.add(DATASET, "midnight_labelled_as_start_of_day", midnight_rows,
               "a '0:00' label after a reading of the same date is read as 24:00 (0:00 of the next day)", examples)
    ends_without_newline = not path.read_bytes().endswith(b"\n")
    quirks.add(DATASET, "no_final_newline", int(ends_without_newline), "read as usual (the CSV reader accepts it)")
    quirks.add(DATASET, "columns_not_replayed", len(NOT_REPLAYED),
               "not numeric readings (seconds since midnight, week status, weekday, load type): not published",
               list(NOT_REPLAYED))
    quirks.add(DATASET, "readings_replayed", lines * len(TAGS),
               f"{lines} rows x {len(TAGS)} tags published to Kafka as {PLANT_ID}/{ASSET_ID}")
    rows = [
        {"day": day, "readings": int(v["readings"]), "usage_kwh": v["usage_kwh"], "co2_t": v["co2_t"],
         "usage_kwh_naive": naive.get(day, 0.0)}
        for day, v in sorted(daily.items())
    ]
    return pa.Table.from_pylist(rows, schema=DAILY_SCHEMA)
