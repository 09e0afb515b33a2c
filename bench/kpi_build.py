"""Benchmark of the KPI library (issue 6): a full build of every KPI model from bronze, against a hand-written DuckDB
query (the limit) and a straightforward pandas implementation of the same KPIs (the naive peer), and the cost of
materializing one more day on top of a year of history. `run(report, scale)` is called by `python -m bench`.

Data: the simulator's `bench` network (issue 3) is not wired into the harness yet, so this module writes bronze
Delta tables of that volume straight from numpy: the four simulated catalog plants (their time zones, shift patterns,
holidays and local state codes from the catalog) with 120 assets each (480 assets; `small`: 20 each, 60 days), a year
of machine states and production counts, and the sensor stream of the first 30 days (as the simulator's bench network)
and of the day before the new day, at one reading a minute (1 Hz would be 5 billion rows; the KPIs read only the
energy meter at shift boundaries). Every table has its contract's
Arrow schema, lineage columns included, and what the pipeline relies on (docs/design.md): gap-free state timelines
crossing shift boundaries, count intervals inside one shift. In the hour a DST change repeats, events of the first
pass are logged at the change instant, as a plant MES writing naive local times does, so the local timeline never runs
backwards. The last production day is written apart (`new_day`) and appended after the full build, as the next day's
extracts and readings, for the incremental measurement.

Every measured output is checked before its time counts: the published OEE per asset-shift equals the hand-written
query's, and every KPI value at every grain equals pandas' (relative 1e-9).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from deltalake import DeltaTable, WriterProperties, write_deltalake

from catalog import CATALOG_DIR
from catalog.contracts import get_contract, load_contracts
from catalog.plants import load_plants
from catalog.render import DBT_PROJECT_DIR, dbt_env, delta_extension_path, energy_meter, load_kpi_definitions

PLANTS = ("DE-STR", "MX-MTY", "SG-SIN", "US-OHI")
START_DATE = dt.date(2025, 6, 1)
SENSOR_INTERVAL_S = 60
SENSOR_TAGS = ("temperature_c", "vibration_mm_s", "power_kw", "energy_kwh")
SENSOR_UNITS = {"temperature_c": "degC", "vibration_mm_s": "mm/s", "power_kw": "kW", "energy_kwh": "kWh"}
# Row groups of 128 k rows: a day of one plant's states spans a few of them, so a partition run's filters skip the
# rest of the year (min/max statistics), as they would in files ingested day by day.
WRITER = WriterProperties(max_row_group_size=131_072, compression="SNAPPY")

# (enterprise state, weight, shortest s, longest s) of the stop ending each run stretch; runs last 50 min on average.
STOPS = (
    ("MINOR_STOP", 0.55, 60, 300),
    ("IDLE", 0.25, 300, 1800),
    ("BREAKDOWN", 0.10, 600, 4500),
    ("SETUP", 0.06, 900, 2700),
    ("PLANNED_DOWN", 0.04, 1800, 3600),
)
IDLE_STATES = ("STARVED", "BLOCKED", "NO_ORDER")
MEAN_RUN_S = 3000


@dataclass(frozen=True)
class Scale:
    lines: int
    assets_per_line: int
    days: int  # history days; one more (the new day) is generated on top
    sensor_days: int

    @property
    def assets_per_plant(self) -> int:
        return self.lines * self.assets_per_line


SCALES = {
    "small": Scale(lines=4, assets_per_line=5, days=60, sensor_days=7),
    "full": Scale(lines=10, assets_per_line=12, days=365, sensor_days=30),
}


def production_days(scale: Scale) -> list[dt.date]:
    return [START_DATE + dt.timedelta(days=d) for d in range(scale.days + 1)]


def _state_codes(plant_id: str) -> dict[str, list[str]]:
    document = yaml.safe_load((CATALOG_DIR / "mappings" / "machine_states.yaml").read_text(encoding="utf-8"))
    codes: dict[str, list[str]] = {}
    for mapping in document["mappings"]:
        if mapping["plant_id"] == plant_id:
            codes.setdefault(mapping["enterprise_state"], []).append(str(mapping["local_code"]))
    return codes


def _shift_windows(plant_id: str, days: list[dt.date]) -> pd.DataFrame:
    """Every shift of every production day, honouring the profile's weekdays and holidays (local and UTC)."""
    profile = load_plants()[plant_id]
    tz = ZoneInfo(profile.timezone)
    holidays = {dt.date.fromisoformat(str(h["date"])) for h in profile.raw.get("holidays", [])}
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    rows = []
    for day in days:
        if day in holidays:
            continue
        for shift in profile.shifts:
            if "days" in shift and weekday[day.weekday()] not in shift["days"]:
                continue
            start_t, end_t = dt.time.fromisoformat(shift["start"]), dt.time.fromisoformat(shift["end"])
            start = dt.datetime.combine(day, start_t)
            end = dt.datetime.combine(day + dt.timedelta(days=1) if end_t <= start_t else day, end_t)
            rows.append(
                {
                    "shift_local_code": shift["code"],
                    "shift_date": day,
                    "started_at_local": start,
                    "ended_at_local": end,
                    "start_s": int(start.replace(tzinfo=tz).timestamp()),
                    "end_s": int(end.replace(tzinfo=tz).timestamp()),
                }
            )
    return pd.DataFrame(rows).sort_values("start_s", ignore_index=True)


def _to_local(epoch_s: np.ndarray, timezone: str) -> np.ndarray:
    """UTC epoch seconds -> naive local wall-clock datetime64[us]."""
    index = pd.to_datetime(epoch_s, unit="s", utc=True).tz_convert(timezone).tz_localize(None)
    return index.to_numpy(dtype="datetime64[us]")


def _repeated_hours(timezone: str, first_s: int, last_s: int) -> list[tuple[int, int]]:
    """[start, end) UTC of the first pass through every wall-clock hour a DST change repeats."""
    hours = np.arange(first_s - first_s % 3600, last_s + 3600, 3600)
    offsets = pd.to_datetime(hours, unit="s", utc=True).tz_convert(timezone).map(lambda t: t.utcoffset().total_seconds())
    offsets = np.asarray(offsets, dtype=np.int64)
    changes = np.nonzero(np.diff(offsets) < 0)[0]
    return [(int(hours[i + 1] - (offsets[i] - offsets[i + 1])), int(hours[i + 1])) for i in changes]


@dataclass
class PlantData:
    plant_id: str
    tables: dict[str, pa.Table]  # contract id -> rows, per part
    new_day_tables: dict[str, pa.Table]


def _running_before(starts: np.ndarray, ends: np.ndarray, running: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Seconds of running time in [starts[0], t) for each t (the timeline is gap-free)."""
    lengths = np.where(running, ends - starts, 0)
    cumulative = np.concatenate([[0], np.cumsum(lengths)])
    index = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
    return cumulative[index] + np.where(running[index], np.clip(t - starts[index], 0, None), 0)


def _lineage(contract_id: str, n: int, source_file: str, ingested_at: dt.datetime) -> dict[str, pa.Array]:
    return {
        "source_file": pa.array([source_file] * n, pa.string()) if n else pa.array([], pa.string()),
        "source_line": pa.array(np.arange(2, n + 2, dtype=np.int64)),
        "ingested_at": pa.array(np.full(n, np.datetime64(ingested_at.replace(tzinfo=None), "us")),
                                pa.timestamp("us", tz="UTC")),
    }


def _table(contract_id: str, columns: dict[str, object]) -> pa.Table:
    schema = get_contract(contract_id).arrow_schema()
    return pa.Table.from_arrays([pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], pa.Array)
                                 else columns[f.name].cast(f.type) for f in schema], schema=schema)


def generate_plant(plant_id: str, scale: Scale, seed: int = 20260601) -> PlantData:
    rng = np.random.default_rng([seed, PLANTS.index(plant_id)])
    profile = load_plants()[plant_id]
    timezone = profile.timezone
    days = production_days(scale)
    new_day = days[-1]
    shifts = _shift_windows(plant_id, days)
    history_shifts = shifts[shifts["shift_date"] < new_day]
    cut_s = int(history_shifts["end_s"].max())  # history ends with the last shift of the day before the new day
    first_s, last_s = int(shifts["start_s"].min()) - 3600, int(shifts["end_s"].max()) + 3600
    repeated = _repeated_hours(timezone, first_s, last_s)
    codes = _state_codes(plant_id)
    idle = [s for s in IDLE_STATES if s in codes]
    ingested_history = dt.datetime.combine(new_day, dt.time(1), tzinfo=dt.UTC)
    ingested_new = ingested_history + dt.timedelta(days=1)

    # materials: ideal cycle time 5-40 s, in the plant's unit
    unit = (profile.raw.get("units") or {}).get("cycle_time", "min" if plant_id == "MX-MTY" else "s")
    n_materials = 6
    cycle_s = np.round(rng.uniform(5, 40, n_materials), 1)
    if unit == "min":
        cycle_s = np.round(cycle_s / 60, 4) * 60
    material_ids = [f"B{plant_id[:2]}{n:05d}" for n in range(1, n_materials + 1)]

    asset_rows, state_parts, count_parts, sensor_parts = [], [], [], []
    slice_start, slice_end = [], []
    for _, shift in shifts.iterrows():
        starts = np.arange(shift.start_s, shift.end_s, 3600)
        slice_start.append(starts)
        slice_end.append(np.minimum(starts + 3600, shift.end_s))
    slice_start = np.concatenate(slice_start)
    slice_end = np.concatenate(slice_end)
    slice_start_local = _to_local(slice_start, timezone)
    slice_end_local = _to_local(slice_end, timezone)

    # Sensors over the first `sensor_days` days (as the simulator's bench network) and over the new day, so that the
    # two days the incremental measurement compares read the same kinds of data.
    sensor_windows = [(first_s, int(pd.Timestamp(days[scale.sensor_days], tz=timezone).timestamp())),
                      (cut_s - 86400, last_s)]
    sensor_times = np.concatenate([np.arange(start - start % SENSOR_INTERVAL_S + SENSOR_INTERVAL_S, end,
                                             SENSOR_INTERVAL_S) for start, end in sensor_windows])

    stop_weights = np.array([s[1] for s in STOPS])
    stop_weights = stop_weights / stop_weights.sum()
    for line in range(1, scale.lines + 1):
        for number in range(1, scale.assets_per_line + 1):
            asset = f"B{line:02d}{number:02d}"
            asset_rows.append((asset, f"BL{line:02d}", f"Bench asset {line}.{number}"))
            # --- machine states
            n = int((last_s - first_s) / (MEAN_RUN_S + 600) * 1.3) + 64
            runs = np.maximum(60, rng.exponential(MEAN_RUN_S, n)).astype(np.int64)
            kinds = rng.choice(len(STOPS), n, p=stop_weights)
            lows = np.array([s[2] for s in STOPS])[kinds]
            highs = np.array([s[3] for s in STOPS])[kinds]
            stops = rng.integers(lows, highs + 1)
            durations = np.empty(2 * n, dtype=np.int64)
            durations[0::2], durations[1::2] = runs, stops
            bounds = first_s + np.concatenate([[0], np.cumsum(durations)])
            keep = bounds[:-1] < last_s
            starts, ends = bounds[:-1][keep], np.minimum(bounds[1:][keep], last_s)
            state_names = np.empty(len(starts), dtype=object)
            state_names[0::2] = "RUNNING"
            stop_state = np.array([s[0] for s in STOPS], dtype=object)[kinds]
            stop_state[stop_state == "IDLE"] = rng.choice(idle, int((stop_state == "IDLE").sum()))
            state_names[1::2] = stop_state[: len(state_names[1::2])]
            # a state crossing the history cut is written as two rows, one per extract
            if (crossing := np.nonzero((starts < cut_s) & (ends > cut_s))[0]).size:
                i = crossing[0]
                starts = np.insert(starts, i + 1, cut_s)
                ends = np.insert(ends, i, cut_s)
                state_names = np.insert(state_names, i + 1, state_names[i])
            for begin, change in repeated:  # the first pass through a repeated hour is logged at the change
                starts = np.where((starts >= begin) & (starts < change), change, starts)
                ends = np.where((ends >= begin) & (ends < change), change, ends)
            nonempty = ends > starts
            starts, ends, state_names = starts[nonempty], ends[nonempty], state_names[nonempty]
            local_codes = np.array([codes[s][int(rng.integers(len(codes[s])))] for s in state_names], dtype=object)
            state_parts.append((asset, starts, ends, local_codes))
            running = state_names == "RUNNING"
            # --- orders and counts
            order_lengths = rng.integers(4 * 3600, 14 * 3600, int((last_s - first_s) / (4 * 3600)) + 2)
            order_starts = first_s + np.concatenate([[0], np.cumsum(order_lengths)[:-1]])
            order_material = rng.integers(0, n_materials, len(order_starts))
            order_speed = rng.uniform(0.80, 0.97, len(order_starts))
            order_index = np.searchsorted(order_starts, slice_start, side="right") - 1
            run_s = (_running_before(starts, ends, running, slice_end)
                     - _running_before(starts, ends, running, slice_start))
            material = order_material[order_index]
            produced = np.floor(run_s * order_speed[order_index] / cycle_s[material]).astype(np.int64)
            scrap_rate, rework_rate = rng.uniform(0.005, 0.03), rng.uniform(0.0, 0.015)
            scrap = rng.binomial(produced, scrap_rate)
            rework = rng.binomial(produced - scrap, rework_rate)
            count_parts.append((asset, order_index, material, produced, scrap, rework))
            # --- sensors: the energy meter integrates power (90 % of rated running, 12 % otherwise)
            rated = rng.uniform(8, 60)
            run_before = _running_before(starts, ends, running, sensor_times)
            other_before = (sensor_times - first_s) - run_before
            energy = np.round(rng.uniform(1e4, 9e4) + rated * (0.9 * run_before + 0.12 * other_before) / 3600, 3)
            is_running = running[np.clip(np.searchsorted(starts, sensor_times, side="right") - 1, 0, None)]
            power = np.round(rated * np.where(is_running, 0.9, 0.12) + rng.normal(0, 0.01 * rated, len(sensor_times)), 3)
            temperature = np.round(24 + 30 * np.where(is_running, 0.9, 0.12) + rng.normal(0, 0.15, len(sensor_times)), 2)
            vibration = np.round(np.where(is_running, 2.5, 0.1) * (1 + rng.normal(0, 0.08, len(sensor_times))), 3)
            sensor_parts.append((asset, {"temperature_c": temperature, "vibration_mm_s": vibration,
                                         "power_kw": power, "energy_kwh": energy}))

    def split(contract_id: str, columns: dict[str, object], is_new: np.ndarray, name: str) -> tuple[pa.Table, pa.Table]:
        tables = []
        for mask, ingested in ((~is_new, ingested_history), (is_new, ingested_new)):
            part = {k: (v.filter(pa.array(mask)) if isinstance(v, pa.Array) else np.asarray(v, dtype=object)[mask]
                        if isinstance(v, list) else v[mask]) for k, v in columns.items()}
            n = int(mask.sum())
            part.update(_lineage(contract_id, n, f"{plant_id}/bench/{name}_{'new' if ingested is ingested_new else 'history'}.csv",
                                 ingested))
            part["plant_id"] = pa.array([plant_id] * n, pa.string())
            tables.append(_table(contract_id, part))
        return tables[0], tables[1]

    history, new = {}, {}
    assets = {"asset_local_id": [a[0] for a in asset_rows], "line_local_id": [a[1] for a in asset_rows],
              "asset_name": [a[2] for a in asset_rows]}
    history["bronze.mes.assets"], new["bronze.mes.assets"] = split(
        "bronze.mes.assets", assets, np.zeros(len(asset_rows), bool), "assets")
    materials = {"material_local_id": material_ids, "material_name": [f"Bench material {m}" for m in material_ids],
                 "ideal_cycle_time": cycle_s / (60 if unit == "min" else 1), "ideal_cycle_time_unit": [unit] * n_materials}
    history["bronze.erp.materials"], new["bronze.erp.materials"] = split(
        "bronze.erp.materials", materials, np.zeros(n_materials, bool), "materials")
    calendar = {c: shifts[c].to_numpy() for c in ("shift_local_code", "started_at_local", "ended_at_local")}
    calendar["shift_date"] = shifts["shift_date"].to_numpy()
    history["bronze.mes.shift_calendar"], new["bronze.mes.shift_calendar"] = split(
        "bronze.mes.shift_calendar", calendar, (shifts["shift_date"] == new_day).to_numpy(), "shifts")

    asset_ids = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in state_parts])
    starts = np.concatenate([p[1] for p in state_parts])
    ends = np.concatenate([p[2] for p in state_parts])
    states = {"asset_local_id": asset_ids, "started_at_local": _to_local(starts, timezone),
              "ended_at_local": _to_local(ends, timezone),
              "state_local_code": np.concatenate([p[3] for p in state_parts])}
    history["bronze.mes.machine_states"], new["bronze.mes.machine_states"] = split(
        "bronze.mes.machine_states", states, starts >= cut_s, "states")

    # An hour slice that is the first pass through a repeated local hour (clocks going back) has the same local start
    # and end: an MES logging wall-clock times reports it together with the second pass, as one interval.
    folded = np.nonzero(slice_end_local <= slice_start_local)[0]
    assert (folded + 1 < len(slice_start)).all() and (slice_start[folded + 1] == slice_end[folded]).all()
    slice_kept = np.ones(len(slice_start), bool)
    slice_kept[folded] = False
    for part in count_parts:
        for quantities in part[3:]:
            quantities[folded + 1] += quantities[folded]
    n_slices = int(slice_kept.sum())
    order_ids = np.concatenate([np.char.add(f"{p[0]}-", p[1][slice_kept].astype(str)) for p in count_parts]).astype(object)
    produced = np.concatenate([p[3][slice_kept] for p in count_parts])
    scrap = np.concatenate([p[4][slice_kept] for p in count_parts])
    rework = np.concatenate([p[5][slice_kept] for p in count_parts])
    counts = {"asset_local_id": np.repeat(np.array([p[0] for p in count_parts], dtype=object), n_slices),
              "order_id": order_ids,
              "material_local_id": np.array(material_ids, dtype=object)[
                  np.concatenate([p[2][slice_kept] for p in count_parts])],
              "interval_start_local": np.tile(slice_start_local[slice_kept], len(count_parts)),
              "interval_end_local": np.tile(slice_end_local[slice_kept], len(count_parts)),
              "produced_qty": produced, "good_qty": produced - scrap - rework, "scrap_qty": scrap,
              "rework_qty": rework}
    history["bronze.mes.production_counts"], new["bronze.mes.production_counts"] = split(
        "bronze.mes.production_counts", counts, np.tile(slice_start[slice_kept] >= cut_s, len(count_parts)), "counts")

    sensor_tables = ([], [])
    reading_at = pa.array(sensor_times * 1_000_000, pa.timestamp("us", tz="UTC"))
    for partition, (asset, values) in enumerate(sensor_parts):
        for tag in SENSOR_TAGS:
            n = len(sensor_times)
            table = pa.table({
                "plant_id": pa.array([plant_id] * n, pa.string()),
                "asset_local_id": pa.array([asset] * n, pa.string()),
                "tag": pa.array([tag] * n, pa.string()),
                "reading_at": reading_at,
                "value": pa.array(values[tag], pa.float64()),
                "unit": pa.array([SENSOR_UNITS[tag]] * n, pa.string()),
                "kafka_topic": pa.array(["northstar.sensor.readings"] * n, pa.string()),
                "kafka_partition": pa.array(np.full(n, partition % 4, np.int32)),
                "kafka_offset": pa.array(np.arange(n, dtype=np.int64) + partition * 10_000_000),
                "ingested_at": pa.array(np.full(n, np.datetime64(ingested_history.replace(tzinfo=None), "us")),
                                        pa.timestamp("us", tz="UTC")),
            }).cast(get_contract("bronze.sensor.readings").arrow_schema())
            is_new = sensor_times >= cut_s
            sensor_tables[0].append(table.filter(pa.array(~is_new)))
            sensor_tables[1].append(table.filter(pa.array(is_new)))
    history["bronze.sensor.readings"] = pa.concat_tables(sensor_tables[0])
    new["bronze.sensor.readings"] = pa.concat_tables(sensor_tables[1])
    return PlantData(plant_id, history, new)


def write_bronze(data_root: Path, new_day_root: Path, scale_name: str) -> dict[str, int]:
    """Write the bench plants' history under `data_root` and the new day's rows under `new_day_root` (same layout),
    plant by plant to bound memory. Returns the history's rows per contract."""
    scale = SCALES[scale_name]
    rows: dict[str, int] = {}
    for plant_id in PLANTS:
        plant = generate_plant(plant_id, scale)
        for root, tables in ((data_root, plant.tables), (new_day_root, plant.new_day_tables)):
            for contract_id, table in tables.items():
                contract = get_contract(contract_id)
                write_deltalake(root / contract.path, table, mode="append",
                                partition_by=contract.partition_by or None, writer_properties=WRITER)
                if root is data_root:
                    rows[contract_id] = rows.get(contract_id, 0) + table.num_rows
        del plant
    # every other bronze contract as an empty table, so that the whole project's sources resolve
    for contract in load_contracts().values():
        if contract.layer == "bronze" and not (data_root / contract.path).exists():
            write_deltalake(data_root / contract.path, pa.Table.from_pylist([], schema=contract.arrow_schema()),
                            partition_by=contract.partition_by or None)
    return rows


def append_new_day(data_root: Path, new_day_root: Path) -> int:
    """Append the new day's bronze rows (as the next day's ingestion would). Returns the rows appended."""
    appended = 0
    for contract in load_contracts().values():
        source = new_day_root / contract.path
        if contract.layer != "bronze" or not source.exists():
            continue
        table = DeltaTable(source).to_pyarrow_table()
        write_deltalake(data_root / contract.path, table, mode="append", partition_by=contract.partition_by or None,
                        writer_properties=WRITER)
        appended += table.num_rows
    return appended


# --- the limit: one hand-written DuckDB query ------------------------------------------------------------------------

# OEE per asset and shift straight from bronze and the catalog's lookups, written as one query by someone who knows
# DuckDB: the same tricks as the dbt models (hourly UTC offsets instead of a per-row time-zone lookup, shifts looked
# up by production day, integer instants), and none of the rest of the KPI library.
HANDWRITTEN_OEE_SQL = """
with
plants as (select plant_id, timezone from read_csv('{seeds}/plants.csv')),
mapping as (
    select plant_id, local_code, iso_element, valid_from,
           coalesce(lead(valid_from) over (partition by plant_id, local_code order by valid_from), date '9999-12-31')
               as valid_until
    from read_csv('{seeds}/machine_state_mappings.csv', types={{'local_code': 'varchar', 'valid_from': 'date'}})
),
units as (select from_unit, factor from read_csv('{seeds}/unit_conversions.csv') where to_unit = 's'),
shifts as (
    select s.plant_id, s.shift_local_code as shift_code, s.shift_date, s.started_at_local, s.ended_at_local,
           epoch_us(timezone(p.timezone, s.started_at_local)) as ss, epoch_us(timezone(p.timezone, s.ended_at_local)) as se
    from delta_scan('{lake}/mes/shift_calendar') s join plants p using (plant_id)
),
reach as (
    select plant_id,
           greatest(max(ended_at_local - cast(shift_date as timestamp)) - interval 1 day, interval 0 second) as r
    from shifts group by plant_id
),
hours as (
    select plant_id, epoch_us(h) // 3600000000 as local_hour, epoch_us(timezone(timezone, h)) - epoch_us(h) as off
    from (select s.plant_id, p.timezone,
                 unnest(generate_series(cast(min(s.shift_date) - 2 as timestamp),
                                        cast(max(s.shift_date) + 3 as timestamp), interval 1 hour)) as h
          from shifts s join plants p using (plant_id) group by s.plant_id, p.timezone)
),
states as (
    select st.plant_id, st.asset_local_id, m.iso_element,
           epoch_us(st.started_at_local) + h1.off as s, epoch_us(st.ended_at_local) + h2.off as e,
           cast(st.started_at_local - reach.r as date) as d0, cast(st.ended_at_local as date) as d1
    from delta_scan('{lake}/mes/machine_states') st
    join reach using (plant_id)
    left join mapping m on st.plant_id = m.plant_id and st.state_local_code = m.local_code
        and cast(st.started_at_local as date) >= m.valid_from and cast(st.started_at_local as date) < m.valid_until
    left join hours h1 on st.plant_id = h1.plant_id and epoch_us(st.started_at_local) // 3600000000 = h1.local_hour
    left join hours h2 on st.plant_id = h2.plant_id and epoch_us(st.ended_at_local) // 3600000000 = h2.local_hour
),
candidates as (
    select *, d0 as d from states
    union all select *, d1 from states where d1 > d0
    union all select *, cast(unnest(generate_series(d0 + 1, d1 - 1, interval 1 day)) as date)
    from states where d1 > d0 + 1
),
elements as (
    select c.plant_id, c.asset_local_id, sh.shift_date, sh.shift_code,
           sum((least(c.e, sh.se) - greatest(c.s, sh.ss)) / 1e6) filter (where c.iso_element = 'APT') as apt_s,
           sum((least(c.e, sh.se) - greatest(c.s, sh.ss)) / 1e6) filter (where c.iso_element = 'PDOT') as pdot_s
    from candidates c join shifts sh on c.plant_id = sh.plant_id and c.d = sh.shift_date
    where c.s < sh.se and c.e > sh.ss
    group by all
),
counts as (
    select pc.plant_id, pc.asset_local_id, coalesce(a.shift_date, b.shift_date) as shift_date,
           coalesce(a.shift_code, b.shift_code) as shift_code,
           sum(pc.produced_qty) as pq, sum(pc.good_qty) as gq,
           sum(mat.ideal_cycle_time * u.factor * pc.produced_qty) as pri_pq_s
    from delta_scan('{lake}/mes/production_counts') pc
    left join shifts a on pc.plant_id = a.plant_id and cast(pc.interval_start_local as date) = a.shift_date
        and pc.interval_start_local >= a.started_at_local and pc.interval_start_local < a.ended_at_local
    left join shifts b on pc.plant_id = b.plant_id and cast(pc.interval_start_local as date) - 1 = b.shift_date
        and pc.interval_start_local >= b.started_at_local and pc.interval_start_local < b.ended_at_local
    left join delta_scan('{lake}/erp/materials') mat
        on pc.plant_id = mat.plant_id and pc.material_local_id = mat.material_local_id
    left join units u on mat.ideal_cycle_time_unit = u.from_unit
    group by all
),
scheduled as (select sh.*, a.asset_local_id from shifts sh join delta_scan('{lake}/mes/assets') a using (plant_id)),
joined as (
    select s.plant_id, s.plant_id || ':' || s.asset_local_id as asset_id, s.shift_date, s.shift_code,
           (s.se - s.ss) / 1e6 - coalesce(e.pdot_s, 0) as pbt_s, coalesce(e.apt_s, 0) as apt_s,
           coalesce(c.pq, 0) as pq, coalesce(c.gq, 0) as gq, coalesce(c.pri_pq_s, 0) as pri_pq_s
    from scheduled s
    left join elements e using (plant_id, asset_local_id, shift_date, shift_code)
    left join counts c using (plant_id, asset_local_id, shift_date, shift_code)
)
select plant_id, asset_id, shift_date, shift_code,
       apt_s / nullif(pbt_s, 0) as availability,
       pri_pq_s / nullif(apt_s, 0) as effectiveness,
       gq / nullif(pq, 0) as quality_ratio,
       case when pbt_s = 0 then null when apt_s = 0 or pq = 0 then 0.0
            else (apt_s / pbt_s) * (pri_pq_s / apt_s) * (gq / pq) end as oee
from joined
"""


def handwritten_oee(data_root: Path) -> tuple[float, pd.DataFrame]:
    """Seconds for the hand-written query (a fresh in-memory DuckDB, result materialized) and its result."""
    sql = HANDWRITTEN_OEE_SQL.format(seeds=DBT_PROJECT_DIR / "seeds" / "catalog", lake=data_root / "lake" / "bronze")
    with duckdb.connect() as connection:
        connection.execute(f"load '{delta_extension_path()}'")
        connection.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        connection.execute(f"create table oee as {sql}")
        seconds = time.perf_counter() - started
        return seconds, connection.execute("select * from oee").df()


# --- the naive peer: a straightforward pandas implementation of the same KPIs ---------------------------------------


def _evaluate_kpi(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]], frame: pd.DataFrame) -> pd.Series:
    """A catalog definition evaluated on summed elements (ratio: num / den, null on 0; product: the zero rule)."""

    def side(spec: dict[str, Any], name: str) -> pd.Series:
        total = sum(frame[column.strip()] for column in str(spec[name]).split("+"))
        return total / spec.get(f"{name}_divisor", 1)

    def ratio(spec: dict[str, Any]) -> pd.Series:
        denominator = side(spec, "denominator")
        return (side(spec, "numerator") / denominator).where(denominator != 0)

    formula = kpi["formula"]
    if formula["kind"] == "ratio":
        return ratio(formula)
    factors = [kpis[f]["formula"] for f in formula["factors"]]
    basis = formula.get("basis", factors[0])
    later = factors if "basis" in formula else factors[1:]
    value = ratio(basis) if "basis" in formula else 1.0
    for factor in factors:
        value = value * ratio(factor)
    empty = pd.concat([side(f, "denominator") == 0 for f in later], axis=1).any(axis=1)
    return value.mask(empty, 0.0).where(side(basis, "denominator") != 0)


def _to_utc(local: pd.Series, plant_ids: pd.Series, timezones: dict[str, str]) -> pd.Series:
    """Naive local wall clock -> UTC, per plant; an hour the clock repeats or skips is read as standard time, as
    DuckDB's timezone() does."""
    result = pd.Series(pd.NaT, index=local.index, dtype="datetime64[us, UTC]")
    for plant_id, tz in timezones.items():
        mask = plant_ids == plant_id
        if mask.any():
            result[mask] = (local[mask].dt.tz_localize(tz, ambiguous=False, nonexistent=pd.Timedelta(hours=1))
                            .dt.tz_convert("UTC"))
    return result


def pandas_kpis(data_root: Path) -> pd.DataFrame:
    """Every KPI of the catalog at every grain, as the dbt project publishes them, computed in pandas."""
    lake = data_root / "lake" / "bronze"
    seeds = DBT_PROJECT_DIR / "seeds" / "catalog"

    def read(table: str, **kwargs: Any) -> pd.DataFrame:
        return DeltaTable(str(lake / table)).to_pandas(**kwargs)

    timezones = dict(pd.read_csv(seeds / "plants.csv")[["plant_id", "timezone"]].itertuples(index=False))
    mapping = pd.read_csv(seeds / "machine_state_mappings.csv", dtype=str, keep_default_na=False)
    mapping["valid_from"] = pd.to_datetime(mapping["valid_from"])
    mapping = mapping.sort_values("valid_from")
    mapping["valid_until"] = mapping.groupby(["plant_id", "local_code"])["valid_from"].shift(-1).fillna(
        pd.Timestamp("2262-01-01"))
    units = pd.read_csv(seeds / "unit_conversions.csv")
    units = dict(units[units["to_unit"] == "s"][["from_unit", "factor"]].itertuples(index=False))

    shifts = read("mes/shift_calendar").rename(columns={"shift_local_code": "shift_code"})
    shifts["shift_date"] = pd.to_datetime(shifts["shift_date"])
    shifts["start"] = _to_utc(shifts["started_at_local"], shifts["plant_id"], timezones)
    shifts["end"] = _to_utc(shifts["ended_at_local"], shifts["plant_id"], timezones)
    reach = (shifts["ended_at_local"] - shifts["shift_date"] - pd.Timedelta(days=1)).groupby(shifts["plant_id"]).max()
    reach = reach.clip(lower=pd.Timedelta(0))
    assets = read("mes/assets")
    assets["asset_id"] = assets["plant_id"] + ":" + assets["asset_local_id"]
    assets["line_id"] = assets["plant_id"] + ":" + assets["line_local_id"]

    # machine states: mapping in force, UTC, clipped to shifts
    states = read("mes/machine_states")
    states = states.merge(mapping, how="left", left_on=["plant_id", "state_local_code"],
                          right_on=["plant_id", "local_code"])
    start_day = states["started_at_local"].dt.normalize()
    states = states[states["valid_from"].isna() | ((start_day >= states["valid_from"]) & (start_day < states["valid_until"]))]
    states["iso_element"] = states["iso_element"].fillna("UNMAPPED")
    states["loss_category"] = states["loss_category"].fillna("unmapped")
    states["start"] = _to_utc(states["started_at_local"], states["plant_id"], timezones)
    states["end"] = _to_utc(states["ended_at_local"], states["plant_id"], timezones)
    first = (states["started_at_local"] - states["plant_id"].map(reach)).dt.normalize()
    days = (states["ended_at_local"].dt.normalize() - first).dt.days + 1
    states = states.loc[states.index.repeat(days)]
    states["shift_date"] = first.loc[states.index] + pd.to_timedelta(states.groupby(level=0).cumcount(), unit="D")
    pairs = states.merge(shifts[["plant_id", "shift_date", "shift_code", "start", "end"]],
                         on=["plant_id", "shift_date"], suffixes=("", "_shift"))
    pairs = pairs[(pairs["start"] < pairs["end_shift"]) & (pairs["end"] > pairs["start_shift"])]
    pairs["seconds"] = (pairs[["end", "end_shift"]].min(axis=1) - pairs[["start", "start_shift"]].max(axis=1)
                        ).dt.total_seconds()
    pairs["starts_in_shift"] = pairs["start"] >= pairs["start_shift"]
    keys = ["plant_id", "asset_local_id", "shift_date", "shift_code"]
    by_element = pairs.pivot_table(index=keys, columns="iso_element", values="seconds", aggfunc="sum", fill_value=0)
    by_loss = pairs.pivot_table(index=keys, columns="loss_category", values="seconds", aggfunc="sum", fill_value=0)
    time_elements = pd.DataFrame(index=by_element.index)
    for element in ("PDOT", "APT", "AUST", "ADET", "ADOT", "UNMAPPED"):
        time_elements[f"{element.lower()}_s"] = by_element.get(element, 0.0)
    time_elements["covered_s"] = by_element.drop(columns=["UNMAPPED"], errors="ignore").sum(axis=1)
    time_elements["cmt_s"] = by_loss.get("breakdown", 0.0)
    time_elements["pmt_s"] = by_loss.get("planned_maintenance", 0.0)
    breakdowns = pairs[(pairs["loss_category"] == "breakdown") & pairs["starts_in_shift"]]
    time_elements["failure_events"] = breakdowns.groupby(keys).size().reindex(time_elements.index, fill_value=0)

    # production counts: the shift containing the interval's start, ideal times in seconds
    counts = read("mes/production_counts")
    materials = read("erp/materials")
    materials["cycle_s"] = materials["ideal_cycle_time"] * materials["ideal_cycle_time_unit"].map(units)
    counts = counts.merge(materials[["plant_id", "material_local_id", "cycle_s"]], how="left",
                          on=["plant_id", "material_local_id"])
    counts = pd.merge_asof(counts.sort_values("interval_start_local"),
                           shifts[["plant_id", "shift_date", "shift_code", "started_at_local", "ended_at_local"]]
                           .sort_values("started_at_local"),
                           left_on="interval_start_local", right_on="started_at_local", by="plant_id")
    counts = counts[counts["interval_start_local"] < counts["ended_at_local"]]
    counts["aoet_s"] = (_to_utc(counts["interval_end_local"], counts["plant_id"], timezones)
                        - _to_utc(counts["interval_start_local"], counts["plant_id"], timezones)).dt.total_seconds()
    for quantity, column in (("pq", "produced_qty"), ("gq", "good_qty"), ("sq", "scrap_qty"), ("rq", "rework_qty")):
        counts[f"pri_{quantity}_s"] = counts["cycle_s"] * counts[column]
    # standard cost per piece in force on the production day
    costs = read("erp/standard_costs").sort_values("valid_from")
    costs["valid_from"] = pd.to_datetime(costs["valid_from"])
    costs["cost_per_piece"] = costs["standard_cost"] / costs["price_unit"]
    counts["shift_date"] = pd.to_datetime(counts["shift_date"])
    counts = pd.merge_asof(counts.sort_values("shift_date"), costs[["plant_id", "material_local_id", "valid_from",
                                                                     "cost_per_piece"]],
                           left_on="shift_date", right_on="valid_from", by=["plant_id", "material_local_id"])
    counts["produced_cost"] = counts["cost_per_piece"] * counts["produced_qty"]
    counts["costed_gq"] = counts["good_qty"].where(counts["cost_per_piece"].notna(), 0)
    quantities = counts.groupby(keys).agg(
        pq=("produced_qty", "sum"), gq=("good_qty", "sum"), sq=("scrap_qty", "sum"), rq=("rework_qty", "sum"),
        pri_pq_s=("pri_pq_s", "sum"), pri_gq_s=("pri_gq_s", "sum"), pri_sq_s=("pri_sq_s", "sum"),
        pri_rq_s=("pri_rq_s", "sum"), aoet_s=("aoet_s", "sum"), produced_cost=("produced_cost", "sum"),
        costed_gq=("costed_gq", "sum"))

    # every asset in every shift
    asset_shifts = shifts.merge(assets, on="plant_id").set_index(keys)
    elements = asset_shifts.join(time_elements).join(quantities)
    elements = elements.fillna({c: 0 for c in [*time_elements.columns, *quantities.columns]})
    elements["pot_s"] = (elements["end"] - elements["start"]).dt.total_seconds()
    elements["pbt_s"] = elements["pot_s"] - elements["pdot_s"]
    elements["aupt_s"] = elements["apt_s"] + elements["aust_s"]
    elements["aubt_s"] = elements["aupt_s"] + elements["adet_s"]
    elements["gp"], elements["ip"] = elements["gq"], elements["pq"]

    # energy: the meter at each shift boundary (last reading at most the gap before it; both from the catalog)
    meter_spec = energy_meter()
    gap = pd.Timedelta(seconds=meter_spec.max_gap_s)
    meter = read("sensor/readings", filters=[("tag", "=", meter_spec.tag)])[
        ["plant_id", "asset_local_id", "reading_at", "value"]].sort_values("reading_at")
    energy = {}
    for boundary in ("start", "end"):
        points = elements.reset_index()[[*keys, boundary]].sort_values(boundary)
        points[boundary] = points[boundary].astype(meter["reading_at"].dtype)
        found = pd.merge_asof(points, meter, left_on=boundary, right_on="reading_at",
                              by=["plant_id", "asset_local_id"], tolerance=gap)
        energy[boundary] = found.set_index(keys)["value"]
    delta = energy["end"] - energy["start"]
    metered = (delta >= 0).reindex(elements.index, fill_value=False)
    elements["energy_kwh"] = delta.where(delta >= 0).reindex(elements.index).fillna(0.0)
    elements["metered_gq"] = elements["gq"].where(metered, 0)
    elements["metered_pot_s"] = elements["pot_s"].where(metered, 0.0)

    # rollups (ratios of sums) and the KPIs of the catalog summed from asset-shifts, at every grain they publish (the
    # SQDCP KPIs are summed from plant-day facts the bench data does not have)
    kpis = {k: d for k, d in load_kpi_definitions().items() if d.get("basis", "asset_shift") == "asset_shift"}
    columns = sorted({c.strip() for k in kpis.values() for c in _kpi_columns(k, load_kpi_definitions())}
                     | {"pot_s", "covered_s", "metered_pot_s"})
    frame = elements.reset_index()
    frame["week_start"] = frame["shift_date"] - pd.to_timedelta(frame["shift_date"].dt.weekday, unit="D")
    frame["month_start"] = frame["shift_date"].dt.to_period("M").dt.to_timestamp()
    frame["enterprise_id"] = "all"
    results = []
    for entity_level, entity_keys in (("asset", ["plant_id", "line_id", "asset_id"]), ("line", ["plant_id", "line_id"]),
                                      ("plant", ["plant_id"]), ("enterprise", ["enterprise_id"])):
        for period_level, period_keys in (("shift", ["shift_date", "shift_code"]), ("day", ["shift_date"]),
                                          ("week", ["week_start"]), ("month", ["month_start"])):
            if entity_level == "enterprise" and period_level == "shift":
                continue
            sums = frame.groupby(entity_keys + period_keys, as_index=False)[columns].sum()
            sums = sums.rename(columns={period_keys[0]: "period_start"})
            for kpi_id, kpi in kpis.items():
                if entity_level not in kpi.get("levels", [entity_level]) or period_level not in kpi.get(
                    "periods", [period_level]
                ):
                    continue
                result = sums[[c for c in ("plant_id", "line_id", "asset_id", "shift_code", "period_start")
                               if c in sums]].copy()
                result["kpi_id"], result["grain"] = kpi_id, f"{entity_level}_{period_level}"
                result["value"] = _evaluate_kpi(kpi, kpis, sums)
                results.append(result)
    return pd.concat(results, ignore_index=True)


def _kpi_columns(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> list[str]:
    formula = kpi["formula"]
    specs = [formula] if formula["kind"] == "ratio" else [formula.get("basis", {})] + [
        kpis[f]["formula"] for f in formula["factors"]]
    return [c for spec in specs for side in ("numerator", "denominator") if side in spec
            for c in str(spec[side]).split("+")]


# --- measuring ------------------------------------------------------------------------------------------------------


def run_dbt(data_root: Path, *args: str) -> tuple[float, int]:
    """Run the dbt CLI against `data_root` (as orchestration does: a subprocess). Returns (seconds, peak RSS bytes).

    dbt starts from a small shell, not from this (pandas-sized) process: a forked child's peak RSS counts the parent's
    pages until it execs, so measured directly it would report this process's size. The peak is dbt's own resource
    report (its log)."""
    work = data_root / "dbt"
    command = [str(Path(sys.executable).with_name("dbt")), *args, "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work / "target"),
               "--log-path", str(work / "logs")]
    started = time.perf_counter()
    process = subprocess.Popen(["/bin/sh", "-c", '"$@"; status=$?; exit $status', "sh", *command],
                               env={**os.environ, **dbt_env(data_root)}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{output[-6000:]}")
    reports = re.findall(r'"process_mem_max_rss": "(\d+)"', (work / "logs" / "dbt.log").read_text())
    return seconds, int(reports[-1]) * 1024  # KiB on Linux


# every published KPI mart and its parents (dbt_project/selectors.yml)
KPI_SELECTION = ["--selector", "kpi_library"]


def _dbt_vars(day: dt.date) -> list[str]:
    return ["--vars", json.dumps({"min_date": day.isoformat(), "max_date": day.isoformat()})]


def _assert_same_oee(warehouse: Path, handwritten: pd.DataFrame) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        published = connection.execute(
            "select asset_id, shift_date, shift_code, availability, effectiveness, quality_ratio, oee "
            "from main_marts.oee_asset_shift").df()
    merged = published.merge(handwritten, on=["asset_id", "shift_date", "shift_code"], suffixes=("", "_hand"))
    if len(merged) != len(published) or len(published) != len(handwritten):
        raise AssertionError(f"row counts differ: dbt {len(published)}, hand-written {len(handwritten)}")
    for kpi in ("availability", "effectiveness", "quality_ratio", "oee"):
        a, b = merged[kpi].to_numpy(dtype=float), merged[f"{kpi}_hand"].to_numpy(dtype=float)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True):
            raise AssertionError(f"{kpi}: dbt and the hand-written query differ")
    return len(merged)


def _assert_same_kpis(warehouse: Path, naive: pd.DataFrame) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        published = connection.execute(
            "select kpi_id, grain, plant_id, line_id, asset_id, shift_code, period_start, value "
            "from main_marts.kpi_values where kpi_id in (select unnest(?))", [sorted(naive["kpi_id"].unique())]).df()
    keys = ["kpi_id", "grain", "plant_id", "line_id", "asset_id", "shift_code", "period_start"]
    naive = naive.copy()
    naive["period_start"] = pd.to_datetime(naive["period_start"]).dt.date
    published["period_start"] = pd.to_datetime(published["period_start"]).dt.date
    for frame in (naive, published):
        for column in ("plant_id", "line_id", "asset_id", "shift_code"):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    merged = published.merge(naive, on=keys, how="outer", suffixes=("", "_pandas"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    if len(unmatched):
        raise AssertionError(f"{len(unmatched)} KPI rows only on one side, e.g.\n{unmatched.head()}")
    a, b = merged["value"].to_numpy(dtype=float), merged["value_pandas"].to_numpy(dtype=float)
    if not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True):
        bad = merged[~np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)]
        raise AssertionError(f"{len(bad)} KPI values differ between dbt and pandas, e.g.\n{bad.head()}")
    return len(merged)


def _prepare(scale: str) -> tuple[Path, Path, dict[str, int]]:
    """The scale's bronze tables, generated once and reused while this module's generator and the bronze contracts are
    unchanged."""
    root = Path(os.environ.get("NORTHSTAR_BENCH_DIR", DBT_PROJECT_DIR.parent / "data" / "bench")) / f"kpi_{scale}"
    stamp = root / "generated.json"
    # regenerated when the generator changes (not when the measuring code does)
    generator = [generate_plant, write_bronze, _shift_windows, _repeated_hours, _running_before, _table, _lineage]
    schemas = [str(c.arrow_schema()) for c in load_contracts().values() if c.layer == "bronze"]  # and the contracts
    source = "".join(inspect.getsource(f) for f in generator) + repr((PLANTS, START_DATE, STOPS, SCALES[scale], schemas))
    version = hashlib.sha256(source.encode()).hexdigest()[:16]
    if stamp.exists() and json.loads(stamp.read_text()).get("version") == version:
        return root / "history", root / "new_day", json.loads(stamp.read_text())["rows"]
    shutil.rmtree(root, ignore_errors=True)
    rows = write_bronze(root / "history", root / "new_day", scale)
    stamp.write_text(json.dumps({"version": version, "rows": rows}))
    return root / "history", root / "new_day", rows


def _fresh_copy(source: Path, target: Path) -> Path:
    """A data root with the source's bronze lake (hard links: no copy) and no warehouse."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source / "lake", target / "lake", copy_function=os.link)
    return target


def run(report: dict[str, Any], scale: str) -> None:
    """Measure the KPI library's build at `scale` (small | full) and append the measurements to the report."""
    from bench.report import Measurement, add

    history, new_day, rows = _prepare(scale)
    days = production_days(SCALES[scale])
    shape = (f"{len(PLANTS)} plants x {SCALES[scale].assets_per_plant} assets, {SCALES[scale].days} days; "
             f"{rows['bronze.mes.machine_states']:,} machine states, {rows['bronze.mes.production_counts']:,} count "
             f"intervals, {rows['bronze.sensor.readings']:,} sensor readings (the first {SCALES[scale].sensor_days} days "
             f"and the day before the new day, 1/min); synthetic bronze written by bench/kpi_build.py until the simulator's bench network is wired in")
    print(f"  kpi_build data: {shape}", flush=True)
    work = _fresh_copy(history, history.parent / "work_full")

    # the full build: seeds once (not timed: the catalog lookups), then every KPI model from bronze
    run_dbt(work, "seed")
    full_seconds, peak_rss = run_dbt(work, "run", *KPI_SELECTION)
    with open(work / "dbt" / "target" / "run_results.json") as f:
        in_dbt_seconds = json.load(f)["elapsed_time"]
    hand_seconds, hand_result = handwritten_oee(work)
    checked_oee = _assert_same_oee(work / "warehouse.duckdb", hand_result)
    started = time.perf_counter()
    naive = pandas_kpis(work)
    pandas_seconds = time.perf_counter() - started
    checked_kpis = _assert_same_kpis(work / "warehouse.duckdb", naive)
    met = full_seconds <= 2 * hand_seconds and pandas_seconds >= 20 * full_seconds
    add(report, Measurement(
        name=f"kpi_build_full_{scale}", value=full_seconds, unit="s",
        limit=hand_seconds, limit_name="one hand-written DuckDB query (OEE per asset-shift from bronze)",
        naive=pandas_seconds, naive_name="pandas, same KPIs at every grain",
        target="<= 2x limit and >= 20x faster than pandas", met=met,
        notes=(f"dbt run --selector kpi_library: every published KPI mart and its parents (CLI wall time incl. "
               f"~{full_seconds - in_dbt_seconds:.1f}s of dbt start-up and parsing; {in_dbt_seconds:.1f}s inside dbt). "
               f"Outputs asserted equal first: {checked_oee:,} asset-shift OEE rows vs the hand-written query, "
               f"{checked_kpis:,} KPI values vs pandas. {shape}"),
    ))
    add(report, Measurement(
        name=f"kpi_build_peak_memory_{scale}", value=peak_rss / 2**30, unit="GiB", target="< 4 GiB",
        met=peak_rss < 4 * 2**30, notes="peak RSS of the dbt process of the full build",
    ))

    # incremental: one more day on top of the year (same warehouse), against the first day on an empty one
    appended = append_new_day(work, new_day)
    next_seconds, _ = run_dbt(work, "run", *KPI_SELECTION, *_dbt_vars(days[-1]))
    first = _fresh_copy(work, history.parent / "work_first_day")
    run_dbt(first, "seed")
    first_seconds, _ = run_dbt(first, "run", *KPI_SELECTION, *_dbt_vars(days[0]))
    add(report, Measurement(
        name=f"kpi_incremental_next_day_{scale}", value=next_seconds, unit="s",
        limit=first_seconds, limit_name="the first day on an empty warehouse",
        target="<= 1.2x the first day", met=next_seconds <= 1.2 * first_seconds,
        notes=(f"dbt run with vars min_date = max_date = {days[-1]} after {SCALES[scale].days} days of history "
               f"({appended:,} new bronze rows appended); first day: {days[0]}"),
    ))
