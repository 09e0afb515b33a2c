"""Plant profiles and machine-state mappings, read from the catalog.

A plant profile (`catalog/plants/<plant_id>.yaml`) says how a plant's systems emit their extracts: time zone, shift
pattern and, per source, the file dialect and the local column names. The simulator writes exactly that dialect;
ingestion can reuse these loaders to read it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"


@dataclass(frozen=True)
class ShiftDefinition:
    """One shift of a plant's daily pattern, in local wall-clock time."""

    code: str
    start: dt.time
    end: dt.time

    @property
    def crosses_midnight(self) -> bool:
        """A shift whose end is <= its start ends on the next day."""
        return self.end <= self.start

    def window_local(self, shift_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """Naive local start and end of this shift on the production day `shift_date`."""
        start = dt.datetime.combine(shift_date, self.start)
        end_date = shift_date + dt.timedelta(days=1) if self.crosses_midnight else shift_date
        return start, dt.datetime.combine(end_date, self.end)


@dataclass(frozen=True)
class TableDialect:
    """Where a table's file lands (glob) and how its contract columns are named locally (in file order)."""

    file_glob: str
    columns: Mapping[str, str]

    def file_name(self, stamp: str) -> str:
        """The file name for one extract: the glob's `*` replaced by `stamp`."""
        return self.file_glob.replace("*", stamp, 1)


@dataclass(frozen=True)
class ExtractDialect:
    """How one source system (`mes`, `erp`) of a plant writes its extracts."""

    format: str  # csv | jsonl
    encoding: str
    delimiter: str | None
    decimal: str
    timestamp_format: str | None
    date_format: str | None
    tables: Mapping[str, TableDialect]


@dataclass(frozen=True)
class PlantProfile:
    """Everything the catalog says about one plant."""

    plant_id: str
    name: str
    timezone: str
    shifts: tuple[ShiftDefinition, ...]
    extracts: Mapping[str, ExtractDialect]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def table(self, source: str, table: str) -> TableDialect:
        return self.extracts[source].tables[table]


@dataclass(frozen=True)
class StateMapping:
    """One governed row of `catalog/mappings/machine_states.yaml`, resolved to its ISO 22400 element."""

    plant_id: str
    local_code: str
    enterprise_state: str
    iso_element: str
    loss_category: str
    valid_from: dt.date


def _parse_clock(value: Any, where: str) -> dt.time:
    # Unquoted 06:00 is a sexagesimal integer in YAML 1.1; insist on strings so nobody gets 360 minutes silently.
    if not isinstance(value, str):
        raise TypeError(f"{where}: shift times must be quoted 'HH:MM' strings, got {value!r}")
    return dt.time.fromisoformat(value)


def _parse_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _parse_dialect(raw: Mapping[str, Any]) -> ExtractDialect:
    tables = {
        name: TableDialect(file_glob=spec["file"], columns=dict(spec["columns"]))
        for name, spec in raw["tables"].items()
    }
    fmt = raw["format"]
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown extract format {fmt!r}")
    return ExtractDialect(
        format=fmt,
        encoding=raw.get("encoding", "utf-8"),
        delimiter=raw.get("delimiter", "," if fmt == "csv" else None),
        decimal=raw.get("decimal", "."),
        timestamp_format=raw.get("timestamp_format"),
        date_format=raw.get("date_format"),
        tables=tables,
    )


def load_plant_profile(path: Path) -> PlantProfile:
    """Load one plant profile YAML file."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    shifts = tuple(
        ShiftDefinition(
            code=str(shift["code"]),
            start=_parse_clock(shift["start"], f"{path}: shift {shift['code']}"),
            end=_parse_clock(shift["end"], f"{path}: shift {shift['code']}"),
        )
        for shift in raw["shifts"]
    )
    if len({shift.code for shift in shifts}) != len(shifts):
        raise ValueError(f"{path}: shift codes must be unique")
    profile = PlantProfile(
        plant_id=raw["plant_id"],
        name=raw["name"],
        timezone=raw["timezone"],
        shifts=shifts,
        extracts={source: _parse_dialect(spec) for source, spec in raw["extracts"].items()},
    )
    if Path(path).stem != profile.plant_id:
        raise ValueError(f"{path}: file name must be <plant_id>.yaml, found plant_id {profile.plant_id!r}")
    return profile


def load_plant_profiles(catalog_dir: Path | None = None) -> dict[str, PlantProfile]:
    """All plant profiles in `<catalog_dir>/plants/`, keyed by plant id (sorted)."""
    plants_dir = Path(catalog_dir or DEFAULT_CATALOG_DIR) / "plants"
    profiles = [load_plant_profile(path) for path in sorted(plants_dir.glob("*.yaml"))]
    if not profiles:
        raise FileNotFoundError(f"no plant profiles in {plants_dir}")
    return {profile.plant_id: profile for profile in profiles}


def load_state_mappings(catalog_dir: Path | None = None) -> list[StateMapping]:
    """Every row of the governed machine-state mapping, with its enterprise state resolved to the ISO element."""
    path = Path(catalog_dir or DEFAULT_CATALOG_DIR) / "mappings" / "machine_states.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    states = raw["enterprise_states"]
    mappings = []
    for row in raw["mappings"]:
        state = states[row["enterprise_state"]]
        mappings.append(
            StateMapping(
                plant_id=row["plant_id"],
                local_code=str(row["local_code"]),
                enterprise_state=row["enterprise_state"],
                iso_element=state["iso_element"],
                loss_category=state["loss_category"],
                valid_from=_parse_date(row["valid_from"]),
            )
        )
    return mappings


def resolve_state_codes(
    mappings: list[StateMapping], plant_id: str, first_day: dt.date, last_day: dt.date
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
