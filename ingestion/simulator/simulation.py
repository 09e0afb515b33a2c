"""Build one simulated plant in memory from a network config and the catalog.

Every random draw comes from a stream derived from the network seed, the plant, the asset and the purpose
(randomness.py), so adding a plant or an asset does not change the others, and the sensor readings can be
regenerated for publishing without writing anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from .config import NetworkConfig, PlantConfig
from .erp import standard_costs, supplier_quality_records, work_orders_and_shipments
from .model import Asset, Material, SimulatedAsset, SimulatedPlant
from .people import attendance_records, crews, incidents, training_records
from .production import simulate_intervals
from .profiles import Mappings, PlantProfile, load_mappings, load_plant_profiles, resolve_state_codes
from .randomness import stream
from .shifts import FallBackWindows, production_days_with_shifts, shift_windows
from .timeline import StateCodes, simulate_timeline
from .vocabulary import machine_name, material_name

# Ideal cycle times are multiples of 0.25 so that they and their value in seconds are exact binary floats
# (0.75 min = 45.0 s): the ground truth's PRI x PQ is then exact, whatever unit a plant reports.
CYCLE_TIMES: dict[str, tuple[float, ...]] = {
    "s": (7.5, 12.5, 15.0, 20.0, 22.5, 30.0, 37.5, 45.0),
    "min": (0.25, 0.5, 0.75, 1.0, 1.25),
}
# Rough price level per currency, so that standard costs look like the currency they are in.
CURRENCY_LEVEL = {"EUR": 1.0, "USD": 1.1, "SGD": 1.45, "MXN": 19.0}


def _materials(seed: int, config: PlantConfig, profile: PlantProfile) -> list[Material]:
    rng = stream(seed, config.plant_id, "materials")
    unit = profile.units.cycle_time
    level = CURRENCY_LEVEL.get(profile.currency, 1.0)
    return [
        Material(
            material_local_id=config.material_id_format.format(n=n),
            material_name=material_name(config.language, n),
            ideal_cycle_time=rng.choice(CYCLE_TIMES[unit]),
            ideal_cycle_time_unit=unit,
            net_weight_kg=round(rng.uniform(0.05, 12.0), 3),
            standard_cost=round(rng.uniform(0.8, 45.0) * level, 4),
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


def plant_profile(config: PlantConfig, profiles: dict[str, PlantProfile]) -> PlantProfile:
    """The catalog profile of a network plant; a clone (`profile:` set) gets the template's dialect under its id."""
    if config.catalog_plant not in profiles:
        raise ValueError(f"network plant {config.plant_id} names no catalog profile ({config.catalog_plant!r})")
    template = profiles[config.catalog_plant]
    if config.profile is None:
        return template
    return template.derived(config.plant_id, config.name or f"{template.name} ({config.plant_id})")


def simulate_plant(
    network: NetworkConfig, config: PlantConfig, profile: PlantProfile, mappings: Mappings
) -> SimulatedPlant:
    """One plant: calendar, materials, per asset its state timeline, orders and counts; ERP, people and safety."""
    seed, plant_id, template = network.seed, config.plant_id, config.catalog_plant
    days = network.production_days
    shifts = shift_windows(profile, days)
    state_mappings = resolve_state_codes(mappings.machine_states, template, days[0], days[-1])
    codes: dict[str, list[str]] = {}
    for mapping in state_mappings:
        codes.setdefault(mapping.enterprise_state, []).append(mapping.local_code)
    materials = _materials(seed, config, profile)
    plant = SimulatedPlant(
        profile=profile, config=config, shifts=shifts, materials=materials, state_mappings=state_mappings
    )
    order_numbers = itertools.count(1)

    def next_order_id() -> str:
        return config.order_id_format.format(n=next(order_numbers))

    state_codes = StateCodes(codes)
    tz = profile.tz
    fall_back = FallBackWindows.for_period(tz, plant.period_start, plant.period_end)
    for asset in _assets(config):
        rng = stream(seed, plant_id, asset.asset_local_id, "timeline")
        events, orders = simulate_timeline(rng, state_codes, shifts, materials, next_order_id, fall_back)
        rng = stream(seed, plant_id, asset.asset_local_id, "counts")
        intervals = simulate_intervals(rng, shifts, events, orders, tz, fall_back)
        plant.assets.append(SimulatedAsset(asset=asset, events=events, orders=orders, intervals=intervals))

    working_days = production_days_with_shifts(profile, days)
    plant.work_orders, plant.shipments = work_orders_and_shipments(
        stream(seed, plant_id, "erp"), plant.assets, tz, days[-1], config.shipment_id_format
    )
    plant.standard_costs = standard_costs(stream(seed, plant_id, "costs"), materials, days[0], days[-1])
    names = (profile.name,) if config.profile else mappings.plant_names.get(plant_id, (profile.name,))
    plant.supplier_quality = supplier_quality_records(
        stream(seed, plant_id, "supplier_quality"), working_days, materials, names
    )
    crew_of = crews(
        [shift.code for shift in profile.shifts], len(plant.assets), config.employees_per_asset, config.employee_id_format
    )
    plant.attendance = attendance_records(
        stream(seed, plant_id, "attendance"), stream(seed, plant_id, "work_time"), shifts, crew_of, config.language
    )
    employees = [employee for crew in crew_of.values() for employee in crew]
    plant.training = training_records(stream(seed, plant_id, "training"), working_days, employees, config.language)
    lines = sorted({simulated.asset.line_local_id for simulated in plant.assets})
    plant.incidents = incidents(
        stream(seed, plant_id, "incidents"),
        shifts,
        headcount=len(employees),
        lines=lines,
        local_types=mappings.incident_types[template],
        language=config.language,
        incident_id_format=config.incident_id_format,
        fall_back=fall_back,
    )
    return plant


def iter_simulated_plants(
    network: NetworkConfig, catalog_dir: Path | None = None
) -> Iterator[SimulatedPlant]:
    """The network's plants one at a time (a bench plant holds a year in memory; never all plants at once)."""
    profiles = load_plant_profiles(catalog_dir)
    mappings = load_mappings(catalog_dir)
    for config in network.plants:
        yield simulate_plant(network, config, plant_profile(config, profiles), mappings)
