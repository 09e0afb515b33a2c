"""Sensor readings per asset, streamed in time order with bounded memory.

Every asset reports four tags at each multiple of the network's sensor interval (UTC epoch aligned, like a poller
on the clock) within its plant's period [first shift start, last shift end). The values follow the state timeline:
power and temperature rise while running, vibration climbs in the half hour before a breakdown, and the energy
meter integrates power.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from typing import NamedTuple

from .model import SimulatedAsset, SimulatedNetwork
from .simulation import stream

TAGS: tuple[tuple[str, str], ...] = (
    ("temperature_c", "degC"),
    ("vibration_mm_s", "mm/s"),
    ("power_kw", "kW"),
    ("energy_kwh", "kWh"),
)

# Share of rated power drawn in each state.
LOAD_BY_STATE = {
    "RUNNING": 0.9,
    "SETUP": 0.3,
    "MINOR_STOP": 0.35,
    "BREAKDOWN": 0.04,
    "STARVED": 0.15,
    "BLOCKED": 0.15,
    "NO_ORDER": 0.15,
    "PLANNED_DOWN": 0.05,
}
TEMPERATURE_TIME_CONSTANT_S = 20 * 60
BREAKDOWN_PRECURSOR_S = 30 * 60


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


class _AssetSensors:
    """The physical state of one asset's sensors, advanced sample by sample in time order."""

    def __init__(self, seed: int, plant_id: str, asset: SimulatedAsset, interval_s: int) -> None:
        self.asset_local_id = asset.asset.asset_local_id
        self.events = asset.events
        self.breakdown_starts = [event.start for event in asset.events if event.enterprise_state == "BREAKDOWN"]
        self.interval_s = interval_s
        self.smoothing = 1 - math.exp(-interval_s / TEMPERATURE_TIME_CONSTANT_S)
        self.rng = stream(seed, plant_id, self.asset_local_id, "sensors")
        self.rated_kw = round(self.rng.uniform(8.0, 60.0), 1)
        self.ambient_c = self.rng.uniform(21.0, 27.0)
        self.temperature_rise_c = self.rng.uniform(20.0, 40.0)
        self.running_vibration = self.rng.uniform(1.5, 4.0)
        self.temperature_c = self.ambient_c
        self.energy_kwh = round(self.rng.uniform(10_000.0, 90_000.0), 3)
        self.event_index = 0
        self.breakdown_index = 0

    def _state_at(self, t: int) -> str:
        while self.events[self.event_index].end <= t:
            self.event_index += 1
        return self.events[self.event_index].enterprise_state

    def _seconds_to_next_breakdown(self, t: int) -> float:
        starts = self.breakdown_starts
        while self.breakdown_index < len(starts) and starts[self.breakdown_index] <= t:
            self.breakdown_index += 1
        return starts[self.breakdown_index] - t if self.breakdown_index < len(starts) else math.inf

    def sample(self, t: int) -> tuple[float, float, float, float]:
        """Values of the four TAGS at instant `t` (must not go back in time)."""
        rng = self.rng
        state = self._state_at(t)
        load = LOAD_BY_STATE[state]
        if state == "RUNNING":
            load += rng.gauss(0.0, 0.04)
            lead = self._seconds_to_next_breakdown(t)
            wear = 1.5 * (1 - lead / BREAKDOWN_PRECURSOR_S) if lead < BREAKDOWN_PRECURSOR_S else 0.0
            vibration = self.running_vibration * (1 + wear) * (1 + rng.gauss(0.0, 0.08))
        else:
            vibration = 0.05 + abs(rng.gauss(0.0, 0.08))
        power = max(0.0, self.rated_kw * load + rng.gauss(0.0, 0.01 * self.rated_kw))
        target = self.ambient_c + self.temperature_rise_c * min(load, 1.0)
        self.temperature_c += (target - self.temperature_c) * self.smoothing + rng.gauss(0.0, 0.15)
        self.energy_kwh += power * self.interval_s / 3600
        return (
            round(self.temperature_c, 2),
            round(max(vibration, 0.0), 3),
            round(power, 3),
            round(self.energy_kwh, 3),
        )


def iter_network_readings(network: SimulatedNetwork) -> Iterator[tuple[int, str, str, str, float, str]]:
    """(epoch_s, plant_id, asset_local_id, tag, value, unit) in time order, then plant, asset and tag order."""
    interval = network.config.sensor_interval_s
    plants = [
        (plant, [_AssetSensors(network.config.seed, plant.plant_id, asset, interval) for asset in plant.assets])
        for plant in network.plants
    ]
    first = min(plant.period_start for plant in network.plants)
    last = max(plant.period_end for plant in network.plants)
    for t in range(-(-first // interval) * interval, last, interval):
        for plant, assets in plants:
            if not plant.period_start <= t < plant.period_end:
                continue
            for sensors in assets:
                for (tag, unit), value in zip(TAGS, sensors.sample(t)):
                    yield t, plant.plant_id, sensors.asset_local_id, tag, value, unit


def readings_from_network(network: SimulatedNetwork) -> Iterator[SensorReading]:
    """The network's readings as `SensorReading`s (one shared datetime per sample instant)."""
    last_epoch, last_ts = None, None
    for epoch, plant_id, asset_id, tag, value, unit in iter_network_readings(network):
        if epoch != last_epoch:
            last_epoch, last_ts = epoch, dt.datetime.fromtimestamp(epoch, dt.UTC)
        yield SensorReading(plant_id, asset_id, tag, last_ts, value, unit)
