"""Master-data mappings (plant-local code -> enterprise) and the queue of codes the plants send that none maps.

The mappings live in ``catalog/mappings/*.yaml``, one file per kind of code. Every entry is effective-dated: it
applies from ``valid_from`` (the day of the observation: plant-local for ``*_local`` times, UTC otherwise) until a
later entry for the same plant and code, so a change applies from a date without rewriting history. Kinds whose
codes are not plant-specific (plants, units) have entries without ``plant_id`` that apply to every plant.

Unmapped codes never vanish: ``unmapped_queue`` reads the bronze Delta tables and returns, per plant, every code
without a mapping in force with its row count and first and last sighting, plus the unmapped share per plant and
kind (a governed quality metric). ``draft_entries`` turns queued codes into mapping entries to complete and propose
(``northstar catalog unmapped --draft``, then ``northstar catalog propose mapping:<file>``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from catalog import CATALOG_DIR

MAPPINGS_DIR = CATALOG_DIR / "mappings"

# Entries without valid_from (units.yaml predates effective dating) apply since always.
SINCE_ALWAYS = dt.date(1900, 1, 1)


class MappingError(ValueError):
    """A mapping file is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class MappingKind:
    """One kind of plant-local code and the file that maps it."""

    kind: str
    file: str  # in catalog/mappings/
    local_field: str  # field of an entry holding the local code
    targets: tuple[str, ...]  # fields every entry must set (the enterprise side)
    plant_scope: str  # "required" (codes are per plant) or "none" (one entry for every plant)
    list_keys: tuple[str, ...] = ("mappings",)  # sections of the file holding entries
    # a dictionary section of the file naming the allowed values of one target field, e.g. enterprise_states
    vocabulary: tuple[str, str] | None = None


# The kinds of code Northstar maps, read in each file's own format (machine_states.yaml, units.yaml and
# sensor_tags.yaml predate this module and keep theirs; entries without valid_from apply since always).
MAPPING_KINDS: dict[str, MappingKind] = {
    k.kind: k
    for k in (
        MappingKind(
            "plant",
            "plants.yaml",
            "local_code",
            ("enterprise_plant_id", "region"),
            "none",
            vocabulary=("region", "enterprise_regions"),
        ),
        MappingKind("line", "lines.yaml", "local_code", ("enterprise_line_id",), "required"),
        MappingKind(
            "asset",
            "assets.yaml",
            "local_code",
            ("enterprise_asset_id", "asset_class"),
            "required",
            vocabulary=("asset_class", "enterprise_asset_classes"),
        ),
        MappingKind(
            "material",
            "materials.yaml",
            "local_code",
            ("enterprise_material_id", "material_group"),
            "required",
            vocabulary=("material_group", "enterprise_material_groups"),
        ),
        MappingKind(
            "machine_state",
            "machine_states.yaml",
            "local_code",
            ("enterprise_state",),
            "required",
            vocabulary=("enterprise_state", "enterprise_states"),
        ),
        MappingKind(
            "unit",
            "units.yaml",
            "from_unit",
            ("to_unit", "factor"),
            "none",
            list_keys=("conversions", "affine_conversions"),
        ),
        MappingKind(
            "sensor_tag",
            "sensor_tags.yaml",
            "local_tag",
            ("enterprise_tag",),
            "required",
            vocabulary=("enterprise_tag", "enterprise_tags"),
        ),
    )
}


@dataclass(frozen=True)
class CodeSource:
    """Where bronze carries a code of one kind: contract, column, and the time that dates the observation."""

    kind: str
    contract_id: str
    column: str
    seen_at: str

    @property
    def name(self) -> str:
        return f"{self.contract_id}.{self.column}"


# Which bronze column carries which kind of code (tests check each column exists in its contract). The time column
# dates an observation for effective dating: the event time where the row has one, else the ingestion time.
CODE_SOURCES: tuple[CodeSource, ...] = (
    CodeSource("plant", "bronze.mes.shift_calendar", "plant_id", "started_at_local"),
    CodeSource("plant", "bronze.sensor.readings", "plant_id", "reading_at"),
    CodeSource("line", "bronze.mes.assets", "line_local_id", "ingested_at"),
    CodeSource("asset", "bronze.mes.assets", "asset_local_id", "ingested_at"),
    CodeSource("asset", "bronze.mes.machine_states", "asset_local_id", "started_at_local"),
    CodeSource("asset", "bronze.mes.production_counts", "asset_local_id", "interval_start_local"),
    CodeSource("asset", "bronze.sensor.readings", "asset_local_id", "reading_at"),
    CodeSource("material", "bronze.erp.materials", "material_local_id", "ingested_at"),
    CodeSource("material", "bronze.mes.production_counts", "material_local_id", "interval_start_local"),
    CodeSource("machine_state", "bronze.mes.machine_states", "state_local_code", "started_at_local"),
    CodeSource("unit", "bronze.erp.materials", "ideal_cycle_time_unit", "ingested_at"),
    CodeSource("sensor_tag", "bronze.sensor.readings", "tag", "reading_at"),
)


@dataclass(frozen=True)
class MappingEntry:
    kind: str
    plant_id: str | None  # None: every plant
    local_code: str
    valid_from: dt.date
    target: dict[str, Any] = field(compare=False)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise MappingError(f"{where}: valid_from {value!r} is not a date (YYYY-MM-DD)") from None


def parse_mapping_file(kind: MappingKind, path: Path) -> list[MappingEntry]:
    """The entries of one mapping file, validated: required fields, dates, vocabulary, no duplicate versions."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    seen: set[tuple[str | None, str, dt.date]] = set()
    allowed = None
    if kind.vocabulary:
        allowed = set(document.get(kind.vocabulary[1]) or {})
    raw_entries = [(key, i, raw) for key in kind.list_keys for i, raw in enumerate(document.get(key) or [])]
    for key, i, raw in raw_entries:
        where = f"{path}: {key}[{i}]"
        missing = [f for f in (kind.local_field, *kind.targets) if raw.get(f) is None]
        if missing:
            raise MappingError(f"{where}: missing {', '.join(missing)}")
        plant_id = raw.get("plant_id")
        if kind.plant_scope == "required" and not plant_id:
            raise MappingError(f"{where}: missing plant_id")
        if kind.plant_scope == "none" and plant_id:
            raise MappingError(f"{where}: {kind.kind} mappings apply to every plant; remove plant_id")
        if "factor" in kind.targets and not (isinstance(raw["factor"], int | float) and raw["factor"] > 0):
            raise MappingError(f"{where}: factor must be a positive number")
        if allowed is not None and raw[kind.vocabulary[0]] not in allowed:
            raise MappingError(
                f"{where}: {kind.vocabulary[0]} {raw[kind.vocabulary[0]]!r} is not in {kind.vocabulary[1]}"
            )
        valid_from = _date(raw["valid_from"], where) if "valid_from" in raw else SINCE_ALWAYS
        entry = MappingEntry(
            kind=kind.kind,
            plant_id=str(plant_id) if plant_id else None,
            local_code=str(raw[kind.local_field]),
            valid_from=valid_from,
            target={f: raw[f] for f in kind.targets},
        )
        identity = (entry.plant_id, entry.local_code, entry.valid_from)
        if identity in seen:
            raise MappingError(f"{where}: a second entry for {identity[:2]} valid from {valid_from}")
        seen.add(identity)
        entries.append(entry)
    return entries


@cache
def load_mappings(directory: Path = MAPPINGS_DIR) -> dict[str, tuple[MappingEntry, ...]]:
    """Every mapping entry by kind; a kind whose file does not exist has no entries."""
    mappings = {}
    for kind in MAPPING_KINDS.values():
        path = directory / kind.file
        mappings[kind.kind] = tuple(parse_mapping_file(kind, path)) if path.is_file() else ()
    return mappings


def resolve(
    kind: str, plant_id: str, local_code: str, on: dt.date, *, directory: Path = MAPPINGS_DIR
) -> MappingEntry | None:
    """The entry in force for a plant's code on a day: the latest ``valid_from`` on or before it. None when the
    code is unmapped on that day."""
    candidates = [
        e
        for e in load_mappings(directory)[kind]
        if e.local_code == local_code and e.valid_from <= on and e.plant_id in (plant_id, None)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda e: e.valid_from)


# --- the unmapped queue ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnmappedCode:
    """A plant-local code seen in bronze with no mapping in force when it was seen."""

    kind: str
    plant_id: str
    local_code: str
    source: str  # contract.column it was seen in
    rows: int
    first_seen: dt.datetime
    last_seen: dt.datetime

    @property
    def mapping_file(self) -> str:
        return f"catalog/mappings/{MAPPING_KINDS[self.kind].file}"


@dataclass(frozen=True)
class MappingCoverage:
    """How many rows of one source column carried codes without a mapping, for one plant."""

    plant_id: str
    kind: str
    source: str
    rows: int
    unmapped_rows: int

    @property
    def unmapped_share(self) -> float:
        return self.unmapped_rows / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class UnmappedQueue:
    codes: tuple[UnmappedCode, ...]
    coverage: tuple[MappingCoverage, ...]
    missing_tables: tuple[str, ...]  # bronze tables not written yet (nothing to check)


def _mapping_rows(mappings: dict[str, tuple[MappingEntry, ...]]) -> list[tuple[str, str | None, str, dt.date]]:
    return [(e.kind, e.plant_id, e.local_code, e.valid_from) for entries in mappings.values() for e in entries]


def unmapped_queue(
    data_root: Path | str,
    *,
    mappings_dir: Path = MAPPINGS_DIR,
    kinds: set[str] | None = None,
) -> UnmappedQueue:
    """Scan the bronze Delta tables under ``data_root`` for codes without a mapping in force when seen.

    Every row is dated by its source's time column; a row counts as mapped when an entry for its plant (or for all
    plants) and code has ``valid_from`` on or before that day. Reads through DuckDB's delta extension.
    """
    import duckdb

    from catalog.contracts import get_contract
    from catalog.render import delta_extension_path

    mappings = load_mappings(mappings_dir)
    codes: list[UnmappedCode] = []
    coverage: list[MappingCoverage] = []
    missing: list[str] = []
    with duckdb.connect() as connection:
        # Observations in UTC are dated by their UTC day; *_local times are naive and dated as they are.
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"load '{delta_extension_path()}'")
        connection.execute(
            "create temporary table mappings (kind varchar, plant_id varchar, local_code varchar, valid_from date)"
        )
        connection.executemany("insert into mappings values (?, ?, ?, ?)", _mapping_rows(mappings))
        for source in CODE_SOURCES:
            if kinds and source.kind not in kinds:
                continue
            contract = get_contract(source.contract_id)
            table = Path(data_root) / contract.path
            if not (table / "_delta_log").is_dir():
                if str(contract.path) not in missing:
                    missing.append(str(contract.path))
                continue
            # Identifiers come from the catalog (contract columns), never from user input; the path is quoted.
            location = str(table).replace("'", "''")
            rows = connection.execute(
                f"""
                with observed as (
                    select plant_id, cast({source.column} as varchar) as local_code, {source.seen_at} as seen_at
                    from delta_scan('{location}')
                    where {source.column} is not null
                ),
                marked as (
                    select
                        *,
                        not exists (
                            select 1 from mappings
                            where mappings.kind = ?
                                and mappings.local_code = observed.local_code
                                and (mappings.plant_id is null or mappings.plant_id = observed.plant_id)
                                and mappings.valid_from <= cast(observed.seen_at as date)
                        ) as is_unmapped
                    from observed
                )
                select
                    plant_id,
                    local_code,
                    count(*) as row_count,
                    count(*) filter (where is_unmapped) as unmapped_count,
                    min(seen_at) filter (where is_unmapped) as first_seen,
                    max(seen_at) filter (where is_unmapped) as last_seen
                from marked
                group by plant_id, local_code
                order by plant_id, local_code
                """,
                [source.kind],
            ).fetchall()
            per_plant: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for plant_id, local_code, row_count, unmapped_count, first_seen, last_seen in rows:
                per_plant[plant_id][0] += row_count
                per_plant[plant_id][1] += unmapped_count
                if unmapped_count:
                    codes.append(
                        UnmappedCode(
                            source.kind, plant_id, local_code, source.name, unmapped_count, first_seen, last_seen
                        )
                    )
            coverage += [
                MappingCoverage(plant_id, source.kind, source.name, total, unmapped)
                for plant_id, (total, unmapped) in sorted(per_plant.items())
            ]
    return UnmappedQueue(tuple(codes), tuple(coverage), tuple(missing))


def draft_entries(codes: list[UnmappedCode] | tuple[UnmappedCode, ...]) -> dict[str, list[str]]:
    """Mapping entries to complete for queued codes, by mapping file: enterprise fields left empty (null), valid from
    the first day the code was seen so that its whole history is mapped once the proposal is approved."""
    drafts: dict[str, list[str]] = defaultdict(list)
    done: set[tuple[str, str | None, str]] = set()
    for code in sorted(codes, key=lambda c: (c.kind, c.plant_id, c.local_code, c.first_seen)):
        kind = MAPPING_KINDS[code.kind]
        plant = None if kind.plant_scope == "none" else code.plant_id
        if (code.kind, plant, code.local_code) in done:
            continue
        done.add((code.kind, plant, code.local_code))
        fields = {"plant_id": plant} if plant else {}
        fields[kind.local_field] = code.local_code
        fields.update({target: None for target in kind.targets})
        fields["valid_from"] = code.first_seen.date().isoformat()
        drafts[code.mapping_file].append(
            "  - "
            + yaml.safe_dump(fields, default_flow_style=True, sort_keys=False, allow_unicode=True, width=1000).strip()
        )
    return dict(drafts)
