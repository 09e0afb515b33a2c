"""The simulator's view of the catalog: plant profiles and the governed mappings it must write codes for.

One loader for the extract dialects: `catalog.plants.parse_plant` (the module ingestion reads extracts with) parses
every `catalog/plants/<plant_id>.yaml`; this module adds only what the simulator alone needs from the same file
(shift pattern by weekday, holidays, units, currency) and reads the governed mappings under `catalog/mappings/`
(machine states, incident types, sensor tags, plant names, local OEE formulas). So the simulator writes exactly the
dialect ingestion reads, by construction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from catalog import CATALOG_DIR
from catalog.plants import ExtractDialect, parse_plant
from catalog.plants import PlantProfile as CatalogPlant

# The catalog the loaders read by default: the one every catalog module reads (NORTHSTAR_CATALOG_ROOT, else the
# package directory; catalog/__init__.py), so a relocated catalog moves the simulator with the rest.
DEFAULT_CATALOG_DIR = CATALOG_DIR
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXTRACT_FORMATS = ("csv", "jsonl", "xlsx")


@dataclass(frozen=True)
class ShiftDefinition:
    """One shift of a plant's weekly pattern, in local wall-clock time."""

    code: str
    start: dt.time
    end: dt.time
    weekdays: frozenset[int] = frozenset(range(7))  # 0 = Monday; the weekday on which the shift starts

    @property
    def crosses_midnight(self) -> bool:
        """A shift whose end is <= its start ends on the next day."""
        return self.end <= self.start

    def runs_on(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays

    def window_local(self, shift_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """Naive local start and end of this shift on the production day `shift_date`."""
        start = dt.datetime.combine(shift_date, self.start)
        end_date = shift_date + dt.timedelta(days=1) if self.crosses_midnight else shift_date
        return start, dt.datetime.combine(end_date, self.end)


@dataclass(frozen=True)
class PlantUnits:
    """The units a plant's systems report in (`catalog/plants/<id>.yaml: units`)."""

    cycle_time: str = "s"  # s | min
    mass: str = "kg"  # kg | lb
    temperature: str = "degC"  # degC | degF
    working_time: str = "h"  # h | min


@dataclass(frozen=True)
class PlantProfile:
    """Everything the catalog says about one plant that the simulator uses."""

    plant_id: str
    name: str
    timezone: str
    shifts: tuple[ShiftDefinition, ...]
    holidays: Mapping[dt.date, str]
    units: PlantUnits
    currency: str
    catalog: CatalogPlant = field(repr=False)  # the dialects, exactly as ingestion parses them

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def dialect(self, source: str, table: str) -> ExtractDialect:
        return self.catalog.dialects[(source, table)]

    def has_table(self, source: str, table: str) -> bool:
        return (source, table) in self.catalog.dialects

    def derived(self, plant_id: str, name: str) -> PlantProfile:
        """The same dialect, calendar and units under another plant id (bench networks clone catalog plants)."""
        dialects = {
            key: ExtractDialect(**{**dialect.__dict__, "plant_id": plant_id})
            for key, dialect in self.catalog.dialects.items()
        }
        raw = {**self.catalog.raw, "plant_id": plant_id, "name": name}
        catalog = CatalogPlant(plant_id, name, self.timezone, self.catalog.shifts, dialects, raw)
        return PlantProfile(plant_id, name, self.timezone, self.shifts, self.holidays, self.units, self.currency, catalog)


@dataclass(frozen=True)
class StateMapping:
    """One governed row of `catalog/mappings/machine_states.yaml`, resolved to its ISO 22400 element."""

    plant_id: str
    local_code: str
    enterprise_state: str
    iso_element: str
    loss_category: str
    valid_from: dt.date


@dataclass(frozen=True)
class LocalOeeFormula:
    """How a plant computes and reports its own OEE (`catalog/mappings/local_oee_formulas.yaml`)."""

    plant_id: str
    formula: str
    unit: str  # percent | ratio
    decimals: int


@dataclass(frozen=True)
class Mappings:
    """The governed mappings the simulator writes local codes from."""

    machine_states: tuple[StateMapping, ...]
    incident_types: Mapping[str, Mapping[str, str]]  # plant -> enterprise type -> local type
    sensor_tags: Mapping[str, Mapping[str, tuple[str, str]]]  # plant -> enterprise tag -> (local tag, unit)
    plant_names: Mapping[str, tuple[str, ...]]  # plant -> the names it writes for itself
    local_oee: Mapping[str, LocalOeeFormula]


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _parse_clock(value: Any, where: str) -> dt.time:
    # Unquoted 06:00 is a sexagesimal integer in YAML 1.1; insist on strings so nobody gets 360 minutes silently.
    if not isinstance(value, str):
        raise TypeError(f"{where}: shift times must be quoted 'HH:MM' strings, got {value!r}")
    return dt.time.fromisoformat(value)


def _parse_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _parse_shift(raw: Mapping[str, Any], where: str) -> ShiftDefinition:
    days = raw.get("days", WEEKDAYS)
    unknown = [day for day in days if day not in WEEKDAYS]
    if unknown or not days:
        raise ValueError(f"{where}: shift {raw['code']}: days must be a non-empty list of {WEEKDAYS}, got {days}")
    return ShiftDefinition(
        code=str(raw["code"]),
        start=_parse_clock(raw["start"], f"{where}: shift {raw['code']}"),
        end=_parse_clock(raw["end"], f"{where}: shift {raw['code']}"),
        weekdays=frozenset(WEEKDAYS.index(day) for day in days),
    )


def load_plant_profile(path: Path) -> PlantProfile:
    """One plant profile: the dialects through `catalog.plants.parse_plant`, the rest parsed here."""
    path = Path(path)
    catalog = parse_plant(path)
    raw = catalog.raw
    if path.stem != catalog.plant_id:
        raise ValueError(f"{path}: file name must be <plant_id>.yaml, found plant_id {catalog.plant_id!r}")
    shifts = tuple(_parse_shift(shift, str(path)) for shift in raw.get("shifts", []))
    if len({shift.code for shift in shifts}) != len(shifts):
        raise ValueError(f"{path}: shift codes must be unique")
    for (source, table), dialect in catalog.dialects.items():
        if dialect.format not in EXTRACT_FORMATS:
            raise ValueError(f"{path}: {source}.{table}: unknown extract format {dialect.format!r}")
    holidays = {_parse_date(entry["date"]): str(entry["name"]) for entry in raw.get("holidays", [])}
    return PlantProfile(
        plant_id=catalog.plant_id,
        name=catalog.name,
        timezone=catalog.timezone,
        shifts=shifts,
        holidays=holidays,
        units=PlantUnits(**raw.get("units", {})),
        currency=str(raw.get("currency", "USD")),
        catalog=catalog,
    )


def load_plant_profiles(catalog_dir: Path | None = None) -> dict[str, PlantProfile]:
    """All plant profiles in `<catalog_dir>/plants/`, keyed by plant id (sorted)."""
    plants_dir = Path(catalog_dir or DEFAULT_CATALOG_DIR) / "plants"
    profiles = [load_plant_profile(path) for path in sorted(plants_dir.glob("*.yaml"))]
    if not profiles:
        raise FileNotFoundError(f"no plant profiles in {plants_dir}")
    return {profile.plant_id: profile for profile in profiles}


def load_state_mappings(catalog_dir: Path | None = None) -> list[StateMapping]:
    """Every row of the governed machine-state mapping, with its enterprise state resolved to the ISO element."""
    raw = _load_yaml(Path(catalog_dir or DEFAULT_CATALOG_DIR) / "mappings" / "machine_states.yaml")
    states = raw["enterprise_states"]
    return [
        StateMapping(
            plant_id=row["plant_id"],
            local_code=str(row["local_code"]),
            enterprise_state=row["enterprise_state"],
            iso_element=states[row["enterprise_state"]]["iso_element"],
            loss_category=states[row["enterprise_state"]]["loss_category"],
            valid_from=_parse_date(row["valid_from"]),
        )
        for row in raw["mappings"]
    ]


def load_mappings(catalog_dir: Path | None = None) -> Mappings:
    """The machine-state, incident-type, sensor-tag, plant-name and local-OEE mappings of the catalog."""
    mappings_dir = Path(catalog_dir or DEFAULT_CATALOG_DIR) / "mappings"
    incidents: dict[str, dict[str, str]] = {}
    for row in _load_yaml(mappings_dir / "incident_types.yaml")["mappings"]:
        incidents.setdefault(row["plant_id"], {}).setdefault(row["enterprise_type"], str(row["local_type"]))
    tags: dict[str, dict[str, tuple[str, str]]] = {}
    for row in _load_yaml(mappings_dir / "sensor_tags.yaml")["mappings"]:
        tags.setdefault(row["plant_id"], {})[row["enterprise_tag"]] = (str(row["local_tag"]), str(row["unit"]))
    names: dict[str, list[str]] = {}
    for row in _load_yaml(mappings_dir / "plant_names.yaml")["mappings"]:
        if row["source_plant_id"] == row["enterprise_plant_id"]:
            names.setdefault(row["source_plant_id"], []).append(str(row["local_name"]))
    formulas = _load_yaml(mappings_dir / "local_oee_formulas.yaml")
    local_oee = {}
    for plant_id, spec in formulas["plants"].items():
        if spec["formula"] not in formulas["formulas"]:
            raise ValueError(f"local_oee_formulas.yaml: {plant_id} names unknown formula {spec['formula']!r}")
        if spec["unit"] not in ("percent", "ratio"):
            raise ValueError(f"local_oee_formulas.yaml: {plant_id}: unit must be percent or ratio")
        local_oee[plant_id] = LocalOeeFormula(plant_id, spec["formula"], spec["unit"], int(spec["decimals"]))
    return Mappings(
        machine_states=tuple(load_state_mappings(catalog_dir)),
        incident_types=incidents,
        sensor_tags=tags,
        plant_names={plant: tuple(values) for plant, values in names.items()},
        local_oee=local_oee,
    )


def resolve_state_codes(
    mappings: tuple[StateMapping, ...] | list[StateMapping], plant_id: str, first_day: dt.date, last_day: dt.date
) -> list[StateMapping]:
    """The plant's mapping rows in force from `first_day` to `last_day` (one per local code, in catalog order).

    A mapping that changes inside the period would make the truth depend on the date rule the pipeline applies, so
    such periods are refused rather than guessed.
    """
    rows = [row for row in mappings if row.plant_id == plant_id]
    changing = [row for row in rows if first_day < row.valid_from <= last_day]
    if changing:
        raise NotImplementedError(
            f"{plant_id}: state mapping changes inside the simulated period ({changing[0].local_code!r} from "
            f"{changing[0].valid_from}); simulate a period on one side of the change"
        )
    in_force: dict[str, StateMapping] = {}
    for row in rows:
        if row.valid_from <= first_day and (
            row.local_code not in in_force or row.valid_from >= in_force[row.local_code].valid_from
        ):
            in_force[row.local_code] = row
    if not in_force:
        raise ValueError(f"{plant_id}: no machine-state mapping in force on {first_day}")
    return list(in_force.values())
