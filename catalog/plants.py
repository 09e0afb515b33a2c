"""Plant profiles: time zone, shift pattern and the dialect of each plant's extracts (catalog/plants/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from catalog import CATALOG_DIR


@dataclass(frozen=True)
class ExtractDialect:
    """How one plant writes one table of one source system."""

    plant_id: str
    source: str
    table: str
    format: str  # csv | jsonl
    file_glob: str
    columns: dict[str, str]  # contract column -> local column name
    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    date_format: str = "%Y-%m-%d"


@dataclass(frozen=True)
class PlantProfile:
    plant_id: str
    name: str
    timezone: str
    shifts: tuple[dict[str, str], ...]
    dialects: dict[tuple[str, str], ExtractDialect]  # (source, table) -> dialect
    raw: dict[str, Any]


def parse_plant(file: Path) -> PlantProfile:
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    dialects = {}
    for source, spec in raw.get("extracts", {}).items():
        common = {k: v for k, v in spec.items() if k not in ("tables", "format")}
        for table, tspec in spec["tables"].items():
            dialects[(source, table)] = ExtractDialect(
                plant_id=raw["plant_id"],
                source=source,
                table=table,
                format=spec["format"],
                file_glob=tspec["file"],
                columns=dict(tspec["columns"]),
                **common,
            )
    return PlantProfile(
        plant_id=raw["plant_id"],
        name=raw["name"],
        timezone=raw["timezone"],
        shifts=tuple(raw.get("shifts", [])),
        dialects=dialects,
        raw=raw,
    )


@cache
def load_plants(directory: Path = CATALOG_DIR / "plants") -> dict[str, PlantProfile]:
    """Plant profiles by plant id."""
    return {p.plant_id: p for p in (parse_plant(f) for f in sorted(directory.glob("*.yaml")))}
