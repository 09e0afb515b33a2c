"""Sensor readings per asset, generated in time-ordered blocks with numpy (bounded memory at any scale).

Every asset reports four tags at each multiple of the network's sensor interval (UTC epoch aligned, like a poller on
the clock) within its plant's sensor window (the first `sensor_days` of [first shift start, last shift end)). The
values follow the state timeline: power and temperature rise while running, vibration climbs in the half hour
before a breakdown, and the energy meter integrates power. Tag names and units are each plant's own
(catalog/mappings/sensor_tags.yaml): Ohio's gateways send Fahrenheit as `temperature_f`.

Generation is vectorised: a block of about `BLOCK_SAMPLES` samples is computed for all assets at once; only the
temperature, a first-order lag, is advanced step by step (across all assets per step). Each asset draws its noise
from its own stream, only for its own sample instants, so an asset's readings do not depend on the other assets.
Readings are ordered by time, then plant, asset and tag (the order of the network and of `TAGS`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from catalog.render import EnergyMeter

from .model import SimulatedPlant
from .randomness import numpy_stream, stream

# Enterprise tags in publishing order, with the rounding of the published value.
TAGS: tuple[str, ...] = ("temperature_c", "vibration_mm_s", "power_kw", "energy_kwh")
DECIMALS = (2, 3, 3, 3)
STATES = (
    "RUNNING", "SETUP", "MINOR_STOP", "BREAKDOWN", "STARVED", "BLOCKED", "NO_ORDER", "PLANNED_DOWN", "PLANNED_MAINTENANCE"
)
# Share of rated power drawn in each state (order of STATES).
LOAD_BY_STATE = np.array([0.9, 0.3, 0.35, 0.04, 0.15, 0.15, 0.15, 0.05, 0.05])
RUNNING = 0
TEMPERATURE_TIME_CONSTANT_S = 20 * 60
BREAKDOWN_PRECURSOR_S = 30 * 60
BLOCK_SAMPLES = 600_000  # samples (x 4 tags) per block: about 20 MB per float array
DAY = 86_400


class SensorReading(NamedTuple):
    """One reading as published to Kafka (`ts` is timezone-aware UTC, whole seconds)."""

    plant_id: str
    asset_local_id: str
    tag: str
    ts: dt.datetime
    value: float
    unit: str

    def kafka_key(self) -> bytes:
        return f"{self.plant_id}/{self.asset_local_id}".encode()

    def kafka_value(self) -> bytes:
        """The JSON message body of docs/design.md, keys in the documented order."""
        return json.dumps(
            {
                "plant_id": self.plant_id,
                "asset_id": self.asset_local_id,
                "tag": self.tag,
                "ts": self.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "value": self.value,
                "unit": self.unit,
            },
            ensure_ascii=False,
        ).encode()


@dataclass(frozen=True)
class AssetSignal:
    """What the sensor model needs of one asset: its timeline (compact), window, tags and physical constants."""

    plant_id: str
    asset_local_id: str
    event_ends: np.ndarray  # int64, end instant of each state event (sorted)
    event_states: np.ndarray  # int8, index into STATES
    breakdown_starts: np.ndarray  # int64, sorted, with a sentinel far in the future
    window_start: int
    window_end: int
    tags: tuple[tuple[str, str], ...]  # (local tag, unit) per enterprise tag in TAGS order
    fahrenheit: bool
    rated_kw: float
    ambient_c: float
    temperature_rise_c: float
    running_vibration: float
    initial_energy_kwh: float


def asset_signals(
    plant: SimulatedPlant, seed: int, window_days: int | None, sensor_tags: Mapping[str, tuple[str, str]]
) -> list[AssetSignal]:
    """The sensor inputs of a plant's assets, keeping only the events that overlap the sensor window (the plant's
    whole period, or its first `window_days` days)."""
    start = plant.period_start
    end = plant.period_end if window_days is None else min(plant.period_end, start + window_days * DAY)
    tags = tuple(sensor_tags[tag] for tag in TAGS)
    state_index = {state: index for index, state in enumerate(STATES)}
    signals = []
    for simulated in plant.assets:
        events = [event for event in simulated.events if event.end > start and event.start < end]
        rng = stream(seed, plant.plant_id, simulated.asset.asset_local_id, "sensors")
        breakdowns = [event.start for event in events if event.enterprise_state == "BREAKDOWN"]
        signals.append(
            AssetSignal(
                plant_id=plant.plant_id,
                asset_local_id=simulated.asset.asset_local_id,
                event_ends=np.array([event.end for event in events], dtype=np.int64),
                event_states=np.array([state_index[event.enterprise_state] for event in events], dtype=np.int8),
                breakdown_starts=np.array([*breakdowns, np.iinfo(np.int64).max // 2], dtype=np.int64),
                window_start=start,
                window_end=end,
                tags=tags,
                fahrenheit=tags[0][1] == "degF",
                rated_kw=round(rng.uniform(8.0, 60.0), 1),
                ambient_c=rng.uniform(21.0, 27.0),
                temperature_rise_c=rng.uniform(20.0, 40.0),
                running_vibration=rng.uniform(1.5, 4.0),
                initial_energy_kwh=round(rng.uniform(10_000.0, 90_000.0), 3),
            )
        )
    return signals


@dataclass
class SensorBlock:
    """Readings of consecutive sample instants for all assets of the network."""

    times: np.ndarray  # int64 (steps,): sample instants
    active: np.ndarray  # bool (steps, assets): the asset reports at that instant
    values: np.ndarray  # float64 (steps, assets, 4): published (rounded, plant-unit) values in TAGS order

    @property
    def readings(self) -> int:
        return int(self.active.sum()) * len(TAGS)


class SensorModel:
    """Generates the readings of a set of assets block by block, in time order."""

    def __init__(self, signals: Sequence[AssetSignal], seed: int, interval_s: int) -> None:
        self.signals = list(signals)
        self.interval_s = interval_s
        self.smoothing = 1 - np.exp(-interval_s / TEMPERATURE_TIME_CONSTANT_S)
        self.noise = [numpy_stream(seed, s.plant_id, s.asset_local_id, "sensor-noise") for s in self.signals]
        self.rated = np.array([s.rated_kw for s in self.signals])
        self.ambient = np.array([s.ambient_c for s in self.signals])
        self.rise = np.array([s.temperature_rise_c for s in self.signals])
        self.vibration = np.array([s.running_vibration for s in self.signals])
        self.temperature = self.ambient.copy()
        self.energy = np.array([s.initial_energy_kwh for s in self.signals])
        self.fahrenheit = np.array([s.fahrenheit for s in self.signals])

    def first_and_last_instant(self) -> tuple[int, int]:
        first = min(s.window_start for s in self.signals)
        last = max(s.window_end for s in self.signals)
        return -(-first // self.interval_s) * self.interval_s, last

    def blocks(self, block_steps: int | None = None) -> Iterator[SensorBlock]:
        """Blocks of consecutive sample instants; by default about BLOCK_SAMPLES samples each (bounded memory, and
        few enough blocks that the per-asset work of a block stays small)."""
        if not self.signals:
            return
        block_steps = block_steps or max(1, BLOCK_SAMPLES // len(self.signals))
        first, last = self.first_and_last_instant()
        for block_start in range(first, last, block_steps * self.interval_s):
            times = np.arange(block_start, min(last, block_start + block_steps * self.interval_s), self.interval_s)
            yield self._block(times.astype(np.int64))

    def _block(self, times: np.ndarray) -> SensorBlock:
        steps, assets = len(times), len(self.signals)
        active = np.zeros((steps, assets), dtype=bool)
        state = np.zeros((steps, assets), dtype=np.int8)
        lead = np.full((steps, assets), np.inf)
        noise = np.zeros((steps, assets, 4))
        for i, signal in enumerate(self.signals):
            low = int(np.searchsorted(times, signal.window_start))
            high = int(np.searchsorted(times, signal.window_end))
            if low >= high:
                continue
            at = times[low:high]
            active[low:high, i] = True
            state[low:high, i] = signal.event_states[np.searchsorted(signal.event_ends, at, side="right")]
            next_breakdown = signal.breakdown_starts[np.searchsorted(signal.breakdown_starts, at, side="right")]
            lead[low:high, i] = next_breakdown - at
            noise[low:high, i, :] = self.noise[i].standard_normal((high - low, 4))

        running = state == RUNNING
        load = LOAD_BY_STATE[state] + np.where(running, 0.04 * noise[:, :, 0], 0.0)
        wear = np.where(running & (lead < BREAKDOWN_PRECURSOR_S), 1.5 * (1 - lead / BREAKDOWN_PRECURSOR_S), 0.0)
        vibration = np.where(
            running,
            self.vibration * (1 + wear) * (1 + 0.08 * noise[:, :, 1]),
            0.05 + np.abs(0.08 * noise[:, :, 1]),
        )
        power = np.maximum(0.0, self.rated * load + 0.01 * self.rated * noise[:, :, 2])
        power = np.where(active, power, 0.0)
        energy = self.energy + np.cumsum(power * (self.interval_s / 3600), axis=0)
        self.energy = energy[-1].copy()

        # First-order lag towards the load's temperature; frozen while an asset is outside its window.
        target = self.ambient + self.rise * np.minimum(load, 1.0)
        keep = np.where(active, 1 - self.smoothing, 1.0)
        push = np.where(active, self.smoothing * target + 0.15 * noise[:, :, 3], 0.0)
        temperature = np.empty((steps, assets))
        current = self.temperature
        for k in range(steps):
            current = keep[k] * current + push[k]
            temperature[k] = current
        self.temperature = current.copy()
        shown = np.where(self.fahrenheit, temperature * 9 / 5 + 32, temperature)

        values = np.stack([shown, np.maximum(vibration, 0.0), power, energy], axis=2)
        for tag, decimals in enumerate(DECIMALS):
            values[:, :, tag] = np.round(values[:, :, tag], decimals)
        return SensorBlock(times, active, values)


def iter_readings(model: SensorModel) -> Iterator[SensorReading]:
    """The model's readings as `SensorReading`s, in time, plant, asset and tag order."""
    names = [(s.plant_id, s.asset_local_id, s.tags) for s in model.signals]
    for block in model.blocks():
        values = block.values.tolist()
        for k, t in enumerate(block.times.tolist()):
            ts = dt.datetime.fromtimestamp(t, dt.UTC)
            row_active = block.active[k]
            for i, (plant_id, asset_id, tags) in enumerate(names):
                if row_active[i]:
                    for (tag, unit), value in zip(tags, values[k][i]):
                        yield SensorReading(plant_id, asset_id, tag, ts, value, unit)


class MeteredEnergy:
    """The energy of every asset-shift as catalog/kpis/energy_per_good_unit.yaml defines it: the meter (`meter.tag`)
    at the shift's end minus the meter at its start, each the last reading at or before that instant and at most
    `meter.max_gap_s` old; unknown (not metered) without both readings or when the counter ran backwards. `meter`
    comes from the definition's parameters (catalog.render.energy_meter), as the warehouse's does.

    Fed block by block in time order (`add`), then `finish`; `energy_kwh(...)` answers for one asset-shift.
    """

    def __init__(
        self, signals: Sequence[AssetSignal], boundaries: Mapping[tuple[str, str], np.ndarray], meter: EnergyMeter
    ) -> None:
        # boundaries[(plant_id, asset_local_id)]: the sorted, unique shift starts and ends of the asset (epoch s)
        if meter.tag not in TAGS:
            raise ValueError(f"the energy meter tag {meter.tag!r} is not among the simulated tags {TAGS}")
        self.meter = meter
        self.meter_column = TAGS.index(meter.tag)
        self.index = {(s.plant_id, s.asset_local_id): i for i, s in enumerate(signals)}
        empty = np.empty(0, dtype=np.int64)
        self.boundaries = [boundaries.get((s.plant_id, s.asset_local_id), empty) for s in signals]
        self.resolved = [0] * len(signals)  # boundaries whose last reading is known, per asset
        self.last: list[tuple[int, float] | None] = [None] * len(signals)  # last reading of the earlier blocks
        self.meter_at: list[dict[int, float]] = [{} for _ in signals]

    def add(self, block: SensorBlock) -> None:
        for i, bounds in enumerate(self.boundaries):
            seen = block.active[:, i]
            if not seen.any():
                continue
            times, values = block.times[seen], block.values[seen, i, self.meter_column]
            if self.last[i] is not None:
                times = np.concatenate([[self.last[i][0]], times])
                values = np.concatenate([[self.last[i][1]], values])
            # a boundary after the block's last reading may still get a later reading from the next block
            stop = int(np.searchsorted(bounds, times[-1], side="right"))
            self._resolve(i, bounds[self.resolved[i] : stop], times, values)
            self.resolved[i] = stop
            self.last[i] = (int(times[-1]), float(values[-1]))

    def finish(self) -> None:
        for i, bounds in enumerate(self.boundaries):
            if self.last[i] is not None:
                time, value = self.last[i]
                self._resolve(i, bounds[self.resolved[i] :], np.array([time]), np.array([value]))
            self.resolved[i] = len(bounds)

    def _resolve(self, i: int, bounds: np.ndarray, times: np.ndarray, values: np.ndarray) -> None:
        before = np.searchsorted(times, bounds, side="right") - 1
        for boundary, k in zip(bounds.tolist(), before.tolist()):
            if k >= 0 and boundary - int(times[k]) <= self.meter.max_gap_s:
                self.meter_at[i][boundary] = float(values[k])

    def energy_kwh(self, plant_id: str, asset_local_id: str, start: int, end: int) -> float | None:
        i = self.index.get((plant_id, asset_local_id))
        if i is None:
            return None
        at_start, at_end = self.meter_at[i].get(start), self.meter_at[i].get(end)
        if at_start is None or at_end is None or at_end < at_start:
            return None
        return at_end - at_start
