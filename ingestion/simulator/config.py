"""Network configuration: which plants to simulate, for how long, with how many lines and assets.

A network is a small YAML file (`networks/<name>.yaml` in this package, or any path). The plants' time zones, shifts
and extract dialects are not repeated here: they come from the catalog's plant profiles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NETWORKS_DIR = Path(__file__).resolve().parent / "networks"


@dataclass(frozen=True)
class PlantConfig:
    """Shape and local naming conventions of one simulated plant."""

    plant_id: str
    assets_per_line: tuple[int, ...]
    language: str = "en"
    cycle_time_unit: str = "s"
    materials: int = 5
    line_id_format: str = "L{line}"
    asset_id_format: str = "{line_id}-M{asset:02d}"
    material_id_format: str = "M{n:05d}"
    order_id_format: str = "WO{n:06d}"


@dataclass(frozen=True)
class NetworkConfig:
    """A whole simulated network: period, sensor cadence, seed and plants."""

    name: str
    seed: int
    start_date: dt.date
    days: int
    sensor_interval_s: int
    plants: tuple[PlantConfig, ...]

    @property
    def production_days(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=offset) for offset in range(self.days)]


_PLANT_KEYS = set(PlantConfig.__dataclass_fields__) - {"plant_id"}


def _plant_config(plant_id: str, raw: dict[str, Any]) -> PlantConfig:
    unknown = set(raw) - _PLANT_KEYS
    if unknown:
        raise ValueError(f"{plant_id}: unknown network settings {sorted(unknown)}")
    assets_per_line = tuple(int(count) for count in raw["assets_per_line"])
    if not assets_per_line or min(assets_per_line) < 1:
        raise ValueError(f"{plant_id}: assets_per_line needs at least one line with at least one asset")
    if raw.get("cycle_time_unit", "s") not in ("s", "min"):
        raise ValueError(f"{plant_id}: cycle_time_unit must be 's' or 'min'")
    return PlantConfig(plant_id=plant_id, **{**raw, "assets_per_line": assets_per_line})


def resolve_network_path(config_path_or_name: str | Path) -> Path:
    """A bare name (`ci`, `demo`) means this package's `networks/<name>.yaml`; anything else is a path."""
    candidate = Path(config_path_or_name)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate
    path = NETWORKS_DIR / f"{config_path_or_name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in NETWORKS_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"unknown network {config_path_or_name!r}; known: {known}, or pass a YAML path")
    return path


def load_network_config(config_path_or_name: str | Path, *, seed: int | None = None) -> NetworkConfig:
    """Load a network YAML; `seed` overrides the seed written in the file."""
    path = resolve_network_path(config_path_or_name)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    start = raw["start_date"]
    config = NetworkConfig(
        name=str(raw.get("name", path.stem)),
        seed=int(raw["seed"] if seed is None else seed),
        start_date=start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)),
        days=int(raw["days"]),
        sensor_interval_s=int(raw["sensor_interval_s"]),
        plants=tuple(_plant_config(plant_id, spec) for plant_id, spec in raw["plants"].items()),
    )
    if config.days < 1 or config.sensor_interval_s < 1:
        raise ValueError(f"{path}: days and sensor_interval_s must be positive")
    return config
