"""Render the catalog into dbt artifacts, so no lookup, column list or KPI formula is written twice.

The catalog YAML is the source of truth. This module renders, into ``dbt_project/``:

- the dbt sources for the bronze Delta tables, from the data contracts (``catalog/contracts/bronze.*.yaml``):
  ``models/staging/<source>/_<source>__sources.yml``;
- the dbt model YAML of every silver and published model, from its contract (``catalog/contracts/{silver,published}
  .*.yaml``): ``_<folder>__models.yml`` beside the model SQL, with columns, types, descriptions, the key and not-null
  tests, the contract's dbt rules (ODCS ``custom`` rules, ``engine: dbt``) and ``contract: enforced`` on published
  models. Unit tests stay hand-written beside them (``_<folder>__unit_tests.yml``);
- the governed lookups as dbt seeds, from the plant profiles and mappings: ``seeds/catalog/*.csv`` and their
  properties file (column types, keys);
- from ``catalog/kpis/*.yaml``: the value, numerator and denominator macros of every KPI, its approved range, the
  list of KPIs the long KPI table publishes and the definitions' parameters (``kpi_parameter``: energy per good unit's
  meter tag and longest reading gap) (``macros/generated/kpi_formulas.sql``), and one dbt unit test per worked
  example of a definition (``models/intermediate/kpis/_int_kpis_computed__unit_tests.yml``).

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
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from catalog import CATALOG_DIR, PACKAGE_DIR
from catalog.contracts import Contract, load_contracts

REPO_ROOT = PACKAGE_DIR.parent
# The dbt project the catalog renders into and the pipeline builds; NORTHSTAR_DBT_PROJECT_DIR relocates it (with
# NORTHSTAR_CATALOG_ROOT: a copy of catalog and project that a test changes without touching the repository).
DBT_PROJECT_DIR = Path(os.environ.get("NORTHSTAR_DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project").resolve()

# Directories whose every file is generated here; anything else found in them is stale and reported (or removed).
_SEEDS_SUBDIR = Path("seeds/catalog")
_MACROS_SUBDIR = Path("macros/generated")
_SOURCES_GLOB = "models/staging/*/_*__sources.yml"
# The model that applies every KPI formula to summed elements, and the unit tests generated from the KPI examples.
_KPI_UNIT_TEST_MODEL = "int_kpis_computed"
_KPI_UNIT_TEST_INPUT = "int_kpi_elements_by_grain"
_KPI_UNIT_TESTS_PATH = Path("models/intermediate/kpis/_int_kpis_computed__unit_tests.yml")

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
    columns = [
        {"name": column.name, "description": column.description, "data_type": _DUCKDB_TYPES[column.arrow_type]}
        for column in contract.columns
    ]
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
        # No dbt tests on bronze: each ingested batch is validated when it lands (the contract's Great Expectations
        # suite: columns, nulls, key, codes, master data; a Dagster asset check on the bronze asset), and the ingest
        # keeps keys unique across batches (plant-day replacement, stream de-duplication). Re-scanning every bronze
        # history on every build is unbounded work: at the bench scale the readings' key test alone took four times
        # the whole build.
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


# --- model YAML ------------------------------------------------------------------------------------------------------

_MODELS_GLOB = "models/**/_*__models.yml"


def _dbt_tests(rules: list[dict[str, Any]] | None) -> list[Any]:
    """The dbt tests a contract's quality rules carry (ODCS ``custom`` rules with ``engine: dbt``)."""
    return [r["implementation"] for r in rules or [] if r.get("type") == "custom" and r.get("engine") == "dbt"]


def _model_entry(contract: Contract) -> dict[str, Any]:
    """The dbt model YAML of a silver or published contract: columns, types, not-null and key tests, the contract's
    dbt rules, and ``contract: enforced`` on published models (dbt then holds the SQL to these columns)."""
    table = contract.raw["schema"][0]
    properties = {p["name"]: p for p in table.get("properties") or []}
    # The key is tested where the contract asks for it (a duplicateValues rule); a staging view's key is the bronze
    # source's, tested once on the source instead of on every view over it.
    tested = any(r.get("metric") == "duplicateValues" for r in table.get("quality") or [])
    key = contract.primary_key if tested else []
    columns = []
    for column in contract.columns:
        tests: list[Any] = []
        if key == [column.name]:
            tests.append("unique")
        tests += _dbt_tests(properties[column.name].get("quality"))
        entry: dict[str, Any] = {"name": column.name, "data_type": column.duckdb_type}
        if column.description:
            entry["description"] = column.description
        if tests:
            entry["data_tests"] = tests
        columns.append(entry)
    # One test for all required columns, not one per column: a single scan instead of one per column, and far fewer
    # test nodes (dbt's per-node cost dominates at small scale).
    required = [column.name for column in contract.columns if column.required]
    model_tests: list[Any] = [{"columns_not_null": {"arguments": {"column_names": required}}}] if required else []
    if len(key) > 1:
        model_tests.append({"unique_combination_of_columns": {"arguments": {"combination_of_columns": key}}})
    model_tests += _dbt_tests(table.get("quality"))
    entry = {"name": contract.table, "description": f"{contract.description} (contract {contract.id} {contract.version})"}
    if contract.layer == "published":
        entry["config"] = {"contract": {"enforced": True}}
    if model_tests:
        entry["data_tests"] = model_tests
    entry["columns"] = columns
    return entry


def _model_files(contracts_dir: Path, dbt_project_dir: Path) -> list[GeneratedFile]:
    """One ``_<folder>__models.yml`` beside the SQL of the models, from their contracts (silver and published)."""
    models_dir = dbt_project_dir / "models"
    sql = {path.stem: path.parent for path in models_dir.rglob("*.sql")}
    by_folder: dict[Path, list[Contract]] = {}
    for contract in load_contracts(contracts_dir).values():
        if not contract.in_warehouse:
            continue
        if contract.table not in sql:
            raise ValueError(f"{contract.file}: contract {contract.id} names model {contract.table}, which has no SQL")
        by_folder.setdefault(sql[contract.table].relative_to(dbt_project_dir), []).append(contract)
    files = []
    for folder, contracts in sorted(by_folder.items()):
        document = {"version": 2, "models": [_model_entry(c) for c in sorted(contracts, key=lambda c: c.table)]}
        ids = f"catalog/contracts/{{silver,published}}.*.yaml ({folder.name} models)"
        files.append(GeneratedFile(folder / f"_{folder.name}__models.yml", _yaml_text(ids, document)))
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
            entry: dict[str, Any] = {"name": column.name, "description": column.description}
            if self.key == [column.name]:
                entry["data_tests"] = ["unique"]
            columns.append(entry)
        properties: dict[str, Any] = {
            "name": self.name,
            "description": f"{self.description} Generated from {self.catalog_source}.",
            # Explicit types: local codes such as MX-MTY's "100" must stay strings, valid_from must be a date.
            "config": {"column_types": {c.name: c.data_type for c in self.columns}},
            "columns": columns,
        }
        properties["data_tests"] = [{"columns_not_null": {"arguments": {"column_names": [c.name for c in self.columns]}}}]
        if len(self.key) > 1:
            properties["data_tests"].append(
                {"unique_combination_of_columns": {"arguments": {"combination_of_columns": self.key}}}
            )
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


_INCIDENT_TYPE_COLUMNS = [
    _SeedColumn("plant_id", "varchar", "Enterprise plant id"),
    _SeedColumn("local_type", "varchar", "Plant-local safety event classification, exactly as the plant sends it"),
    _SeedColumn("enterprise_type", "varchar", "Enterprise incident type (near_miss, first_aid, recordable, lost_time)"),
    _SeedColumn("is_recordable", "boolean", "Counts as a recordable incident (recordable and lost time)"),
    _SeedColumn("valid_from", "date", "First local day on which this mapping applies"),
]


def _incident_type_rows(catalog_dir: Path) -> list[dict[str, Any]]:
    path = catalog_dir / "mappings" / "incident_types.yaml"
    document = _load_yaml(path)
    types = document["enterprise_types"]
    rows = []
    for mapping in document["mappings"]:
        kind = mapping["enterprise_type"]
        if kind not in types:
            raise ValueError(f"{path}: mapping {mapping} names unknown enterprise_type {kind!r}")
        rows.append(
            {
                "plant_id": mapping["plant_id"],
                "local_type": mapping["local_type"],
                "enterprise_type": kind,
                "is_recordable": bool(types[kind]["is_recordable"]),
                "valid_from": str(mapping["valid_from"]),
            }
        )
    return rows


_ASSET_MAPPING_COLUMNS = [
    _SeedColumn("plant_id", "varchar", "Enterprise plant id"),
    _SeedColumn("local_code", "varchar", "Plant-local asset id, exactly as the plant sends it"),
    _SeedColumn("enterprise_asset_id", "varchar", "Enterprise asset id"),
    _SeedColumn("asset_class", "varchar", "Enterprise asset class"),
    _SeedColumn("valid_from", "date", "First local production day on which this mapping applies"),
]
_LINE_MAPPING_COLUMNS = [
    _SeedColumn("plant_id", "varchar", "Enterprise plant id"),
    _SeedColumn("local_code", "varchar", "Plant-local line id, exactly as the plant sends it"),
    _SeedColumn("enterprise_line_id", "varchar", "Enterprise line id"),
    _SeedColumn("valid_from", "date", "First local production day on which this mapping applies"),
]


def _code_mapping_rows(catalog_dir: Path, file: str, columns: list[_SeedColumn]) -> list[dict[str, Any]]:
    mappings = _load_yaml(catalog_dir / "mappings" / file)["mappings"]
    return [{c.name: str(m[c.name]) for c in columns} for m in mappings]


_PLANT_NAME_COLUMNS = [
    _SeedColumn("source_plant_id", "varchar", "The delivering system (landing folder) whose spelling this is"),
    _SeedColumn("local_name", "varchar", "Plant name exactly as the delivering system writes it"),
    _SeedColumn("enterprise_plant_id", "varchar", "Enterprise plant id"),
    _SeedColumn("enterprise_plant_name", "varchar", "Canonical name of the enterprise plant"),
]


def _plant_name_rows(catalog_dir: Path) -> list[dict[str, Any]]:
    path = catalog_dir / "mappings" / "plant_names.yaml"
    document = _load_yaml(path)
    names = {row["plant_id"]: row["plant_name"] for row in _plant_rows(catalog_dir)}
    names |= {plant_id: spec["name"] for plant_id, spec in (document.get("enterprise_plants") or {}).items()}
    rows = []
    for mapping in document["mappings"]:
        plant_id = mapping["enterprise_plant_id"]
        if plant_id not in names:
            raise ValueError(f"{path}: mapping {mapping} names unknown enterprise plant {plant_id!r}")
        rows.append(
            {
                "source_plant_id": mapping["source_plant_id"],
                "local_name": mapping["local_name"],
                "enterprise_plant_id": plant_id,
                "enterprise_plant_name": names[plant_id],
            }
        )
    return rows


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
            "asset_mappings",
            "catalog/mappings/assets.yaml",
            "Plant-local asset id -> enterprise asset id and asset class, effective-dated.",
            _ASSET_MAPPING_COLUMNS,
            ["plant_id", "local_code", "valid_from"],
            _code_mapping_rows(catalog_dir, "assets.yaml", _ASSET_MAPPING_COLUMNS),
        ),
        _Seed(
            "line_mappings",
            "catalog/mappings/lines.yaml",
            "Plant-local line id -> enterprise line id, effective-dated.",
            _LINE_MAPPING_COLUMNS,
            ["plant_id", "local_code", "valid_from"],
            _code_mapping_rows(catalog_dir, "lines.yaml", _LINE_MAPPING_COLUMNS),
        ),
        _Seed(
            "incident_type_mappings",
            "catalog/mappings/incident_types.yaml",
            "Plant-local safety event classification -> enterprise incident type, effective-dated.",
            _INCIDENT_TYPE_COLUMNS,
            ["plant_id", "local_type", "valid_from"],
            _incident_type_rows(catalog_dir),
        ),
        _Seed(
            "plant_name_mappings",
            "catalog/mappings/plant_names.yaml",
            "Plant names as other systems write them (per delivering system) -> enterprise plant.",
            _PLANT_NAME_COLUMNS,
            ["source_plant_id", "local_name"],
            _plant_name_rows(catalog_dir),
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

# A KPI's coverage, unless its definition names another: the share of the planned operation time covered by machine
# states with a governed mapping (the definitions approved before coverage existed use it).
_DEFAULT_COVERAGE = {"numerator": "covered_s", "denominator": "pot_s"}
# The grains of the KPI table (a definition may restrict itself: SQDCP KPIs are plant-level facts, a KPI in a plant's
# currency is not summed across plants) and the letters of the SQDCP board.
_LEVELS = ["asset", "line", "plant", "enterprise"]
_PERIODS = ["shift", "day", "week", "month"]
_SQDCP_LETTERS = ["S", "Q", "D", "C", "P"]
# The KPI whose elements read the energy meter, and the parameters of its definition that say how.
ENERGY_KPI = "energy_per_good_unit"
ENERGY_METER_PARAMETERS = ("meter_tag", "meter_max_gap_s")

# A formula term is a sum of element columns ("apt_s + adet_s"); nothing else may reach the SQL.
_TERM_SEPARATOR = "+"


def _element_columns(expression: Any, where: str) -> list[str]:
    columns = [part.strip() for part in str(expression).split(_TERM_SEPARATOR)]
    if not columns or not all(column.isidentifier() for column in columns):
        raise ValueError(f"{where}: {expression!r} must be element columns joined by '+'")
    return columns


def _term_sql(expression: Any, divisor: Any, where: str) -> str:
    columns = _element_columns(expression, where)
    sql = columns[0] if len(columns) == 1 else f"({' + '.join(columns)})"
    if divisor is not None:
        if not isinstance(divisor, int | float) or divisor <= 0:
            raise ValueError(f"{where}: divisor {divisor!r} must be a positive number")
        sql = f"({sql} / {divisor})"
    return sql


@dataclass(frozen=True)
class _Ratio:
    """numerator / denominator over element columns, each optionally divided by a unit divisor (s -> h)."""

    numerator: str
    denominator: str

    @classmethod
    def of(cls, spec: dict[str, Any], where: str) -> _Ratio:
        return cls(
            _term_sql(spec["numerator"], spec.get("numerator_divisor"), f"{where} numerator"),
            _term_sql(spec["denominator"], spec.get("denominator_divisor"), f"{where} denominator"),
        )

    @property
    def value_sql(self) -> str:
        return f"(cast({self.numerator} as double) / nullif({self.denominator}, 0))"


def formula_columns(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> list[str]:
    """Every element column the KPI's value is computed from, in formula order."""
    formula = kpi["formula"]
    if formula["kind"] == "count":
        return _element_columns(formula["numerator"], kpi["id"])
    if formula["kind"] == "ratio":
        specs = [formula]
    else:
        specs = ([formula["basis"]] if "basis" in formula else []) + [kpis[f]["formula"] for f in formula["factors"]]
    columns: list[str] = []
    for spec in specs:
        for side in ("numerator", "denominator"):
            columns += [c for c in _element_columns(spec[side], kpi["id"]) if c not in columns]
    return columns


@dataclass(frozen=True)
class _KpiSql:
    """The SQL of one KPI: value, numerator and denominator, with value = numerator / denominator."""

    value: str
    numerator: str
    denominator: str


def _kpi_sql(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]], *, expand: bool) -> _KpiSql:
    """The KPI's SQL over element columns. A product refers to its factors' macros (``expand=False``, readable macros)
    or repeats their SQL inline (``expand=True``, for the KPI list the long table loops over)."""
    formula = kpi["formula"]
    where = f"KPI {kpi['id']}"
    if formula["kind"] == "ratio":
        ratio = _Ratio.of(formula, where)
        return _KpiSql(
            f"    {ratio.value_sql}", f"cast({ratio.numerator} as double)", f"cast({ratio.denominator} as double)"
        )
    if formula["kind"] == "count":
        # a number of events or hours in the period: the sum itself (denominator 1, so value = numerator holds)
        total = _term_sql(formula["numerator"], formula.get("numerator_divisor"), f"{where} numerator")
        # (no facts at all for the row: null, not 0: nothing was reported)
        return _KpiSql(
            f"    cast({total} as double)", f"cast({total} as double)", f"case when {total} is not null then 1.0 end"
        )
    if formula["kind"] != "product":
        raise ValueError(f"{where}: unknown formula kind {formula['kind']!r}")
    factors = [kpis[f] for f in formula["factors"]]
    if any(f["formula"]["kind"] != "ratio" for f in factors):
        raise ValueError(f"{where}: a product's factors must be ratios")
    ratios = [_Ratio.of(f["formula"], f"KPI {f['id']}") for f in factors]
    # The basis is the first factor (OEE: availability) unless the definition names one (NEE: AUPT / PBT).
    has_basis = "basis" in formula
    basis = _Ratio.of(formula["basis"], f"{where} basis") if has_basis else ratios[0]
    later = ratios if has_basis else ratios[1:]
    terms = [basis.value_sql] if has_basis else []
    terms += [r.value_sql if expand else f"{{{{ kpi_{f['id']}() }}}}" for r, f in zip(ratios, factors)]
    # The zero rule of design.md, stated over the factors: no planned basis (basis denominator 0) -> null;
    # a basis but nothing to divide by further on (no production time, nothing produced) -> 0, because the
    # unit had planned busy time and produced nothing. For OEE: null if pbt_s = 0, 0 if apt_s = 0 or pq = 0.
    empty = " or ".join(f"{r.denominator} = 0" for r in later)
    value = (
        "    case\n"
        f"        when nullif({basis.denominator}, 0) is null then null\n"
        f"        when {empty} then 0.0\n"
        f"        else {' * '.join(terms)}\n"
        "    end"
    )
    # A product of ratios has no additive numerator; the KPI table states it over the basis denominator
    # (OEE x PBT: the effective time), so that value = numerator / denominator still holds.
    own_value = " ".join(value.split()) if expand else f"{{{{ kpi_{kpi['id']}() }}}}"
    numerator = f"({own_value}) * {basis.denominator}"
    return _KpiSql(value, numerator, f"cast({basis.denominator} as double)")


def _kpi_macros(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> str:
    """The value, numerator and denominator macros of one KPI (value = numerator / denominator)."""
    sql = _kpi_sql(kpi, kpis, expand=False)
    comment = f"{{# {kpi['name']} ({kpi['id']} {kpi['version']}): {kpi['formula']['text']} #}}"
    return (
        f"{comment}\n"
        f"{{% macro kpi_{kpi['id']}() -%}}\n{sql.value}\n{{%- endmacro %}}\n"
        f"{{% macro kpi_{kpi['id']}_numerator() -%}}\n    {sql.numerator}\n{{%- endmacro %}}\n"
        f"{{% macro kpi_{kpi['id']}_denominator() -%}}\n    {sql.denominator}\n{{%- endmacro %}}\n"
    )


def _kpi_ranges_macro(kpis: dict[str, dict[str, Any]]) -> str:
    ranges = {kpi_id: {"min": k["range"]["min"], "max": k["range"]["max"]} for kpi_id, k in kpis.items()}
    return (
        "{# The approved range of each KPI, for the kpi_within_range data test (None: unbounded). #}\n"
        "{% macro kpi_ranges() -%}\n"
        f"    {{{{ return({ranges!r}) }}}}\n"
        "{%- endmacro %}\n"
    )


def _expanded(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> tuple[str, str, str]:
    sql = _kpi_sql(kpi, kpis, expand=True)
    return " ".join(sql.value.split()), sql.numerator, sql.denominator


def _kpi_definitions_macro(kpis: dict[str, dict[str, Any]]) -> str:
    definitions = []
    for kpi_id, kpi in kpis.items():
        # `coverage: null`: nothing says how complete the inputs are (a count of safety events)
        coverage = kpi.get("coverage", _DEFAULT_COVERAGE) or {"numerator": None, "denominator": None}
        levels, periods = kpi.get("levels", _LEVELS), kpi.get("periods", _PERIODS)
        if not set(levels) <= set(_LEVELS) or not set(periods) <= set(_PERIODS):
            raise ValueError(f"KPI {kpi_id}: levels must be among {_LEVELS} and periods among {_PERIODS}")
        if kpi.get("sqdcp") not in (None, *_SQDCP_LETTERS):
            raise ValueError(f"KPI {kpi_id}: sqdcp must be one of {_SQDCP_LETTERS}")
        definitions.append(
            {
                "id": kpi_id,
                "version": str(kpi["version"]),
                "unit": kpi["unit"],
                # the elements the KPI is summed from: asset-shift facts, or plant-day facts (SQDCP)
                "basis": kpi.get("basis", "asset_shift"),
                "levels": list(levels),
                "periods": list(periods),
                "sqdcp": kpi.get("sqdcp"),
                "target": kpi.get("target"),
                "trend": kpi["trend"],
                "columns": formula_columns(kpi, kpis),
                **dict(zip(("value_sql", "numerator_sql", "denominator_sql"), _expanded(kpi, kpis))),
                **{
                    f"coverage_{side}": None if coverage[side] is None
                    else _element_columns(coverage[side], f"KPI {kpi_id} coverage")[0]
                    for side in ("numerator", "denominator")
                },
            }
        )
    return (
        "{# Every KPI of the catalog, in id order: what the long KPI table publishes per row. #}\n"
        "{% macro kpi_definitions() -%}\n"
        f"    {{{{ return({definitions!r}) }}}}\n"
        "{%- endmacro %}\n"
    )


def _check_parameters(path: Path, kpi: dict[str, Any]) -> None:
    """A definition's ``parameters``: named numbers or strings that the models computing its elements read."""
    parameters = kpi.get("parameters", {})
    valid = isinstance(parameters, dict) and all(
        str(name).isidentifier() and isinstance(value, int | float | str) and not isinstance(value, bool)
        for name, value in parameters.items()
    )
    if not valid:
        raise ValueError(f"{path}: parameters must map identifiers to numbers or strings")


def _check_energy_meter(path: Path, kpi: dict[str, Any], catalog_dir: Path) -> None:
    """The meter parameters of energy per good unit: a kWh counter tag of the sensor-tag mapping and a positive
    whole number of seconds (the warehouse buckets readings by it)."""
    parameters = kpi.get("parameters") or {}
    missing = [name for name in ENERGY_METER_PARAMETERS if name not in parameters]
    if missing:
        raise ValueError(f"{path}: parameters must set {', '.join(missing)}")
    tags = _load_yaml(catalog_dir / "mappings" / "sensor_tags.yaml")["enterprise_tags"]
    tag = parameters["meter_tag"]
    if tag not in tags or tags[tag]["unit"] != "kWh":
        raise ValueError(f"{path}: meter_tag {tag!r} must be a kWh tag of enterprise_tags in sensor_tags.yaml")
    gap = parameters["meter_max_gap_s"]
    if not isinstance(gap, int) or isinstance(gap, bool) or gap <= 0:
        raise ValueError(f"{path}: meter_max_gap_s {gap!r} must be a positive whole number of seconds")


def load_kpi_definitions(catalog_dir: Path = CATALOG_DIR) -> dict[str, dict[str, Any]]:
    """Every KPI definition of ``catalog/kpis``, by id (sorted), checked enough to render SQL from it."""
    kpis = {}
    for path in sorted((catalog_dir / "kpis").glob("*.yaml")):
        kpi = _load_yaml(path)
        if not str(kpi["id"]).isidentifier() or kpi["id"] != path.stem:
            raise ValueError(f"{path}: KPI id {kpi['id']!r} must be an identifier and the file name")
        _check_parameters(path, kpi)
        if kpi["id"] == ENERGY_KPI:
            _check_energy_meter(path, kpi, catalog_dir)
        kpis[kpi["id"]] = kpi
    for kpi in kpis.values():
        for factor in kpi["formula"].get("factors", []):
            if factor not in kpis:
                raise ValueError(f"KPI {kpi['id']}: factor {factor!r} has no definition")
    return dict(sorted(kpis.items()))


@dataclass(frozen=True)
class EnergyMeter:
    """How energy per good unit reads the energy meter (the ``parameters`` of its definition)."""

    tag: str  # enterprise tag of the cumulative kWh counter
    max_gap_s: int  # a reading stands for a shift boundary when it lies at most this many seconds before it


def energy_meter(catalog_dir: Path = CATALOG_DIR) -> EnergyMeter:
    """The energy meter of ``catalog/kpis/energy_per_good_unit.yaml``, for the simulator's truth and the benchmark
    (dbt reads the same values through the generated ``kpi_parameter`` macro)."""
    parameters = load_kpi_definitions(catalog_dir)[ENERGY_KPI]["parameters"]
    return EnergyMeter(tag=parameters["meter_tag"], max_gap_s=parameters["meter_max_gap_s"])


def _kpi_parameters_macro(kpis: dict[str, dict[str, Any]]) -> str:
    parameters = {kpi_id: dict(kpi["parameters"]) for kpi_id, kpi in kpis.items() if kpi.get("parameters")}
    return (
        "{# The parameters of the KPI definitions, for the models that compute their elements: kpi_parameter(kpi_id,\n"
        "   name) returns one and fails compilation when the catalog has no such parameter. #}\n"
        "{% macro kpi_parameters() -%}\n"
        f"    {{{{ return({parameters!r}) }}}}\n"
        "{%- endmacro %}\n"
        "{% macro kpi_parameter(kpi_id, name) -%}\n"
        "    {%- set parameters = kpi_parameters().get(kpi_id, {}) -%}\n"
        "    {%- if name not in parameters -%}\n"
        '        {{ exceptions.raise_compiler_error("catalog/kpis/" ~ kpi_id ~ ".yaml has no parameter " ~ name) }}\n'
        "    {%- endif -%}\n"
        "    {{ return(parameters[name]) }}\n"
        "{%- endmacro %}\n"
    )


def _loss_categories_file(catalog_dir: Path) -> GeneratedFile:
    """The loss categories of the governed machine-state mapping and the ISO element each lies in, so that the
    asset-shift elements carry one column per category (and the loss waterfall one step) without naming them in SQL."""
    states = _load_yaml(catalog_dir / "mappings" / "machine_states.yaml")["enterprise_states"]
    categories: dict[str, str] = {}
    for state, spec in states.items():
        category, element = spec["loss_category"], spec["iso_element"]
        if not str(category).isidentifier():
            raise ValueError(f"machine_states.yaml: loss category {category!r} of {state} cannot name a column")
        if categories.setdefault(category, element) != element:
            raise ValueError(f"machine_states.yaml: loss category {category!r} lies in two ISO elements")
    listed = [{"loss_category": c, "iso_element": e} for c, e in categories.items()]
    return GeneratedFile(
        _MACROS_SUBDIR / "loss_categories.sql",
        "{#- generated from catalog/mappings/machine_states.yaml by catalog/render.py — do not edit. -#}\n"
        "{# Every loss category of the enterprise machine states, with its ISO 22400-2 time element. #}\n"
        "{% macro loss_categories() -%}\n"
        f"    {{{{ return({listed!r}) }}}}\n"
        "{%- endmacro %}\n",
    )


# The ISO 22400-2 elements a plant's local OEE formula may name, and the element column each one is in SQL.
_LOCAL_ELEMENTS = {
    "PRI x PQ": "pri_pq_s", "APT": "apt_s", "POT": "pot_s", "PBT": "pbt_s", "PDOT": "pdot_s", "AUST": "aust_s",
    "ADET": "adet_s", "ADOT": "adot_s", "PQ": "pq", "GQ": "gq", "SQ": "sq", "RQ": "rq",
}
_LOCAL_FACTORS = ("availability", "performance", "quality")
# What each factor computes in ISO 22400-2, and the cause a plant's deviation from it is filed under: a different
# basis time is the calendar (planned down time counted as loss), a different split of time or parts is the mapping
# (setup or idle time, reworked parts classified otherwise), a different ratio or combination is the definition.
_ISO_FACTORS = {"availability": "APT / PBT", "performance": "PRI x PQ / APT", "quality": "GQ / PQ",
                "oee": "availability x performance x quality"}


def _local_term_sql(text: str, variables: dict[str, str]) -> str | None:
    """A sum or difference of elements (or factor variables) and numbers as SQL; None if it names anything else."""
    tokens = re.findall(r"PRI x PQ|[A-Za-z_]+|\d+(?:\.\d+)?|[-+()*]|\bx\b", text)
    if "".join(tokens).replace(" ", "") != text.replace(" ", ""):
        return None
    sql = []
    for token in tokens:
        if token in _LOCAL_ELEMENTS:
            sql.append(f"cast({_LOCAL_ELEMENTS[token]} as double)")
        elif token in variables:
            sql.append(variables[token])
        elif token == "x":
            sql.append("*")
        elif re.fullmatch(r"\d+(?:\.\d+)?|[-+()*]", token):
            sql.append(token)
        else:
            return None
    return " ".join(sql)


def _local_expression_sql(text: str, variables: dict[str, str]) -> str | None:
    """`numerator / denominator` (or a plain term) as SQL, with the local systems' rule: dividing by zero gives 0."""
    parts = [part.strip() for part in re.split(r"\s/\s", str(text).strip())]
    if len(parts) == 1:
        return _local_term_sql(parts[0], variables)
    if len(parts) != 2:
        return None
    numerator, denominator = (_local_term_sql(part, variables) for part in parts)
    if numerator is None or denominator is None:
        return None
    return f"coalesce(({numerator}) / nullif({denominator}, 0), 0.0)"


def _local_cause(factor: str, text: str) -> str | None:
    if " ".join(str(text).split()) == _ISO_FACTORS[factor]:
        return None
    if factor == "availability":
        return "calendar" if "POT" in str(text) else "mapping"
    return "mapping" if factor == "quality" else "definition"


def _local_oee_file(catalog_dir: Path) -> GeneratedFile:
    """Each plant's own OEE formula as SQL over the governed elements, with the cause each deviation is filed under
    (for the reconciliation of local and enterprise OEE); a formula that names anything but ISO elements is listed
    with null SQL (its gap stays unexplained)."""
    document = _load_yaml(catalog_dir / "mappings" / "local_oee_formulas.yaml")
    plants = {}
    for plant_id, spec in sorted(document["plants"].items()):
        formula = document["formulas"][spec["formula"]]
        factors = {f: _local_expression_sql(formula[f], {}) for f in _LOCAL_FACTORS}
        oee = _local_expression_sql(formula["oee"], {f: f"({{{f}}})" for f in _LOCAL_FACTORS})
        expressible = None not in factors.values() and oee is not None
        plants[plant_id] = {
            "formula": spec["formula"],
            "scale": 100.0 if spec["unit"] == "percent" else 1.0,
            "decimals": int(spec["decimals"]),
            **{f"{f}_sql": factors[f] if expressible else None for f in _LOCAL_FACTORS},
            # the combination, with {availability}, {performance} and {quality} standing for the factors
            "oee_sql": oee if expressible else None,
            **{f"{f}_cause": _local_cause(f, formula[f]) for f in (*_LOCAL_FACTORS, "oee")},
        }
    return GeneratedFile(
        _MACROS_SUBDIR / "local_oee_formulas.sql",
        "{#- generated from catalog/mappings/local_oee_formulas.yaml by catalog/render.py — do not edit. -#}\n"
        "{# Each plant's own OEE formula over the governed elements, and the cause each deviation is filed under. #}\n"
        "{% macro local_oee_formulas() -%}\n"
        f"    {{{{ return({plants!r}) }}}}\n"
        "{%- endmacro %}\n",
    )


def _kpi_file(catalog_dir: Path) -> GeneratedFile:
    kpis = load_kpi_definitions(catalog_dir)
    header = (
        "{#- generated from catalog/kpis/*.yaml by catalog/render.py — do not edit.\n"
        "    Each macro expands to the KPI over element columns of the same name, so it works on one asset-shift\n"
        "    and, applied to summed columns, as the ratio of sums of any rollup. -#}\n"
    )
    parts = [header, *(_kpi_macros(kpi, kpis) for kpi in kpis.values())]
    parts += [_kpi_ranges_macro(kpis), _kpi_definitions_macro(kpis), _kpi_parameters_macro(kpis)]
    return GeneratedFile(_MACROS_SUBDIR / "kpi_formulas.sql", "\n".join(parts))


def _kpi_unit_tests_file(catalog_dir: Path) -> GeneratedFile:
    """One dbt unit test per worked example of a KPI definition, on the model that applies the formulas.

    The expected value is the catalog's (worked by hand from the example); dbt computes it with the generated
    macro, so a formula that drifts from its own documented example fails the build.
    """
    unit_tests = []
    for kpi_id, kpi in load_kpi_definitions(catalog_dir).items():
        for number, example in enumerate(kpi.get("examples") or [], start=1):
            unit_tests.append(
                {
                    "name": f"{_KPI_UNIT_TEST_MODEL}_{kpi_id}_example_{number}",
                    "description": f"{kpi['name']} {kpi['version']}: {example['description']}",
                    "model": _KPI_UNIT_TEST_MODEL,
                    "given": [{"input": f"ref('{_KPI_UNIT_TEST_INPUT}')", "rows": [dict(example["elements"])]}],
                    "expect": {"rows": [{kpi_id: example["value"]}]},
                }
            )
    return GeneratedFile(
        _KPI_UNIT_TESTS_PATH, _yaml_text("catalog/kpis/*.yaml (examples)", {"version": 2, "unit_tests": unit_tests})
    )


# --- rendering ------------------------------------------------------------------------------------------------------


def generated_files(
    *, catalog_dir: Path = CATALOG_DIR, dbt_project_dir: Path = DBT_PROJECT_DIR
) -> list[GeneratedFile]:
    """Every file this module generates, with its content, paths relative to the dbt project."""
    return [
        *_sources_files(catalog_dir / "contracts"),
        *_seed_files(catalog_dir),
        _kpi_file(catalog_dir),
        _kpi_unit_tests_file(catalog_dir),
        _loss_categories_file(catalog_dir),
        _local_oee_file(catalog_dir),
        *_model_files(catalog_dir / "contracts", dbt_project_dir),
    ]


def _stale_files(dbt_project_dir: Path, expected: set[Path]) -> list[Path]:
    candidates = [*dbt_project_dir.glob(_SOURCES_GLOB), *dbt_project_dir.glob(_MODELS_GLOB)]
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
    files = generated_files(catalog_dir=catalog_dir, dbt_project_dir=dbt_project_dir)
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
