"""Network configuration: which plants to simulate, for how long, how densely, and which faults to inject.

A network is a small YAML file (`networks/<name>.yaml` in this package, or any path). The plants' time zones, shift
patterns, holidays, units and extract dialects are not repeated here: they come from the catalog's plant profiles.
A network plant may clone a catalog plant under a new id (`profile: DE-STR`), which is how `bench` gets 12 plants.

    name: ci
    seed: 20260601
    start_date: "2026-10-24"      # first production day (local)
    days: 3
    sensor_interval_s: 300
    sensor_days: 3                # optional: sensors only for the first N days (bench: 30 of 365)
    plants:
      DE-STR: {assets_per_line: [2, 2], language: de, ...}
    faults: {duplicate_messages: 0.01, ...}   # optional, all off by default (faults.FaultConfig)
    public: [supplier_quality, steel_energy, mes_sample]   # optional: the public datasets as plants
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

NETWORKS_DIR = Path(__file__).resolve().parent / "networks"
PUBLIC_DATASETS = ("supplier_quality", "steel_energy", "mes_sample")


@dataclass(frozen=True)
class PlantConfig:
    """Shape and local naming conventions of one simulated plant."""

    plant_id: str
    assets_per_line: tuple[int, ...]
    profile: str | None = None  # catalog plant whose dialect and calendar this plant uses (default: plant_id)
    name: str | None = None  # plant name when cloned (default: the catalog plant's name)
    language: str = "en"
    materials: int = 5
    employees_per_asset: float = 1.5  # per shift crew
    line_id_format: str = "L{line}"
    asset_id_format: str = "{line_id}-M{asset:02d}"
    material_id_format: str = "M{n:05d}"
    order_id_format: str = "WO{n:06d}"
    shipment_id_format: str = "SH{n:07d}"
    employee_id_format: str = "E{n:05d}"
    incident_id_format: str = "INC-{n:05d}"
    price_unit: int = 1  # pieces the ERP's standard cost refers to (SAP plants often price per 100)

    @property
    def catalog_plant(self) -> str:
        return self.profile or self.plant_id


@dataclass(frozen=True)
class FaultConfig:
    """Fault-injection knobs; every one is off by default and every injected fault is written to the ledger."""

    duplicate_messages: float = 0.0  # share of sensor readings published twice in a row
    redelivered_batches: int = 0  # batches of `redelivery_batch` readings published again right after themselves
    redelivery_batch: int = 200
    late_readings: float = 0.0  # share of readings published `late_delay_s` of stream time after their peers
    late_delay_s: int = 3600
    out_of_order: float = 0.0  # share of readings swapped with the reading after them
    future_timestamps: int = 0  # readings whose gateway clock jumps 10 years ahead
    clock_skew: tuple[dict[str, Any], ...] = ()  # [{plant_id, asset_local_id, offset_s}]: a gateway clock off
    unmapped_codes: int = 0  # machine-state events written with a code missing from the governed mapping
    malformed_rows: int = 0  # production-count rows with a value that cannot be typed (per plant)
    malformed_files: int = 0  # extract files cut off and ending in bytes invalid in the file's encoding
    schema_drift: tuple[dict[str, Any], ...] = ()  # [{plant_id, source, table, kind: rename | add, column}]
    missing_shifts: int = 0  # shifts left out of the shift calendar and the production counts (per plant)

    @property
    def stream_faults(self) -> bool:
        return bool(
            self.duplicate_messages
            or self.redelivered_batches
            or self.late_readings
            or self.out_of_order
            or self.future_timestamps
            or self.clock_skew
        )

    @property
    def any(self) -> bool:
        return self != FaultConfig()


@dataclass(frozen=True)
class NetworkConfig:
    """A whole simulated network: period, sensor cadence, seed, plants, faults and public datasets."""

    name: str
    seed: int
    start_date: dt.date
    days: int
    sensor_interval_s: int
    plants: tuple[PlantConfig, ...]
    sensor_days: int | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    public: tuple[str, ...] = ()

    @property
    def production_days(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=offset) for offset in range(self.days)]

    @property
    def sensor_window_days(self) -> int | None:
        """Days of sensor readings from each plant's first shift; None: the plant's whole period."""
        return None if self.sensor_days is None or self.sensor_days >= self.days else self.sensor_days


_PLANT_KEYS = {f.name for f in fields(PlantConfig)} - {"plant_id"}
_FAULT_KEYS = {f.name for f in fields(FaultConfig)}


def _plant_config(plant_id: str, raw: dict[str, Any]) -> PlantConfig:
    unknown = set(raw) - _PLANT_KEYS
    if unknown:
        raise ValueError(f"{plant_id}: unknown network settings {sorted(unknown)}")
    assets_per_line = tuple(int(count) for count in raw["assets_per_line"])
    if not assets_per_line or min(assets_per_line) < 1:
        raise ValueError(f"{plant_id}: assets_per_line needs at least one line with at least one asset")
    return PlantConfig(plant_id=plant_id, **{**raw, "assets_per_line": assets_per_line})


def _fault_config(raw: dict[str, Any] | None) -> FaultConfig:
    raw = raw or {}
    unknown = set(raw) - _FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault knobs {sorted(unknown)}; known: {sorted(_FAULT_KEYS)}")
    values = {
        key: tuple(dict(item) for item in value) if key in ("clock_skew", "schema_drift") else value
        for key, value in raw.items()
    }
    config = FaultConfig(**values)
    for share in ("duplicate_messages", "late_readings", "out_of_order"):
        if not 0 <= getattr(config, share) <= 0.5:
            raise ValueError(f"fault {share} is a share of readings between 0 and 0.5")
    for drift in config.schema_drift:
        if drift.get("kind") not in ("rename", "add"):
            raise ValueError(f"schema_drift {drift}: kind must be 'rename' or 'add'")
    return config


def resolve_network_path(config_path_or_name: str | Path) -> Path:
    """A bare name (`ci`, `demo`, `bench`, `public`) means this package's `networks/<name>.yaml`; else a path."""
    candidate = Path(config_path_or_name)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    packaged = NETWORKS_DIR / f"{config_path_or_name}.yaml"
    if packaged.is_file():
        return packaged
    if candidate.is_file():
        return candidate
    known = sorted(p.stem for p in NETWORKS_DIR.glob("*.yaml"))
    raise FileNotFoundError(f"unknown network {config_path_or_name!r}; known: {known}, or pass a YAML path")


def parse_network_config(raw: dict[str, Any], *, default_name: str, seed: int | None = None) -> NetworkConfig:
    """A network from its YAML document; `seed` overrides the seed written in it."""
    start = raw["start_date"]
    public = tuple(raw.get("public", ()))
    unknown = [name for name in public if name not in PUBLIC_DATASETS]
    if unknown:
        raise ValueError(f"unknown public datasets {unknown}; known: {list(PUBLIC_DATASETS)}")
    config = NetworkConfig(
        name=str(raw.get("name", default_name)),
        seed=int(raw["seed"] if seed is None else seed),
        start_date=start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)),
        days=int(raw["days"]),
        sensor_interval_s=int(raw["sensor_interval_s"]),
        plants=tuple(_plant_config(plant_id, spec) for plant_id, spec in (raw.get("plants") or {}).items()),
        sensor_days=None if raw.get("sensor_days") is None else int(raw["sensor_days"]),
        faults=_fault_config(raw.get("faults")),
        public=public,
    )
    if config.days < 1 or config.sensor_interval_s < 1:
        raise ValueError(f"{config.name}: days and sensor_interval_s must be positive")
    if not config.plants and not config.public:
        raise ValueError(f"{config.name}: a network needs simulated plants or public datasets")
    return config


def load_network_config(config_path_or_name: str | Path, *, seed: int | None = None) -> NetworkConfig:
    """Load a network YAML; `seed` overrides the seed written in the file."""
    path = resolve_network_path(config_path_or_name)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return parse_network_config(raw, default_name=path.stem, seed=seed)
