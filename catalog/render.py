"""Render the catalog into dbt artifacts, so no lookup, column list or KPI formula is written twice.

The catalog YAML is the source of truth. This module renders, into ``dbt_project/``:

- the dbt sources for the bronze Delta tables, from the data contracts (``catalog/contracts/bronze.*.yaml``):
  ``models/staging/<source>/_<source>__sources.yml``;
- the governed lookups as dbt seeds, from the plant profiles and mappings: ``seeds/catalog/*.csv`` and their
  properties file (column types, keys);
- one Jinja macro per KPI, from ``catalog/kpis/*.yaml``: ``macros/generated/kpi_formulas.sql``.

``python -m catalog.render`` rewrites the generated files; ``python -m catalog.render --check`` writes nothing and
exits 1 when a generated file differs from what the catalog says (a hand edit, or a catalog change not rendered).
``dbt_env`` resolves the environment variables the dbt project reads.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from catalog import CATALOG_DIR
from catalog.contracts import Contract, load_contracts

REPO_ROOT = CATALOG_DIR.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# Directories whose every file is generated here; anything else found in them is stale and reported (or removed).
_SEEDS_SUBDIR = Path("seeds/catalog")
_MACROS_SUBDIR = Path("macros/generated")
_SOURCES_GLOB = "models/staging/*/_*__sources.yml"

# DuckDB names of the Arrow types the contracts use (documentation on the dbt source columns).
_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
    pa.timestamp("us", tz="UTC"): "timestamp with time zone",
}


@dataclass(frozen=True)
class GeneratedFile:
    path: Path  # relative to the dbt project
    content: str


def _header(comment: str, sources: str) -> str:
    return f"{comment} generated from {sources} by catalog/render.py — do not edit\n"


def _yaml_text(sources: str, document: dict[str, Any]) -> str:
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    return _header("#", sources) + body


def _csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    # CSV has no comment syntax dbt's seed loader accepts, so the "do not edit" note lives in the properties file.
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- sources --------------------------------------------------------------------------------------------------------


def _source_table(contract: Contract) -> dict[str, Any]:
    columns = []
    for column in contract.columns:
        entry: dict[str, Any] = {
            "name": column.name,
            "description": column.description,
            "data_type": _DUCKDB_TYPES[column.arrow_type],
        }
        if column.required:
            entry["data_tests"] = ["not_null"]
        columns.append(entry)
    return {
        "name": contract.table,
        "description": f"{contract.description} (contract {contract.id} {contract.version})",
        "config": {
            "meta": {
                # The Delta path under the data root; delta_scan is the fast path (see environment-facts.md).
                "external_location": f"delta_scan('{{{{ env_var('NORTHSTAR_DATA_ROOT') }}}}/{contract.path}')",
                # Asset keys mirror storage, so Dagster connects the ingestion asset to this source without glue.
                "dagster": {"asset_key": contract.asset_key},
            }
        },
        "data_tests": [
            {"unique_combination_of_columns": {"arguments": {"combination_of_columns": contract.primary_key}}}
        ],
        "columns": columns,
    }


def _sources_files(contracts_dir: Path) -> list[GeneratedFile]:
    bronze = [c for c in load_contracts(contracts_dir).values() if c.layer == "bronze"]
    files = []
    for source in sorted({c.source for c in bronze}):
        contracts = sorted((c for c in bronze if c.source == source), key=lambda c: c.table)
        document = {
            "version": 2,
            "sources": [
                {
                    "name": source,
                    "description": f"Bronze Delta tables of the {source} source (one table per data contract).",
                    "tables": [_source_table(c) for c in contracts],
                }
            ],
        }
        files.append(
            GeneratedFile(
                Path(f"models/staging/{source}/_{source}__sources.yml"),
                _yaml_text(f"catalog/contracts/bronze.{source}.*.yaml", document),
            )
        )
    return files


# --- seeds ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SeedColumn:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class _Seed:
    name: str
    catalog_source: str
    description: str
    columns: list[_SeedColumn]
    key: list[str]
    rows: list[dict[str, Any]]

    def properties(self) -> dict[str, Any]:
        columns = []
        for column in self.columns:
            tests = ["not_null", "unique"] if self.key == [column.name] else ["not_null"]
            columns.append({"name": column.name, "description": column.description, "data_tests": tests})
        properties: dict[str, Any] = {
            "name": self.name,
            "description": f"{self.description} Generated from {self.catalog_source}.",
            # Explicit types: local codes such as MX-MTY's "100" must stay strings, valid_from must be a date.
            "config": {"column_types": {c.name: c.data_type for c in self.columns}},
            "columns": columns,
        }
        if len(self.key) > 1:
            properties["data_tests"] = [
                {"unique_combination_of_columns": {"arguments": {"combination_of_columns": self.key}}}
            ]
        return properties


_PLANT_COLUMNS = [
    _SeedColumn("plant_id", "varchar", "Enterprise plant id"),
    _SeedColumn("plant_name", "varchar", "Plant name"),
    _SeedColumn("timezone", "varchar", "IANA time zone of the plant's wall clock"),
]
_MAPPING_COLUMNS = [
    _SeedColumn("plant_id", "varchar", "Enterprise plant id"),
    _SeedColumn("local_code", "varchar", "Plant-local machine state or reason code, exactly as the plant sends it"),
    _SeedColumn("enterprise_state", "varchar", "Enterprise machine state"),
    _SeedColumn("iso_element", "varchar", "ISO 22400-2 time element (APT, AUST, ADET, ADOT, PDOT)"),
    _SeedColumn("loss_category", "varchar", "Loss category (six big losses)"),
    _SeedColumn("valid_from", "date", "First local production day on which this mapping applies"),
]
_UNIT_COLUMNS = [
    _SeedColumn("from_unit", "varchar", "Unit as sent by the plant"),
    _SeedColumn("to_unit", "varchar", "Enterprise unit"),
    _SeedColumn("factor", "double", "Multiply a value in from_unit by factor to get to_unit"),
]


def _plant_rows(catalog_dir: Path) -> list[dict[str, Any]]:
    plants = [_load_yaml(f) for f in sorted((catalog_dir / "plants").glob("*.yaml"))]
    return [
        {"plant_id": p["plant_id"], "plant_name": p["name"], "timezone": p["timezone"]}
        for p in sorted(plants, key=lambda p: p["plant_id"])
    ]


def _mapping_rows(catalog_dir: Path) -> list[dict[str, Any]]:
    path = catalog_dir / "mappings" / "machine_states.yaml"
    document = _load_yaml(path)
    states = document["enterprise_states"]
    rows = []
    for mapping in document["mappings"]:
        state = mapping["enterprise_state"]
        if state not in states:
            raise ValueError(f"{path}: mapping {mapping} names unknown enterprise_state {state!r}")
        rows.append(
            {
                "plant_id": mapping["plant_id"],
                "local_code": mapping["local_code"],
                "enterprise_state": state,
                "iso_element": states[state]["iso_element"],
                "loss_category": states[state]["loss_category"],
                "valid_from": str(mapping["valid_from"]),
            }
        )
    return rows


def _unit_rows(catalog_dir: Path) -> list[dict[str, Any]]:
    document = _load_yaml(catalog_dir / "mappings" / "units.yaml")
    return [
        {"from_unit": c["from_unit"], "to_unit": c["to_unit"], "factor": c["factor"]} for c in document["conversions"]
    ]


def _seed_files(catalog_dir: Path) -> list[GeneratedFile]:
    seeds = [
        _Seed(
            "plants",
            "catalog/plants/*.yaml",
            "Plants with their IANA time zone.",
            _PLANT_COLUMNS,
            ["plant_id"],
            _plant_rows(catalog_dir),
        ),
        _Seed(
            "machine_state_mappings",
            "catalog/mappings/machine_states.yaml",
            "Plant-local machine state code -> enterprise state -> ISO 22400-2 element, effective-dated.",
            _MAPPING_COLUMNS,
            ["plant_id", "local_code", "valid_from"],
            _mapping_rows(catalog_dir),
        ),
        _Seed(
            "unit_conversions",
            "catalog/mappings/units.yaml",
            "Conversion factors to the enterprise unit of each quantity.",
            _UNIT_COLUMNS,
            ["from_unit", "to_unit"],
            _unit_rows(catalog_dir),
        ),
    ]
    csv_files = [
        GeneratedFile(_SEEDS_SUBDIR / f"{seed.name}.csv", _csv_text([c.name for c in seed.columns], seed.rows))
        for seed in seeds
    ]
    properties_file = GeneratedFile(
        _SEEDS_SUBDIR / "_catalog__seeds.yml",
        _yaml_text(
            "catalog/plants/*.yaml and catalog/mappings/*.yaml (this file and the CSVs beside it)",
            {"version": 2, "seeds": [seed.properties() for seed in seeds]},
        ),
    )
    return [*csv_files, properties_file]


# --- KPI macros -----------------------------------------------------------------------------------------------------


def _ratio_sql(numerator: str, denominator: str) -> str:
    return f"(cast({numerator} as double) / nullif({denominator}, 0))"


def _kpi_macro(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> str:
    formula = kpi["formula"]
    comment = f"{{# {kpi['name']} ({kpi['id']} {kpi['version']}): {formula['text']} #}}"
    if formula["kind"] == "ratio":
        body = f"    {_ratio_sql(formula['numerator'], formula['denominator'])}"
    elif formula["kind"] == "product":
        factors = [kpis[f] for f in formula["factors"]]
        if any(f["formula"]["kind"] != "ratio" for f in factors):
            raise ValueError(f"KPI {kpi['id']}: a product's factors must be ratios")
        # The zero rule of design.md, stated over the factors: no planned basis (first denominator 0) -> null;
        # a basis but nothing to divide by further on (no production time, nothing produced) -> 0, because the
        # unit had planned busy time and produced nothing. For OEE: null if pbt_s = 0, 0 if apt_s = 0 or pq = 0.
        basis = factors[0]["formula"]["denominator"]
        empty = " or ".join(f"{f['formula']['denominator']} = 0" for f in factors[1:])
        product = " * ".join(f"{{{{ kpi_{f['id']}() }}}}" for f in factors)
        body = (
            "    case\n"
            f"        when nullif({basis}, 0) is null then null\n"
            f"        when {empty} then 0.0\n"
            f"        else {product}\n"
            "    end"
        )
    else:
        raise ValueError(f"KPI {kpi['id']}: unknown formula kind {formula['kind']!r}")
    return f"{comment}\n{{% macro kpi_{kpi['id']}() -%}}\n{body}\n{{%- endmacro %}}\n"


def _kpi_ranges_macro(kpis: dict[str, dict[str, Any]]) -> str:
    ranges = {kpi_id: {"min": k["range"]["min"], "max": k["range"]["max"]} for kpi_id, k in kpis.items()}
    return (
        "{# The approved range of each KPI, for the kpi_within_range data test. #}\n"
        "{% macro kpi_ranges() -%}\n"
        f"    {{{{ return({ranges!r}) }}}}\n"
        "{%- endmacro %}\n"
    )


def _kpi_file(catalog_dir: Path) -> GeneratedFile:
    kpis = {}
    for path in sorted((catalog_dir / "kpis").glob("*.yaml")):
        kpi = _load_yaml(path)
        if not str(kpi["id"]).isidentifier():
            raise ValueError(f"{path}: KPI id {kpi['id']!r} cannot name a macro")
        kpis[kpi["id"]] = kpi
    header = (
        "{#- generated from catalog/kpis/*.yaml by catalog/render.py — do not edit.\n"
        "    Each macro expands to the KPI over mart columns of the same name, so it works on one asset-shift\n"
        "    and, applied to summed columns, as the ratio of sums of any rollup. -#}\n"
    )
    parts = [header, *(_kpi_macro(kpi, kpis) for kpi in kpis.values())]
    parts.append(_kpi_ranges_macro(kpis))
    return GeneratedFile(_MACROS_SUBDIR / "kpi_formulas.sql", "\n".join(parts))


# --- rendering ------------------------------------------------------------------------------------------------------


def generated_files(*, catalog_dir: Path = CATALOG_DIR) -> list[GeneratedFile]:
    """Every file this module generates, with its content, paths relative to the dbt project."""
    return [
        *_sources_files(catalog_dir / "contracts"),
        *_seed_files(catalog_dir),
        _kpi_file(catalog_dir),
    ]


def _stale_files(dbt_project_dir: Path, expected: set[Path]) -> list[Path]:
    candidates = list(dbt_project_dir.glob(_SOURCES_GLOB))
    for directory in (dbt_project_dir / _SEEDS_SUBDIR, dbt_project_dir / _MACROS_SUBDIR):
        if directory.is_dir():
            candidates += [p for p in directory.iterdir() if p.is_file()]
    return sorted(p.relative_to(dbt_project_dir) for p in candidates if p.relative_to(dbt_project_dir) not in expected)


def render_all(
    *, check: bool = False, catalog_dir: Path = CATALOG_DIR, dbt_project_dir: Path = DBT_PROJECT_DIR
) -> list[str]:
    """Render the catalog into the dbt project and return the files that differed (paths relative to the project).

    With ``check=True`` nothing is written: the result lists generated files that are missing, edited by hand or out
    of date, and stale files left in the generated directories.
    """
    files = generated_files(catalog_dir=catalog_dir)
    drifted = []
    for file in files:
        target = dbt_project_dir / file.path
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == file.content:
            continue
        drifted.append(str(file.path))
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file.content, encoding="utf-8")
    for stale in _stale_files(dbt_project_dir, {f.path for f in files}):
        drifted.append(str(stale))
        if not check:
            (dbt_project_dir / stale).unlink()
    return drifted


# --- environment ----------------------------------------------------------------------------------------------------


def delta_extension_path() -> Path:
    """The DuckDB delta extension shipped by the PyPI package ``duckdb-extension-delta`` for the installed DuckDB.

    Extensions cannot be downloaded at run time here, and a binary only loads into the DuckDB version it was built
    for, so a mismatch fails now with the reason instead of later inside dbt.
    """
    spec = importlib.util.find_spec("duckdb_extension_delta")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package duckdb-extension-delta is not installed")
    duckdb_version = importlib.metadata.version("duckdb")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    path = package_dir / "extensions" / f"v{duckdb_version}" / "delta.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: duckdb-extension-delta must have the same version as duckdb ({duckdb_version})"
        )
    return path


def dbt_env(data_root: Path) -> dict[str, str]:
    """The environment variables the dbt project needs, for a run against the given data root.

    ``profiles.yml`` puts the warehouse at ``$NORTHSTAR_DATA_ROOT/warehouse.duckdb`` and the sources read
    ``$NORTHSTAR_DATA_ROOT/lake/bronze/...``; ``dbt_project.yml`` loads the delta extension from
    ``$NORTHSTAR_DUCKDB_DELTA_EXTENSION`` on run start; ``DBT_PROFILES_DIR`` points dbt at the committed profile.
    """
    return {
        "NORTHSTAR_DATA_ROOT": str(Path(data_root).resolve()),
        "NORTHSTAR_DUCKDB_DELTA_EXTENSION": str(delta_extension_path()),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file drifted")
    args = parser.parse_args(argv)
    drifted = render_all(check=args.check)
    verb = "drifted" if args.check else "rewritten"
    for path in drifted:
        print(f"{verb}: dbt_project/{path}")
    if not drifted:
        print("dbt artifacts are up to date with the catalog")
    return 1 if args.check and drifted else 0


if __name__ == "__main__":
    sys.exit(main())
