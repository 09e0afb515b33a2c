"""The public MES sample as plants AZ-PLANT1 and AZ-PLANT2, with its vendor OEE as their local OEE report.

`azure_iiot_mes_sample` (Azure-Samples/industrial-iot-patterns) holds plants, lines (its "assets"), shifts, planned
shift downtime, products with ideal rates and work-order quality counts, plus `oee_pbix_cached_OEE_table.csv`: the
OEE its engine computed per work order and day (12 rows: 4 lines x 3 days). The downtime minutes came from telemetry
that is not in the sample, so the OEE table is the only source of them.

The adapter turns each OEE row into what a plant's MES would have sent (extracts in the AZ dialect,
catalog/plants/AZ-PLANT*.yaml), through the simulator's own model, writer and ground truth:
- shift calendar: the three shifts of each OEE date for each plant; every line is scheduled in every shift, and a
  shift in which a line ran no work order is one "NotScheduled" state (planned down: no KPI for it);
- machine states of a worked shift, in this order (only the sums matter to ISO 22400): uptime, the planned
  downtime reasons of the work order's shift, the telemetry downtime, uptime;
- production counts: one interval per worked shift (QuantityIn produced, QuantityOut good, QuantityScraped scrap);
- materials: the ideal rate (units per minute) as an ideal cycle time in seconds (60 / rate: 60, 30, 20 s, exact);
- local OEE report: the engine's own figures from the OEE table ("%Availability" etc., which hold ratios).

Quirks, counted in the quirk report: shift ends written 07:59:59 (read as an exclusive 08:00:00), work orders whose
ShiftId names a shift of the other plant (resolved by shift name within the line's plant; the planned downtime the
engine used, that of the referenced shift, is kept), work orders without an OEE row (not landed: their downtime is
unknown), work-order quantities repeated on every OEE date, a fixed UTC offset instead of a time zone.

Truth: asset-shift rows for both plants (as for simulated plants) and `public_mes_reconciliation.parquet`: per OEE
row the vendor's figures, the vendor formula recomputed from the landed elements, the ISO 22400 figures and the gap.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

from catalog.plants import ExtractDialect
from ingestion.simulator.config import PlantConfig
from ingestion.simulator.extracts import TABLES, TableRows, plant_tables, write_extract
from ingestion.simulator.ground_truth import asset_shift_rows_of_plant
from ingestion.simulator.landing import ExtractFile, LandingWriter
from ingestion.simulator.local_oee import LocalFigures
from ingestion.simulator.model import (
    Asset,
    Material,
    ProductionInterval,
    ShiftWindow,
    SimulatedAsset,
    SimulatedPlant,
    StateEvent,
)
from ingestion.simulator.profiles import Mappings, PlantProfile, resolve_state_codes
from ingestion.simulator.shifts import local_to_epoch

from .quirks import QuirkReport

DATASET = "mes_sample"
PLANT_IDS = {"1": "AZ-PLANT1", "2": "AZ-PLANT2"}
SHIFT_MINUTES = 480
RECONCILIATION_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_id", pa.string()),
        ("shift_code", pa.string()),
        ("shift_date", pa.date32()),
        ("work_order", pa.string()),
        ("vendor_availability", pa.float64()),
        ("vendor_performance", pa.float64()),
        ("vendor_quality", pa.float64()),
        ("vendor_oee", pa.float64()),
        ("vendor_oee_recomputed", pa.float64()),  # the engine's formula over the landed elements
        ("availability", pa.float64()),  # ISO 22400, from the same landed elements
        ("effectiveness", pa.float64()),
        ("quality_ratio", pa.float64()),
        ("oee", pa.float64()),
        ("oee_gap", pa.float64()),  # vendor_oee - oee
        ("changeover_min", pa.float64()),  # planned downtime for the engine, setup (AUST) for ISO 22400
    ]
)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def prepare(
    dataset_dir: Path,
    profiles: dict[str, PlantProfile],
    mappings: Mappings,
    landing: LandingWriter,
    quirks: QuirkReport,
) -> tuple[list[ExtractFile], list[dict], list[dict], pa.Table, dict[str, tuple[str, ...]]]:
    """Write both plants' extracts; return them, the asset-shift truth, the local OEE truth, the reconciliation
    and the assets per plant."""
    tables = dataset_dir / "mes_tables_csv"
    lines = {row["Id"]: row for row in _read(tables / "Assets.csv")}
    shifts = {row["Id"]: row for row in _read(tables / "Shifts.csv")}
    products = {row["ProductName"]: row for row in _read(tables / "Products.csv")}
    work_orders = {row["WorkOrder"]: row for row in _read(tables / "ProductQuality.csv")}
    planned: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in _read(tables / "ShiftPlannedDownTime.csv"):
        planned[row["ShiftId"]].append((row["PlannedDownTimeReason"], int(row["PlannedDownTimeInMinutes"])))
    oee_rows = _read(dataset_dir / "oee_pbix_cached_OEE_table.csv")

    inclusive_ends = [s for s in shifts.values() if s["ShiftEndTime"].endswith(":59:59")]
    quirks.add(DATASET, "shift_end_inclusive", len(inclusive_ends),
               "ShiftEndTime hh:59:59 read as the exclusive end hh+1:00:00 (8-hour shifts, as the engine assumed)",
               [f"{s['ShiftName']} {s['ShiftStartTime']}-{s['ShiftEndTime']}" for s in inclusive_ends])
    cross = [wo for wo in work_orders.values()
             if shifts[wo["ShiftId"]]["PlantId"] != lines[wo["AssetId"]]["PlantId"]]
    quirks.add(DATASET, "work_order_shift_of_other_plant", len(cross),
               "shift resolved by name within the line's own plant; the planned downtime of the referenced shift "
               "(what the engine used) is kept",
               [f"{wo['WorkOrder']}: {lines[wo['AssetId']]['AssetName']} (plant {lines[wo['AssetId']]['PlantId']}) "
                f"-> ShiftId {wo['ShiftId']} (plant {shifts[wo['ShiftId']]['PlantId']})" for wo in cross])
    in_table = {row["WorkOrder"] for row in oee_rows}
    missing = sorted(set(work_orders) - in_table)
    quirks.add(DATASET, "work_order_without_oee_row", len(missing),
               "not landed: its downtime minutes exist only in the OEE table", missing)
    repeated = sum(1 for wo in in_table if sum(r["WorkOrder"] == wo for r in oee_rows) > 1)
    quirks.add(DATASET, "work_order_repeated_per_day", repeated,
               "each OEE row (work order x date) is landed as that date's production, quantities as reported",
               sorted(wo for wo in in_table if sum(r["WorkOrder"] == wo for r in oee_rows) > 1))
    quirks.add(DATASET, "fixed_utc_offset", 2, "UtcOffsetInHours -7 / -5 mapped to IANA Etc/GMT+7 / Etc/GMT+5",
               ["Plant-1: -7", "Plant-2: -5"])

    dates = sorted({dt.date.fromisoformat(row["OEEDate"]) for row in oee_rows})
    extracts: list[ExtractFile] = []
    truth_rows: list[dict] = []
    local_truth: list[dict] = []
    reconciliation: list[dict] = []
    assets_by_plant: dict[str, tuple[str, ...]] = {}
    for source_plant, plant_id in PLANT_IDS.items():
        profile = profiles[plant_id]
        plant_lines = sorted((row for row in lines.values() if row["PlantId"] == source_plant), key=lambda r: r["Id"])
        plant, local_report, recon = _plant(profile, mappings, plant_lines, shifts, planned, products, work_orders,
                                            [r for r in oee_rows if r["AssetName"] in {x["AssetName"] for x in plant_lines}],
                                            dates)
        rows = list(asset_shift_rows_of_plant(plant))
        truth_rows.extend(rows)
        iso = {(r["asset_id"], r["shift_code"], r["shift_date"]): r for r in rows}
        for entry in recon:
            row = iso[(entry["asset_id"], entry["shift_code"], entry["shift_date"])]
            entry.update({k: row[k] for k in ("availability", "effectiveness", "quality_ratio", "oee")})
            entry["oee_gap"] = entry["vendor_oee"] - row["oee"]
            reconciliation.append(entry)
            local_truth.append({
                "plant_id": plant_id, "asset_id": entry["asset_id"], "shift_code": entry["shift_code"],
                "shift_date": entry["shift_date"], "formula": "azure_sample_engine", "unit": "ratio",
                "availability": entry["vendor_availability"], "performance": entry["vendor_performance"],
                "quality": entry["vendor_quality"], "oee": entry["vendor_oee"],
                "oee_ratio_exact": entry["vendor_oee"], "enterprise_oee": row["oee"],
            })
        extracts.extend(_write_extracts(plant, local_report, dates[0].isoformat(), landing))
        assets_by_plant[plant_id] = tuple(a.asset.asset_local_id for a in plant.assets)
    impossible = [r for r in reconciliation if r["effectiveness"] is not None and r["effectiveness"] > 1]
    quirks.add(DATASET, "effectiveness_above_one", len(impossible),
               "landed as reported and flagged, not capped (catalog/kpis/effectiveness.yaml): the produced quantity "
               "needs more run time at the ideal rate than the shift leaves after planned downtime and downtime",
               [f"{r['asset_id']} {r['shift_code']} {r['shift_date']}: {r['effectiveness']:.3f}" for r in impossible])
    return extracts, truth_rows, local_truth, pa.Table.from_pylist(reconciliation, schema=RECONCILIATION_SCHEMA), assets_by_plant


def _write_extracts(
    plant: SimulatedPlant, local_report: dict, stamp: str, landing: LandingWriter
) -> list[ExtractFile]:
    """The plant's tables that its profile defines, through the simulator's writer."""
    tables = plant_tables(plant, local_report)
    written = []
    for source, table in TABLES:
        if not plant.profile.has_table(source, table):
            continue
        dialect = plant.profile.dialect(source, table)
        rows = tables[(source, table)]

        def render(path: Path, rows: TableRows = rows, dialect: ExtractDialect = dialect) -> int:
            return write_extract(path, rows.rows(), dialect)

        written.append(landing.write(plant.plant_id, source, table, dialect.file_glob.replace("*", stamp, 1), render))
    return written


def _plant(
    profile: PlantProfile,
    mappings: Mappings,
    plant_lines: list[dict[str, str]],
    shifts: dict[str, dict[str, str]],
    planned: dict[str, list[tuple[str, int]]],
    products: dict[str, dict[str, str]],
    work_orders: dict[str, dict[str, str]],
    oee_rows: list[dict[str, str]],
    dates: list[dt.date],
) -> tuple[SimulatedPlant, dict[tuple[str, str, dt.date], LocalFigures], list[dict]]:
    tz = profile.tz
    windows = []
    for day in dates:
        for definition in profile.shifts:
            start, end = definition.window_local(day)
            windows.append(ShiftWindow(definition.code, day, local_to_epoch(start, tz), local_to_epoch(end, tz)))
    windows.sort(key=lambda w: w.start)
    state_mappings = resolve_state_codes(mappings.machine_states, profile.plant_id, dates[0], dates[-1])
    state_of = {m.local_code: m.enterprise_state for m in state_mappings}
    materials = {
        name: Material(name, f"{name} (ideal {row['IdealProductionUnitsPerMinute']}/min)",
                       60 / float(row["IdealProductionUnitsPerMinute"]), "s")
        for name, row in sorted(products.items())
    }
    by_slot = {(row["AssetName"], row["ShiftName"], dt.date.fromisoformat(row["OEEDate"])): row for row in oee_rows}
    plant = SimulatedPlant(
        profile=profile,
        config=PlantConfig(profile.plant_id, (len(plant_lines),)),
        shifts=windows,
        materials=list(materials.values()),
        state_mappings=state_mappings,
    )
    local_report: dict[tuple[str, str, dt.date], LocalFigures] = {}
    reconciliation = []
    for line in plant_lines:
        name = line["AssetName"]
        events: list[StateEvent] = []
        intervals: list[ProductionInterval] = []
        for window in windows:
            row = by_slot.get((name, window.shift_code, window.shift_date))
            if row is None:
                events.append(StateEvent(window.start, window.end, state_of["NotScheduled"], "NotScheduled"))
                continue
            work_order = work_orders[row["WorkOrder"]]
            reasons = planned[work_order["ShiftId"]]  # the referenced shift's planned downtime, as the engine used
            downtime = round(float(row["DowntimeMinutes"]))
            run = SHIFT_MINUTES - sum(minutes for _, minutes in reasons) - downtime
            pieces = [("Uptime", run // 2), *reasons, ("Downtime", downtime), ("Uptime", run - run // 2)]
            t = window.start
            for code, minutes in pieces:
                if minutes > 0:
                    events.append(StateEvent(t, t + minutes * 60, state_of[code], code))
                    t += minutes * 60
            material = materials[row["ProductName"]]
            intervals.append(ProductionInterval(
                window.start, window.end, row["WorkOrder"], material, int(float(row["TotalUnits"])),
                int(float(row["GoodUnits"])), int(float(row["ScrapedUnits"])), 0,
            ))
            local_report[(name, window.shift_code, window.shift_date)] = LocalFigures(
                float(row["%Availability"]), float(row["%Performance"]), float(row["%Quality"]), float(row["%OEE"])
            )
            vendor_planned = SHIFT_MINUTES - sum(minutes for _, minutes in reasons)
            recomputed = (
                (vendor_planned - downtime) / vendor_planned
                * (int(float(row["TotalUnits"])) * material.ideal_cycle_time_s / 60 / vendor_planned)
                * (int(float(row["GoodUnits"])) / int(float(row["TotalUnits"])))
            )
            reconciliation.append({
                "plant_id": profile.plant_id, "asset_id": f"{profile.plant_id}:{name}",
                "shift_code": window.shift_code, "shift_date": window.shift_date, "work_order": row["WorkOrder"],
                "vendor_availability": float(row["%Availability"]), "vendor_performance": float(row["%Performance"]),
                "vendor_quality": float(row["%Quality"]), "vendor_oee": float(row["%OEE"]),
                "vendor_oee_recomputed": recomputed,
                "changeover_min": float(sum(m for reason, m in reasons if reason == "Changeover")),
            })
        plant.assets.append(SimulatedAsset(Asset(profile.plant_id, name, name, f"{name} (sample line)"), events, [], intervals))
    return plant, local_report, reconciliation
