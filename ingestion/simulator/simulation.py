"""Build the whole simulated network in memory from a network config and the catalog.

Every random draw comes from a `random.Random` seeded with a string derived from the network seed, the plant, the
asset and the purpose (string seeds are hashed with SHA-512, independent of PYTHONHASHSEED). Each asset therefore
has its own streams: adding a plant does not change the others, and sensor readings can be regenerated for publishing
without regenerating anything else.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from .config import NetworkConfig, PlantConfig
from .model import Asset, Material, SimulatedAsset, SimulatedNetwork, SimulatedPlant
from .production import simulate_intervals
from .profiles import PlantProfile, StateMapping, load_plant_profiles, load_state_mappings, resolve_state_codes
from .shifts import shift_windows, utc_offset_s
from .timeline import StateCodes, simulate_timeline
from .vocabulary import machine_name, material_name

# Ideal cycle times are multiples of 0.25 so that they and their value in seconds are exact binary floats
# (0.75 min = 45.0 s): the ground truth's PRI x PQ is then exact, whatever unit a plant reports.
CYCLE_TIMES: dict[str, tuple[float, ...]] = {
    "s": (7.5, 12.5, 15.0, 20.0, 22.5, 30.0, 37.5, 45.0),
    "min": (0.25, 0.5, 0.75, 1.0, 1.25),
}


def stream(seed: int, *parts: str) -> random.Random:
    """An independent, reproducible random stream for one purpose."""
    return random.Random("/".join([str(seed), *parts]))


def _materials(seed: int, config: PlantConfig) -> list[Material]:
    rng = stream(seed, config.plant_id, "materials")
    return [
        Material(
            material_local_id=config.material_id_format.format(n=n),
            material_name=material_name(config.language, n),
            ideal_cycle_time=rng.choice(CYCLE_TIMES[config.cycle_time_unit]),
            ideal_cycle_time_unit=config.cycle_time_unit,
        )
        for n in range(1, config.materials + 1)
    ]


def _assets(config: PlantConfig) -> list[Asset]:
    assets = []
    for line, asset_count in enumerate(config.assets_per_line, start=1):
        line_id = config.line_id_format.format(line=line)
        for number in range(1, asset_count + 1):
            assets.append(
                Asset(
                    plant_id=config.plant_id,
                    asset_local_id=config.asset_id_format.format(line=line, line_id=line_id, asset=number),
                    line_local_id=line_id,
                    asset_name=machine_name(config.language, line, number),
                )
            )
    if len({asset.asset_local_id for asset in assets}) != len(assets):
        raise ValueError(f"{config.plant_id}: asset_id_format does not give unique asset ids")
    return assets


def simulate_plant(
    network: NetworkConfig, config: PlantConfig, profile: PlantProfile, all_mappings: list[StateMapping]
) -> SimulatedPlant:
    """One plant: shift calendar, materials, and per asset its state timeline, orders and count intervals."""
    days = network.production_days
    shifts = shift_windows(profile, days)
    mappings = resolve_state_codes(all_mappings, profile.plant_id, days[0], days[-1])
    codes: dict[str, list[str]] = {}
    for mapping in mappings:
        codes.setdefault(mapping.enterprise_state, []).append(mapping.local_code)
    plant = SimulatedPlant(
        profile=profile,
        config=config,
        shifts=shifts,
        materials=_materials(network.seed, config),
        state_mappings=mappings,
    )
    order_numbers = itertools.count(1)

    def next_order_id() -> str:
        return config.order_id_format.format(n=next(order_numbers))

    state_codes = StateCodes(codes)
    offset = utc_offset_s(shifts[0].start, profile.tz)
    for asset in _assets(config):
        rng = stream(network.seed, profile.plant_id, asset.asset_local_id, "timeline")
        events, orders = simulate_timeline(rng, state_codes, shifts, plant.materials, next_order_id)
        rng = stream(network.seed, profile.plant_id, asset.asset_local_id, "counts")
        intervals = simulate_intervals(rng, shifts, events, orders, offset)
        plant.assets.append(SimulatedAsset(asset=asset, events=events, orders=orders, intervals=intervals))
    return plant


def simulate_network(network: NetworkConfig, catalog_dir: Path | None = None) -> SimulatedNetwork:
    """The network in memory (timelines, orders, counts); sensors are streamed separately."""
    profiles = load_plant_profiles(catalog_dir)
    missing = [plant.plant_id for plant in network.plants if plant.plant_id not in profiles]
    if missing:
        raise ValueError(f"network {network.name!r} names plants without a catalog profile: {missing}")
    mappings = load_state_mappings(catalog_dir)
    return SimulatedNetwork(
        config=network,
        plants=[simulate_plant(network, plant, profiles[plant.plant_id], mappings) for plant in network.plants],
    )
