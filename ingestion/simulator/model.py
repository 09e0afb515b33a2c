"""The simulated network in memory: plants, assets, shifts, state timelines, orders and production intervals.

All instants are whole seconds since the Unix epoch, in UTC (`int`), so that every duration the ground truth sums is
exact. Conversion to the plant's local wall clock happens only when extracts are written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .config import NetworkConfig, PlantConfig
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
    """A material of the plant's ERP with its ideal cycle time (PRI), as written and in seconds."""

    material_local_id: str
    material_name: str
    ideal_cycle_time: float
    ideal_cycle_time_unit: str

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
    """A production order on one asset from `start` until the next order starts (or the period ends)."""

    order_id: str
    material: Material
    start: int
    speed_factor: float  # actual rate / ideal rate while running, < 1


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


@dataclass
class SimulatedPlant:
    profile: PlantProfile
    config: PlantConfig
    shifts: list[ShiftWindow]
    materials: list[Material]
    state_mappings: list[StateMapping]
    assets: list[SimulatedAsset] = field(default_factory=list)

    @property
    def plant_id(self) -> str:
        return self.profile.plant_id

    @property
    def period_start(self) -> int:
        return self.shifts[0].start

    @property
    def period_end(self) -> int:
        return self.shifts[-1].end


@dataclass
class SimulatedNetwork:
    config: NetworkConfig
    plants: list[SimulatedPlant]
