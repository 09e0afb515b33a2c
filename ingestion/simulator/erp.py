"""ERP of one plant: work orders, shipments, standard costs and supplier quality, derived from the simulated shop floor.

- Work orders: one per simulated production order. Planning expected the order to run until its planned end at 75 %
  of the ideal rate with 2 % scrap; that gives the ordered quantity (rounded up to tens) and the planned scrap quantity
  (PSQ: 2 % of the planned output, rounded up). Released 1-3 days before the order started, due 0-2 days after its
  planned end.
- Shipments: an order that finished inside the period (the next order on its asset started) ships its good
  quantity, at most the ordered quantity, 0-4 days after it finished; a shipment dated after the period's last day is
  not in the extract yet. On time in full = shipped by the promised (due) date and at least the ordered quantity.
- Standard costs: per material, valid from the first day of the month before the period; a third of the materials
  get a revision in the middle of the period (+3-8 %).
- Supplier quality: a few records per production day (vendors, defects and impact classes in the style of the public
  supplier-quality sample), naming the receiving plant as the plant's system spells it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from .model import Material, Order, Shipment, SimulatedAsset, StandardCost, SupplierQualityRecord, WorkOrder
from .randomness import poisson
from .shifts import epoch_to_local

PLANNED_RATE = 0.75  # expected share of the ideal rate over an order's planned duration (availability x performance)
PLANNED_SCRAP = 0.02
SHIPPING_LEAD_DAYS = ((0, 0.55), (1, 0.25), (2, 0.10), (3, 0.06), (4, 0.04))

VENDORS = (
    ("V1001", "Bosch Rexroth"), ("V1002", "Acme Castings"), ("V1003", "Nordic Steel"), ("V1004", "Pacific Polymers"),
    ("V1005", "Rheinmetall Parts"), ("V1006", "Grupo Industrial Norte"), ("V1007", "Lakeside Fasteners"),
    ("V1008", "Orient Electronics"),
)
MATERIAL_TYPES = ("Raw Materials", "Hardware", "Electrical", "Packaging", "Mechanicals", "Labels")
CATEGORIES = ("Materials & Components", "Mechanicals", "Electrical", "Packaging", "Logistics")
# (defect id, defect); one description under two ids on purpose, as in the public sample.
DEFECTS = (
    ("D01", "Dimensions out of tolerance"), ("D02", "Bad finishing"), ("D03", "Corrosion"), ("D04", "Missing part"),
    ("D05", "Wrong label"), ("D06", "Damaged packaging"), ("D07", "Bad finishing"), ("D08", "Contamination"),
)
DEFECT_TYPES = (("No Impact", 0.5), ("Impact", 0.3), ("Rejected", 0.2))


def _local_date(epoch: int, plant_tz: ZoneInfo) -> dt.date:
    return epoch_to_local(epoch, plant_tz).date()


def _order_qty(order: Order) -> int:
    expected = (order.planned_end - order.start) * PLANNED_RATE / order.material.ideal_cycle_time_s
    return max(10, math.ceil(expected * (1 - PLANNED_SCRAP) / 10) * 10)


def _planned_scrap_qty(order_qty: int) -> int:
    """Scrap planned on top of the ordered good quantity: PLANNED_SCRAP of the planned output, at least one piece."""
    return max(1, math.ceil(order_qty * PLANNED_SCRAP / (1 - PLANNED_SCRAP)))


def work_orders_and_shipments(
    rng: random.Random,
    assets: Sequence[SimulatedAsset],
    plant_tz: ZoneInfo,
    last_day: dt.date,
    shipment_id_format: str,
) -> tuple[list[WorkOrder], list[Shipment]]:
    """Work orders and shipments, in asset and order order."""
    orders_out: list[WorkOrder] = []
    shipments: list[Shipment] = []
    number = 0
    for simulated in assets:
        good_by_order: dict[str, int] = {}
        for interval in simulated.intervals:
            good_by_order[interval.order_id] = good_by_order.get(interval.order_id, 0) + interval.good_qty
        for index, order in enumerate(simulated.orders):
            finished = simulated.orders[index + 1].start if index + 1 < len(simulated.orders) else None
            order_qty = _order_qty(order)
            work_order = WorkOrder(
                order_id=order.order_id,
                asset_local_id=simulated.asset.asset_local_id,
                material=order.material,
                order_qty=order_qty,
                planned_scrap_qty=_planned_scrap_qty(order_qty),
                released_date=_local_date(order.start, plant_tz) - dt.timedelta(days=rng.randint(1, 3)),
                due_date=_local_date(order.planned_end, plant_tz) + dt.timedelta(days=rng.randint(0, 2)),
            )
            orders_out.append(work_order)
            if finished is None:
                continue
            lead = rng.choices([days for days, _ in SHIPPING_LEAD_DAYS], [w for _, w in SHIPPING_LEAD_DAYS])[0]
            shipped_date = _local_date(finished, plant_tz) + dt.timedelta(days=lead)
            good = good_by_order.get(order.order_id, 0)
            if shipped_date > last_day or good == 0:
                continue
            number += 1
            shipped = min(good, work_order.order_qty)
            shipments.append(
                Shipment(
                    shipment_id=shipment_id_format.format(n=number),
                    order_id=order.order_id,
                    material=order.material,
                    ordered_qty=work_order.order_qty,
                    shipped_qty=shipped,
                    promised_date=work_order.due_date,
                    shipped_date=shipped_date,
                    gross_weight_kg=round(shipped * order.material.net_weight_kg * 1.08, 3),
                )
            )
    return orders_out, shipments


def standard_costs(
    rng: random.Random, materials: Sequence[Material], first_day: dt.date, last_day: dt.date
) -> list[StandardCost]:
    """Effective-dated standard costs per piece, by material and date."""
    month_before = (first_day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    middle = first_day + (last_day - first_day) // 2
    rows = []
    for material in materials:
        rows.append(StandardCost(material, month_before, material.standard_cost))
        if rng.random() < 1 / 3 and middle > first_day:
            rows.append(StandardCost(material, middle, round(material.standard_cost * rng.uniform(1.03, 1.08), 4)))
    return rows


def costs_in_force(rows: Sequence[StandardCost], days: Sequence[dt.date]) -> dict[tuple[str, dt.date], float]:
    """The standard cost per piece of every material on every day (the latest row valid on or before it)."""
    by_material: dict[str, list[StandardCost]] = {}
    for row in sorted(rows, key=lambda row: row.valid_from):
        by_material.setdefault(row.material.material_local_id, []).append(row)
    costs = {}
    for material_id, history in by_material.items():
        starts = [row.valid_from for row in history]
        for day in days:
            index = bisect.bisect_right(starts, day) - 1
            if index >= 0:
                costs[(material_id, day)] = history[index].cost_per_piece
    return costs


def supplier_quality_records(
    rng: random.Random, days: Sequence[dt.date], materials: Sequence[Material], plant_names: Sequence[str]
) -> list[SupplierQualityRecord]:
    """Supplier-quality records for the plant's production days (about 1.5 a day)."""
    records = []
    for day in days:
        for _ in range(poisson(rng, 1.5)):
            vendor_id, vendor_name = rng.choice(VENDORS)
            defect_id, defect = rng.choice(DEFECTS)
            defect_type = rng.choices([name for name, _ in DEFECT_TYPES], [w for _, w in DEFECT_TYPES])[0]
            qty = int(rng.expovariate(1 / 40))
            downtime = 0.0 if defect_type == "No Impact" else float(rng.randint(0, 24) * 5)
            # The plant's first spelling is its usual one; a second spelling (if any) appears in one row in ten.
            name = plant_names[1] if len(plant_names) > 1 and rng.random() < 0.1 else plant_names[0]
            records.append(
                SupplierQualityRecord(
                    report_date=day,
                    plant_name=name,
                    vendor_id=vendor_id,
                    vendor_name=vendor_name,
                    material_local_id=rng.choice(materials).material_local_id,
                    material_type=rng.choice(MATERIAL_TYPES),
                    category=rng.choice(CATEGORIES),
                    defect_id=defect_id,
                    defect=defect,
                    defect_type=defect_type,
                    defect_qty=qty,
                    downtime_min=downtime,
                )
            )
    return records

