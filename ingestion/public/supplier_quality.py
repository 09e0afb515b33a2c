"""The public supplier-quality sample as the ERP quality extract of 24 plants (landing folder PUB-SQA).

The sample is a star schema (`Metrics.csv` fact, dimension tables for plant, vendor, material type, defect, defect
type and sub category). The corporate quality system's export is flat, so the adapter resolves each id to its name
in the sample's own dimension and writes one CSV in the PUB-SQA dialect (catalog/plants/PUB-SQA.yaml): one row per
fact row, in the fact's order (landing line n = fact line n), duplicates included. Plant names stay exactly as the
sample spells them; they are resolved to enterprise plants in dbt through catalog/mappings/plant_names.yaml.

Quirks, counted in the quirk report:
- ids are floats (`10.0`): written as integers (`10`) after checking they are whole;
- exact duplicate fact rows: kept (bronze holds what arrived), counted per enterprise plant and year in the truth;
- defect names reused under several ids: kept with their id;
- inconsistent plant names ("Milwaukee, Wi", "Cincinnati OH", "Detriot, MI"): resolved by the governed mapping.

Truth (`public_supplier_quality.parquet`): per enterprise plant and year, the rows, the duplicate rows, and the
defect quantity and downtime minutes with and without the duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from catalog.plants import ExtractDialect
from ingestion.simulator.extracts import write_extract
from ingestion.simulator.landing import ExtractFile, LandingWriter

from .quirks import QuirkReport

DATASET = "supplier_quality"
PLANT_ID = "PUB-SQA"
TRUTH_SCHEMA = pa.schema(
    [
        ("enterprise_plant_id", pa.string()),
        ("plant_name", pa.string()),
        ("year", pa.int32()),
        ("rows", pa.int64()),
        ("duplicate_rows", pa.int64()),  # rows identical in every column to an earlier row
        ("defect_qty", pa.int64()),  # duplicates removed
        ("downtime_min", pa.float64()),
        ("defect_qty_with_duplicates", pa.int64()),
        ("downtime_min_with_duplicates", pa.float64()),
    ]
)
_FACT_IDS = ("Sub Category ID", "Plant ID", "Vendor ID", "Material ID", "Defect Type ID", "Material Type ID", "Defect ID")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _whole(text: str, where: str) -> str:
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"{where}: id {text!r} is not a whole number")
    return str(int(value))


def _dimension(path: Path, id_column: str, name_column: str) -> dict[str, str]:
    return {_whole(row[id_column], str(path)): row[name_column] for row in _read(path)}


def plant_name_mapping(catalog_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(local name -> enterprise plant id, enterprise plant id -> canonical name) for PUB-SQA."""
    document = yaml.safe_load((catalog_dir / "mappings" / "plant_names.yaml").read_text(encoding="utf-8"))
    names = {row["local_name"]: row["enterprise_plant_id"] for row in document["mappings"]
             if row["source_plant_id"] == PLANT_ID}
    canonical = {plant: spec["name"] for plant, spec in document["enterprise_plants"].items()}
    return names, canonical


def prepare(
    dataset_dir: Path, catalog_dir: Path, landing: LandingWriter, dialect: ExtractDialect, quirks: QuirkReport
) -> tuple[ExtractFile, pa.Table]:
    """Write the flat quality extract into landing and return it with the truth per enterprise plant and year."""
    facts = _read(dataset_dir / "Metrics.csv")
    plants = _dimension(dataset_dir / "Plant.csv", "Plant ID", "Plant")
    vendors = _dimension(dataset_dir / "Vendor.csv", "Vendor ID", "Vendor")
    material_types = _dimension(dataset_dir / "Material_Type.csv", "Material Type ID", "Material Type")
    defects = _dimension(dataset_dir / "Defect.csv", "Defect ID", "Defect")
    defect_types = _dimension(dataset_dir / "Defect_Type.csv", "Defect Type ID", "Defect Type")
    categories = _dimension(dataset_dir / "Category.csv", "Sub Category ID", "Sub Category")

    float_ids = sum(1 for row in facts for column in _FACT_IDS if row[column].endswith(".0"))
    quirks.add(DATASET, "float_ids", float_ids, "ids like '10.0' written as whole numbers ('10') after a check",
               [f"Plant ID {facts[0]['Plant ID']!r}", f"Vendor ID {facts[0]['Vendor ID']!r}"])

    def rows() -> Iterator[dict[str, Any]]:
        for number, row in enumerate(facts, start=2):
            where = f"Metrics.csv line {number}"
            yield {
                "report_date": dt.date.fromisoformat(row["Date"]),
                "plant_name": plants[_whole(row["Plant ID"], where)],
                "vendor_id": _whole(row["Vendor ID"], where),
                "vendor_name": vendors[_whole(row["Vendor ID"], where)],
                "material_local_id": _whole(row["Material ID"], where),
                "material_type": material_types[_whole(row["Material Type ID"], where)],
                "category": categories[_whole(row["Sub Category ID"], where)],
                "defect_id": _whole(row["Defect ID"], where),
                "defect": defects[_whole(row["Defect ID"], where)],
                "defect_type": defect_types[_whole(row["Defect Type ID"], where)],
                "defect_qty": int(_whole(row["Defect Qty"], where)),
                "downtime_min": float(row["Downtime min"]),
            }

    first_day = min(row["Date"] for row in facts)
    file_name = dialect.file_glob.replace("*", first_day, 1)
    extract = landing.write(PLANT_ID, "erp", "supplier_quality", file_name,
                            lambda path: write_extract(path, rows(), dialect))

    seen: Counter[tuple[str, ...]] = Counter()
    duplicate_groups: set[tuple[str, ...]] = set()
    names, canonical = plant_name_mapping(catalog_dir)
    totals: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    unresolved: Counter[str] = Counter()
    for row in facts:
        key = tuple(row.values())
        name = plants[_whole(row["Plant ID"], "Metrics.csv")]
        plant = names.get(name)
        if plant is None:
            unresolved[name] += 1
            continue
        acc = totals[(plant, int(row["Date"][:4]))]
        qty, minutes = int(float(row["Defect Qty"])), float(row["Downtime min"])
        acc["rows"] += 1
        acc["defect_qty_with_duplicates"] += qty
        acc["downtime_min_with_duplicates"] += minutes
        if seen[key]:
            acc["duplicate_rows"] += 1
            duplicate_groups.add(key)
        else:
            acc["defect_qty"] += qty
            acc["downtime_min"] += minutes
        seen[key] += 1
    duplicates = sum(count - 1 for count in seen.values() if count > 1)
    quirks.add(DATASET, "duplicate_rows", duplicates,
               f"kept in the extract and bronze ({len(duplicate_groups)} groups of identical rows); counted and "
               "removed before the defect quantity and downtime are summed (truth: public_supplier_quality.parquet)")
    by_name: dict[str, set[str]] = defaultdict(set)
    for defect_id, defect in defects.items():
        by_name[defect].add(defect_id)
    reused = {name: ids for name, ids in by_name.items() if len(ids) > 1}
    quirks.add(DATASET, "defect_names_reused", len(reused),
               f"kept with their ids ({sum(len(ids) for ids in reused.values())} ids carry a reused name); "
               "group by defect_id, not by name",
               [f"{name!r}: ids {sorted(ids, key=int)}" for name, ids in sorted(reused.items())])
    odd = [name for name in plants.values() if name in names and canonical[names[name]] != name]
    quirks.add(DATASET, "plant_names_inconsistent", len(odd),
               "resolved to enterprise plants by catalog/mappings/plant_names.yaml (source PUB-SQA)",
               [f"{name!r} -> {names[name]} ({canonical[names[name]]})" for name in odd])
    if unresolved:
        quirks.add(DATASET, "plant_names_unmapped", sum(unresolved.values()),
                   "rows left out of the truth: the name has no governed mapping", sorted(unresolved))
    truth_rows = [
        {
            "enterprise_plant_id": plant,
            "plant_name": canonical[plant],
            "year": year,
            "rows": int(acc["rows"]),
            "duplicate_rows": int(acc["duplicate_rows"]),
            "defect_qty": int(acc["defect_qty"]),
            "downtime_min": acc["downtime_min"],
            "defect_qty_with_duplicates": int(acc["defect_qty_with_duplicates"]),
            "downtime_min_with_duplicates": acc["downtime_min_with_duplicates"],
        }
        for (plant, year), acc in sorted(totals.items())
    ]
    return extract, pa.Table.from_pylist(truth_rows, schema=TRUTH_SCHEMA)
