"""Ground truth: what really happened, for the tests to compare the published numbers against.

- `asset_shift`: per asset and shift, every ISO 22400-2 element the simulation knows and every KPI computable from
  them. Time elements come from the UTC state timeline clipped to the shift window; quantities from the production
  intervals that start in the shift. KPI rules are those of docs/design.md (`catalog/kpis/*.yaml`): a ratio with a
  zero denominator is null, except OEE (0 when PBT > 0 but nothing ran or came out).
- `local_oee`: per asset and shift, the plant's own figures exactly as its local report writes them, beside the
  enterprise OEE (for the reconciliation).
- `plant_day`: the SQDCP facts per plant and local day (safety, quality, delivery, cost, people); see `plant_day_rows`.
- `asset_shift_energy`: per asset and shift, the energy and energy per good unit of catalog/kpis/energy_per_good_unit
  (the meter's advance over the shift where both boundary readings are recent); see `asset_shift_energy_rows`.

The truth describes the real world, not the extracts: injected faults (faults.py) change what is written or
published, never the truth; the fault ledger says where the two differ.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .local_oee import local_figures, reported
from .model import ShiftWindow, SimulatedAsset, SimulatedPlant
from .profiles import LocalOeeFormula
from .shifts import epoch_to_local

TIME_ELEMENTS = ("APT", "AUST", "ADET", "ADOT", "PDOT")

ASSET_SHIFT_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_id", pa.string()),
        ("line_id", pa.string()),
        ("shift_code", pa.string()),
        ("shift_date", pa.date32()),
        ("shift_started_at", pa.timestamp("us", tz="UTC")),
        ("shift_ended_at", pa.timestamp("us", tz="UTC")),
        ("pot_s", pa.float64()),
        ("pdot_s", pa.float64()),
        ("pbt_s", pa.float64()),
        ("apt_s", pa.float64()),
        ("aust_s", pa.float64()),
        ("adet_s", pa.float64()),
        ("adot_s", pa.float64()),
        ("pq", pa.int64()),
        ("gq", pa.int64()),
        ("sq", pa.int64()),
        ("rq", pa.int64()),
        ("pri_pq_s", pa.float64()),
        ("availability", pa.float64()),
        ("effectiveness", pa.float64()),
        ("quality_ratio", pa.float64()),
        ("oee", pa.float64()),
        # Further elements (ISO 22400-2) and the loss split of the six big losses.
        ("aupt_s", pa.float64()),  # APT + AUST
        ("aubt_s", pa.float64()),  # AUPT + ADET
        ("breakdown_s", pa.float64()),  # ADET from breakdowns
        ("minor_stop_s", pa.float64()),  # ADET from minor stops
        ("failure_events", pa.int64()),  # FE: breakdowns that start in the shift
        ("pmt_s", pa.float64()),  # PMT: planned maintenance (CMT, the corrective maintenance time, is breakdown_s)
        ("pri_gq_s", pa.float64()),  # ideal time of the good quantity (OEE time)
        ("pri_sq_s", pa.float64()),
        ("pri_rq_s", pa.float64()),
        # Further KPIs (ISO 22400-2)
        ("nee", pa.float64()),  # AUPT / PBT x effectiveness x quality ratio
        ("allocation_efficiency", pa.float64()),  # AUBT / PBT
        ("utilization_efficiency", pa.float64()),  # APT / AUBT
        ("technical_efficiency", pa.float64()),  # APT / (APT + ADET)
        ("setup_rate", pa.float64()),  # AUST / AUPT
        ("scrap_ratio", pa.float64()),  # SQ / PQ
        ("rework_ratio", pa.float64()),  # RQ / PQ
        ("first_pass_yield", pa.float64()),  # GP / IP = GQ / PQ: every part is inspected, rework is not good
        ("corrective_maintenance_ratio", pa.float64()),  # CMT / (CMT + PMT)
        ("mtbf", pa.float64()),  # APT / FE, hours
        ("mttr", pa.float64()),  # CMT / FE, minutes
    ]
)

LOCAL_OEE_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_id", pa.string()),
        ("shift_code", pa.string()),
        ("shift_date", pa.date32()),
        ("formula", pa.string()),
        ("unit", pa.string()),
        ("availability", pa.float64()),  # as reported: in `unit`, rounded as the plant rounds
        ("performance", pa.float64()),
        ("quality", pa.float64()),
        ("oee", pa.float64()),
        ("oee_ratio_exact", pa.float64()),  # the plant's formula before unit scaling and rounding
        ("enterprise_oee", pa.float64()),  # the ISO 22400 OEE of the same asset-shift
    ]
)

PLANT_DAY_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("day", pa.date32()),
        # Safety (local date of the event)
        ("near_misses", pa.int64()),
        ("first_aid_cases", pa.int64()),
        ("recordable_incidents", pa.int64()),  # recordable + lost time
        ("lost_time_incidents", pa.int64()),
        ("lost_days", pa.int64()),
        # Quality (production day)
        ("pq", pa.int64()),
        ("gq", pa.int64()),
        ("sq", pa.int64()),
        ("rq", pa.int64()),
        ("scrap_ratio", pa.float64()),
        ("first_pass_yield", pa.float64()),
        # Delivery (due date)
        ("orders_due", pa.int64()),
        ("orders_on_time_in_full", pa.int64()),
        ("on_time_in_full", pa.float64()),
        ("order_sq", pa.int64()),  # scrap of the orders due, produced up to and including their due date
        ("order_psq", pa.int64()),  # planned scrap of the orders due
        ("actual_to_planned_scrap_ratio", pa.float64()),  # SQ / PSQ
        # Cost (energy: the metered asset-shifts of the production day; scrap cost: production day, standard cost
        # in force that day)
        ("energy_kwh", pa.float64()),  # null when no asset-shift of the day was metered
        ("metered_gq", pa.int64()),  # good quantity of the metered asset-shifts
        ("energy_kwh_per_good_unit", pa.float64()),
        ("scrap_cost", pa.float64()),
        ("currency", pa.string()),
        # People (production day of the shift; training: its date)
        ("employee_shifts", pa.int64()),
        ("scheduled_hours", pa.float64()),
        ("attended_hours", pa.float64()),
        ("absence_hours", pa.float64()),
        ("attendance_rate", pa.float64()),
        ("worked_hours", pa.float64()),  # APWT: attended time booked on orders
        ("worker_efficiency", pa.float64()),  # APWT / APAT
        ("training_hours", pa.float64()),
    ]
)


ASSET_SHIFT_ENERGY_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_id", pa.string()),
        ("shift_code", pa.string()),
        ("shift_date", pa.date32()),
        ("is_metered", pa.bool_()),
        ("energy_kwh", pa.float64()),  # null when not metered
        ("metered_gq", pa.int64()),  # the good quantity when metered, else 0
        ("energy_per_good_unit", pa.float64()),  # energy_kwh / metered_gq; null when not metered or nothing good
    ]
)
ENERGY_INPUT_COLUMNS = ("plant_id", "asset_id", "shift_code", "shift_date", "shift_started_at", "shift_ended_at", "gq")


@dataclass(frozen=True)
class Kpis:
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def compute_kpis(*, pbt_s: float, apt_s: float, pri_pq_s: float, pq: int, gq: int) -> Kpis:
    """The four KPIs; a ratio with a zero denominator is null, except OEE (0 if PBT > 0 but nothing ran or came out)."""
    availability = _ratio(apt_s, pbt_s)
    effectiveness = _ratio(pri_pq_s, apt_s)
    quality_ratio = _ratio(gq, pq)
    if pbt_s == 0:
        oee = None
    elif apt_s == 0 or pq == 0:
        oee = 0.0
    else:
        oee = availability * effectiveness * quality_ratio
    return Kpis(availability, effectiveness, quality_ratio, oee)


def _shift_seconds(
    asset: SimulatedAsset, starts: list[int], element_of: Mapping[str, str], shift: ShiftWindow
) -> tuple[dict[str, int], dict[str, int], int]:
    """Seconds per ISO element and per enterprise state in the shift, and the breakdowns starting in it."""
    seconds = dict.fromkeys(TIME_ELEMENTS, 0)
    by_state: dict[str, int] = defaultdict(int)
    failures = 0
    index = max(bisect.bisect_right(starts, shift.start) - 1, 0)
    while index < len(asset.events) and asset.events[index].start < shift.end:
        event = asset.events[index]
        overlap = min(event.end, shift.end) - max(event.start, shift.start)
        if overlap > 0:
            seconds[element_of[event.enterprise_state]] += overlap
            by_state[event.enterprise_state] += overlap
            if event.enterprise_state == "BREAKDOWN" and event.start >= shift.start:
                failures += 1
        index += 1
    return seconds, by_state, failures


def asset_shift_rows_of_plant(plant: SimulatedPlant) -> Iterator[dict]:
    """One ground-truth row per asset and shift of one plant, in asset and shift order."""
    element_of = {mapping.enterprise_state: mapping.iso_element for mapping in plant.state_mappings}
    for asset in plant.assets:
        starts = [event.start for event in asset.events]
        interval_starts = [interval.start for interval in asset.intervals]
        for shift in plant.shifts:
            seconds, by_state, failures = _shift_seconds(asset, starts, element_of, shift)
            low = bisect.bisect_left(interval_starts, shift.start)
            high = bisect.bisect_left(interval_starts, shift.end)
            intervals = asset.intervals[low:high]
            pq = sum(interval.produced_qty for interval in intervals)
            gq = sum(interval.good_qty for interval in intervals)
            sq = sum(interval.scrap_qty for interval in intervals)
            rq = sum(interval.rework_qty for interval in intervals)
            pri_pq_s = sum(interval.material.ideal_cycle_time_s * interval.produced_qty for interval in intervals)
            pot_s = shift.duration_s
            apt, aust, adet = seconds["APT"], seconds["AUST"], seconds["ADET"]
            pbt_s = pot_s - seconds["PDOT"]
            aupt, aubt = apt + aust, apt + aust + adet
            kpis = compute_kpis(pbt_s=pbt_s, apt_s=apt, pri_pq_s=pri_pq_s, pq=pq, gq=gq)
            nee_basis = _ratio(aupt, pbt_s)
            cmt, pmt = by_state.get("BREAKDOWN", 0), by_state.get("PLANNED_MAINTENANCE", 0)
            yield {
                "plant_id": plant.plant_id,
                "asset_id": asset.asset.asset_id,
                "line_id": asset.asset.line_id,
                "shift_code": shift.shift_code,
                "shift_date": shift.shift_date,
                "shift_started_at": shift.start * 1_000_000,
                "shift_ended_at": shift.end * 1_000_000,
                "pot_s": float(pot_s),
                "pdot_s": float(seconds["PDOT"]),
                "pbt_s": float(pbt_s),
                "apt_s": float(apt),
                "aust_s": float(aust),
                "adet_s": float(adet),
                "adot_s": float(seconds["ADOT"]),
                "pq": pq,
                "gq": gq,
                "sq": sq,
                "rq": rq,
                "pri_pq_s": float(pri_pq_s),
                "availability": kpis.availability,
                "effectiveness": kpis.effectiveness,
                "quality_ratio": kpis.quality_ratio,
                "oee": kpis.oee,
                "aupt_s": float(aupt),
                "aubt_s": float(aubt),
                "breakdown_s": float(cmt),
                "minor_stop_s": float(by_state.get("MINOR_STOP", 0)),
                "failure_events": failures,
                "pmt_s": float(pmt),
                "pri_gq_s": float(sum(i.material.ideal_cycle_time_s * i.good_qty for i in intervals)),
                "pri_sq_s": float(sum(i.material.ideal_cycle_time_s * i.scrap_qty for i in intervals)),
                "pri_rq_s": float(sum(i.material.ideal_cycle_time_s * i.rework_qty for i in intervals)),
                "nee": None
                if None in (nee_basis, kpis.effectiveness, kpis.quality_ratio)
                else nee_basis * kpis.effectiveness * kpis.quality_ratio,
                "allocation_efficiency": _ratio(aubt, pbt_s),
                "utilization_efficiency": _ratio(apt, aubt),
                "technical_efficiency": _ratio(apt, apt + adet),
                "setup_rate": _ratio(aust, aupt),
                "scrap_ratio": _ratio(sq, pq),
                "rework_ratio": _ratio(rq, pq),
                "first_pass_yield": _ratio(gq, pq),
                "corrective_maintenance_ratio": _ratio(cmt, cmt + pmt),
                "mtbf": _ratio(apt / 3600, failures),
                "mttr": _ratio(cmt / 60, failures),
            }


def local_oee_rows(rows: list[dict], formula: LocalOeeFormula) -> Iterator[dict]:
    """The plant's local report (as written) per asset-shift row of the truth, beside the enterprise OEE."""
    for row in rows:
        exact = local_figures(formula, row)
        written = reported(formula, exact)
        yield {
            "plant_id": row["plant_id"],
            "asset_id": row["asset_id"],
            "shift_code": row["shift_code"],
            "shift_date": row["shift_date"],
            "formula": formula.formula,
            "unit": formula.unit,
            "availability": written.availability,
            "performance": written.performance,
            "quality": written.quality,
            "oee": written.oee,
            "oee_ratio_exact": exact.oee,
            "enterprise_oee": row["oee"],
        }


def asset_shift_energy_rows(
    asset_shifts: pa.Table, energy_kwh: Callable[[str, str, int, int], float | None]
) -> Iterator[dict]:
    """Energy per asset-shift of `asset_shifts` (the ENERGY_INPUT_COLUMNS of the asset-shift truth);
    `energy_kwh(plant_id, asset_local_id, start_s, end_s)` is the metered energy or None (sensors.MeteredEnergy)."""
    for row in asset_shifts.select(list(ENERGY_INPUT_COLUMNS)).to_pylist():
        start, end = (int(row[c].timestamp()) for c in ("shift_started_at", "shift_ended_at"))
        energy = energy_kwh(row["plant_id"], row["asset_id"].split(":", 1)[1], start, end)
        metered_gq = row["gq"] if energy is not None else 0
        yield {
            "plant_id": row["plant_id"],
            "asset_id": row["asset_id"],
            "shift_code": row["shift_code"],
            "shift_date": row["shift_date"],
            "is_metered": energy is not None,
            "energy_kwh": energy,
            "metered_gq": metered_gq,
            "energy_per_good_unit": _ratio(energy, metered_gq) if energy is not None else None,
        }


def shift_boundaries(asset_shifts: pa.Table) -> dict[tuple[str, str], np.ndarray]:
    """The sorted, unique shift starts and ends (epoch s) per (plant_id, asset_local_id) of `asset_shifts`."""
    instants: dict[tuple[str, str], list[int]] = defaultdict(list)
    for plant_id, asset_id, *bounds in zip(
        *(asset_shifts[c].to_pylist() for c in ("plant_id", "asset_id", "shift_started_at", "shift_ended_at"))
    ):
        instants[(plant_id, asset_id.split(":", 1)[1])] += [int(bound.timestamp()) for bound in bounds]
    return {key: np.unique(np.array(values, dtype=np.int64)) for key, values in instants.items()}


def add_energy_to_plant_days(plant_days: list[dict], asset_shift_energy: list[dict]) -> None:
    """Sum the metered energy and good quantity of each production day into its plant-day row (ratio of sums)."""
    energy: dict[tuple[str, dt.date], float] = defaultdict(float)
    metered_gq: dict[tuple[str, dt.date], int] = defaultdict(int)
    for row in asset_shift_energy:
        if row["is_metered"]:
            key = (row["plant_id"], row["shift_date"])
            energy[key] += row["energy_kwh"]
            metered_gq[key] += row["metered_gq"]
    for day in plant_days:
        key = (day["plant_id"], day["day"])
        day["energy_kwh"] = energy.get(key)
        day["metered_gq"] = metered_gq.get(key, 0)
        day["energy_kwh_per_good_unit"] = _ratio(energy[key], metered_gq[key]) if key in energy else None


def plant_day_rows(
    plant: SimulatedPlant,
    asset_shift: list[dict],
    days: list[dt.date],
    cost_per_piece: Mapping[tuple[str, dt.date], float],
) -> Iterator[dict]:
    """SQDCP facts per local day of the period (every day, holidays included), without the energy: the sensor
    readings come later (`add_energy_to_plant_days`).

    `cost_per_piece[(material, day)]` is the standard cost in force.
    """
    tz = plant.profile.tz
    acc: dict[dt.date, dict[str, float]] = {day: defaultdict(float) for day in days}

    def add(day: dt.date, key: str, value: float) -> None:
        if day in acc:
            acc[day][key] += value

    for row in asset_shift:
        for key in ("pq", "gq", "sq", "rq"):
            add(row["shift_date"], key, row[key])
    shift_dates = [(shift.start, shift.end, shift.shift_date) for shift in plant.shifts]
    shift_starts = [start for start, _, _ in shift_dates]  # an interval belongs to the shift containing its start
    due_date = {order.order_id: order.due_date for order in plant.work_orders}
    for asset in plant.assets:
        for interval in asset.intervals:
            if interval.scrap_qty:
                _, _, day = shift_dates[bisect.bisect_right(shift_starts, interval.start) - 1]
                add(day, "scrap_cost", interval.scrap_qty * cost_per_piece[(interval.material.material_local_id, day)])
                if day <= due_date[interval.order_id]:
                    add(due_date[interval.order_id], "order_sq", interval.scrap_qty)
    for incident in plant.incidents:
        day = epoch_to_local(incident.occurred_at, tz).date()
        key = {"near_miss": "near_misses", "first_aid": "first_aid_cases"}.get(incident.enterprise_type)
        if key:
            add(day, key, 1)
        else:
            add(day, "recordable_incidents", 1)
        if incident.enterprise_type == "lost_time":
            add(day, "lost_time_incidents", 1)
            add(day, "lost_days", incident.lost_days)
    otif = {shipment.order_id for shipment in plant.shipments if shipment.on_time_in_full}
    for order in plant.work_orders:
        add(order.due_date, "orders_due", 1)
        add(order.due_date, "order_psq", order.planned_scrap_qty)
        if order.order_id in otif:
            add(order.due_date, "orders_on_time_in_full", 1)
    for record in plant.attendance:
        add(record.shift_date, "employee_shifts", 1)
        add(record.shift_date, "scheduled_hours", record.scheduled_h)
        add(record.shift_date, "attended_hours", record.attended_h)
        add(record.shift_date, "worked_hours", record.worked_h)
    for training in plant.training:
        add(training.training_date, "training_hours", training.hours)

    for day in days:
        values = acc[day]
        yield {
            "plant_id": plant.plant_id,
            "day": day,
            "near_misses": int(values["near_misses"]),
            "first_aid_cases": int(values["first_aid_cases"]),
            "recordable_incidents": int(values["recordable_incidents"]),
            "lost_time_incidents": int(values["lost_time_incidents"]),
            "lost_days": int(values["lost_days"]),
            "pq": int(values["pq"]),
            "gq": int(values["gq"]),
            "sq": int(values["sq"]),
            "rq": int(values["rq"]),
            "scrap_ratio": _ratio(values["sq"], values["pq"]),
            "first_pass_yield": _ratio(values["gq"], values["pq"]),
            "orders_due": int(values["orders_due"]),
            "orders_on_time_in_full": int(values["orders_on_time_in_full"]),
            "on_time_in_full": _ratio(values["orders_on_time_in_full"], values["orders_due"]),
            "order_sq": int(values["order_sq"]),
            "order_psq": int(values["order_psq"]),
            "actual_to_planned_scrap_ratio": _ratio(values["order_sq"], values["order_psq"]),
            "energy_kwh": None,
            "metered_gq": 0,
            "energy_kwh_per_good_unit": None,
            "scrap_cost": values["scrap_cost"],
            "currency": plant.profile.currency,
            "employee_shifts": int(values["employee_shifts"]),
            "scheduled_hours": values["scheduled_hours"],
            "attended_hours": values["attended_hours"],
            "absence_hours": values["scheduled_hours"] - values["attended_hours"],
            "attendance_rate": _ratio(values["attended_hours"], values["scheduled_hours"]),
            "worked_hours": values["worked_hours"],
            "worker_efficiency": _ratio(values["worked_hours"], values["attended_hours"]),
            "training_hours": values["training_hours"],
        }
