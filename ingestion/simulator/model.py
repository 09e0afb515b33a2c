"""The simulated network in memory: plants, assets, shifts, state timelines, orders, counts, ERP, people and safety.

All instants are whole seconds since the Unix epoch, in UTC (`int`), so that every duration the ground truth sums is
exact. Conversion to the plant's local wall clock happens only when extracts are written. Quantities and times are
held in enterprise units (pieces, seconds, kg, hours); extracts convert them to each plant's units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .config import PlantConfig
from .profiles import PlantProfile, StateMapping


@dataclass(frozen=True)
class ShiftWindow:
    """One shift on one production day; `shift_date` is the local date on which it starts."""

    shift_code: str
    shift_date: dt.date
    start: int
    end: int

    @property
    def duration_s(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Material:
    """A material of the plant's ERP with its ideal cycle time (PRI) as written, its weight and standard cost."""

    material_local_id: str
    material_name: str
    ideal_cycle_time: float
    ideal_cycle_time_unit: str
    net_weight_kg: float = 1.0
    standard_cost: float = 1.0  # per piece, in the plant's currency

    @property
    def ideal_cycle_time_s(self) -> float:
        return self.ideal_cycle_time * (60 if self.ideal_cycle_time_unit == "min" else 1)


@dataclass(frozen=True)
class Asset:
    """A work unit (machine) of a plant, with the local ids the plant uses."""

    plant_id: str
    asset_local_id: str
    line_local_id: str
    asset_name: str

    @property
    def asset_id(self) -> str:
        """Enterprise asset id."""
        return f"{self.plant_id}:{self.asset_local_id}"

    @property
    def line_id(self) -> str:
        """Enterprise line id."""
        return f"{self.plant_id}:{self.line_local_id}"


@dataclass(frozen=True)
class StateEvent:
    """The asset is in one state over [start, end): enterprise state and the plant-local code written for it."""

    start: int
    end: int
    enterprise_state: str
    local_code: str


@dataclass(frozen=True)
class Order:
    """A production order on one asset from `start` (its setup) until the next order starts or the period ends."""

    order_id: str
    material: Material
    start: int
    speed_factor: float  # actual rate / ideal rate while running, < 1
    planned_end: int  # when planning expected the order to finish (basis of its ERP quantity and due date)


@dataclass(frozen=True)
class ProductionInterval:
    """Counts reported for [start, end); never crosses a shift boundary; produced = good + scrap + rework."""

    start: int
    end: int
    order_id: str
    material: Material
    produced_qty: int
    good_qty: int
    scrap_qty: int
    rework_qty: int


@dataclass
class SimulatedAsset:
    asset: Asset
    events: list[StateEvent]
    orders: list[Order]
    intervals: list[ProductionInterval]


@dataclass(frozen=True)
class WorkOrder:
    """The ERP view of an order: quantity and due date planned at release."""

    order_id: str
    asset_local_id: str
    material: Material
    order_qty: int
    planned_scrap_qty: int  # PSQ: the scrap planning allowed for on top of the ordered good quantity
    released_date: dt.date
    due_date: dt.date


@dataclass(frozen=True)
class Shipment:
    """One delivery against a work order (at most one per order)."""

    shipment_id: str
    order_id: str
    material: Material
    ordered_qty: int
    shipped_qty: int
    promised_date: dt.date
    shipped_date: dt.date
    gross_weight_kg: float

    @property
    def on_time_in_full(self) -> bool:
        return self.shipped_date <= self.promised_date and self.shipped_qty >= self.ordered_qty


@dataclass(frozen=True)
class StandardCost:
    """A material's standard cost per piece (in the plant's currency) from `valid_from` on."""

    material: Material
    valid_from: dt.date
    cost_per_piece: float


@dataclass(frozen=True)
class SupplierQualityRecord:
    """One supplier-quality row: defects and downtime caused by a vendor's material on a day."""

    report_date: dt.date
    plant_name: str
    vendor_id: str
    vendor_name: str
    material_local_id: str
    material_type: str
    category: str
    defect_id: str
    defect: str
    defect_type: str
    defect_qty: int
    downtime_min: float


@dataclass(frozen=True)
class AttendanceRecord:
    """One employee in one scheduled shift (times in hours); worked = time booked on orders (APWT), within attended."""

    employee_id: str
    shift_date: dt.date
    shift_code: str
    scheduled_h: float
    attended_h: float
    absence_reason: str | None
    worked_h: float


@dataclass(frozen=True)
class TrainingRecord:
    employee_id: str
    training_date: dt.date
    course: str
    hours: float


@dataclass(frozen=True)
class Incident:
    """A safety event; `enterprise_type` is near_miss | first_aid | recordable | lost_time."""

    incident_id: str
    occurred_at: int
    enterprise_type: str
    local_type: str
    line_local_id: str | None
    lost_days: int
    description: str


@dataclass
class SimulatedPlant:
    profile: PlantProfile
    config: PlantConfig
    shifts: list[ShiftWindow]
    materials: list[Material]
    state_mappings: list[StateMapping]
    assets: list[SimulatedAsset] = field(default_factory=list)
    work_orders: list[WorkOrder] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    standard_costs: list[StandardCost] = field(default_factory=list)
    supplier_quality: list[SupplierQualityRecord] = field(default_factory=list)
    attendance: list[AttendanceRecord] = field(default_factory=list)
    training: list[TrainingRecord] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def plant_id(self) -> str:
        return self.profile.plant_id

    @property
    def period_start(self) -> int:
        return self.shifts[0].start

    @property
    def period_end(self) -> int:
        return self.shifts[-1].end
