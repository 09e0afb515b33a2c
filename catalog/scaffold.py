"""Bootstrap and refresh the data contract of a dbt model from what dbt built (``northstar catalog scaffold``).

A silver or published contract is written once by hand-curating a draft; this module writes the draft. It reads the
model's relation in a built warehouse (DuckDB ``information_schema``: the columns, their order and types, view or
table) and takes what people already wrote about it: descriptions and tests from the model's dbt YAML, and for a
column nobody described there, the description and unit of the same column in another contract (``plant_id`` means
the same everywhere). Tests become contract rules: ``not_null`` -> ``required``, the key test -> ``primaryKey``,
anything else -> an ODCS ``custom`` rule with ``engine: dbt`` whose ``implementation`` is the dbt test as written.

``update=True`` refreshes an existing contract after its model changed: columns the relation gained are added (drafted
as above), columns it lost are removed, a changed type is replaced; every curated field of the columns that stayed
is kept, and the version is bumped (minor for an added column, major for a removed or retyped one). After that the
contract is the only place the columns are written: ``northstar catalog render`` generates the model YAML from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from catalog.contracts import DUCKDB_TYPES, Contract, duckdb_arrow_type, load_contracts, normalize_duckdb_type
from catalog.drift import dbt_model_yaml, dbt_test_name, declared_keys
from catalog.render import load_kpi_definitions

# The dbt folder a model lives in decides its layer and schema (dbt_project.yml: +schema per folder).
PUBLISHED_FOLDER = "marts"
_LOGICAL_TYPES = {
    "varchar": "string",
    "integer": "integer",
    "bigint": "integer",
    "hugeint": "integer",
    "interval": "string",
    "double": "number",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp with time zone": "timestamp",
}
# Owners by layer (the existing contracts' teams).
_OWNERS = {"silver": "data-engineering", "published": "enterprise-operational-excellence"}
_DATA_PRODUCTS = {"silver": "northstar-silver", "published": "northstar-oee"}
# A unit is drafted from a column's suffix when no other contract knows the column.
_UNIT_SUFFIXES = {"_s": "s", "_kwh": "kWh", "_min": "min"}
# The freshness SLA names the first of these columns the relation has.
_FRESHNESS_COLUMNS = ("freshness_at", "ingested_at", "shift_ended_at", "period_ended_at", "hour_started_at")
_KEY_TESTS = ("unique_combination_of_columns",)


def _logical_type(physical: str) -> str:
    return "number" if physical.startswith("decimal(") else _LOGICAL_TYPES[physical]


class ScaffoldError(ValueError):
    """The model cannot be scaffolded (not in the project, not built); the message says what to do."""


@dataclass(frozen=True)
class ModelLocation:
    name: str
    folder: str  # first folder under models/: staging, intermediate, marts
    sql: Path

    @property
    def layer(self) -> str:
        return "published" if self.folder == PUBLISHED_FOLDER else "silver"

    @property
    def schema(self) -> str:
        return f"main_{self.folder}"

    @property
    def contract_id(self) -> str:
        return f"{self.layer}.{self.folder}.{self.name}"


@dataclass
class ScaffoldResult:
    contract_id: str
    path: Path
    created: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[str] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed or self.retyped)


def dbt_models(dbt_project_dir: Path) -> dict[str, ModelLocation]:
    """Every model of the dbt project, by name, with the folder that decides its layer."""
    models_dir = dbt_project_dir / "models"
    found = {}
    for sql in sorted(models_dir.rglob("*.sql")):
        found[sql.stem] = ModelLocation(sql.stem, sql.relative_to(models_dir).parts[0], sql)
    return found


def _dbt_rule(test: Any) -> dict[str, Any]:
    """A dbt test as an ODCS custom quality rule, the test exactly as dbt reads it."""
    return {"type": "custom", "engine": "dbt", "implementation": test}


def _relation_columns(connection: Any, location: ModelLocation) -> tuple[list[tuple[str, str]], str]:
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [location.schema, location.name],
    ).fetchall()
    if not rows:
        raise ScaffoldError(
            f"{location.schema}.{location.name} is not in the warehouse: build it first "
            f"(dbt build -s {location.name}, or run the pipeline), then scaffold"
        )
    (kind,) = connection.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
        [location.schema, location.name],
    ).fetchone()
    columns = []
    for name, data_type in rows:
        physical = normalize_duckdb_type(data_type)
        if duckdb_arrow_type(physical) is None:
            raise ScaffoldError(
                f"{location.name}.{name} has type {data_type}, which no contract can declare "
                f"({sorted(DUCKDB_TYPES)}, decimal(p,s)): cast it in the model"
            )
        columns.append((name, physical))
    return columns, "view" if kind == "VIEW" else "table"


def _glossary(
    contracts: Iterable[Contract], kpis: dict[str, dict[str, Any]], preferred: Contract | None
) -> dict[str, tuple[str, str | None]]:
    """column name -> (description, unit): from the preferred contract (a staging model's bronze table), else the
    description most warehouse contracts (then bronze contracts) give the column, else the KPI definitions (a KPI's value, numerator, denominator and
    coverage columns)."""
    known: dict[str, tuple[str, str | None]] = {}
    # the warehouse contracts first: a bronze column is described as it arrives, a warehouse one as it is modelled
    for warehouse in (True, False):
        seen: dict[str, Counter[tuple[str, str | None]]] = {}
        for contract in contracts:
            for column in contract.columns if contract.in_warehouse == warehouse else ():
                if column.description:
                    seen.setdefault(column.name, Counter())[(column.description, column.unit)] += 1
        for name, counts in seen.items():
            known.setdefault(name, counts.most_common(1)[0][0])
    for kpi_id, kpi in kpis.items():
        label = f"{kpi['name']} (catalog/kpis/{kpi_id}.yaml)"
        # no formula text: the definition says it, and a new version must not leave the contract behind
        known.setdefault(kpi_id, (f"{label}, in {kpi['unit']}", kpi["unit"]))
        for part in ("numerator", "denominator"):
            known.setdefault(f"{kpi_id}__{part}", (f"{part.capitalize()} of {label}", None))
        known.setdefault(
            f"{kpi_id}__coverage", (f"Share of the planned operation time the inputs of {label} cover", "ratio")
        )
    for column in preferred.columns if preferred else ():
        if column.description:
            known[column.name] = (column.description, column.unit)
    return known


def _bronze_of(location: ModelLocation, contracts: Iterable[Contract]) -> Contract | None:
    """The bronze table a staging model (``stg_<source>__<table>``) reads, by name."""
    if not location.name.startswith("stg_") or "__" not in location.name:
        return None
    source, table = location.name[len("stg_") :].split("__", 1)
    singular = table.rstrip("s")
    for contract in contracts:
        named = table.startswith(contract.table) or contract.table.startswith(singular)
        if contract.layer == "bronze" and contract.source == source and named:
            return contract
    return None


def _draft_property(
    name: str,
    physical: str,
    yaml_column: dict[str, Any],
    glossary: dict[str, tuple[str, str | None]],
    key_position: int | None,
) -> dict[str, Any]:
    tests = yaml_column.get("data_tests") or yaml_column.get("tests") or []
    described, unit = glossary.get(name, ("", None))
    description = str(yaml_column.get("description") or described or "").strip()
    unit = unit or next((u for suffix, u in _UNIT_SUFFIXES.items() if name.endswith(suffix)), None)
    required = any(dbt_test_name(t) == "not_null" for t in tests)
    prop: dict[str, Any] = {"name": name, "logicalType": _logical_type(physical), "physicalType": physical}
    if description:
        prop["description"] = " ".join(description.split())
    if required:
        prop["required"] = True
    if key_position is not None:
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = key_position
    rules = []
    if required:
        rules.append(
            {"type": "library", "metric": "nullValues", "mustBe": 0, "description": f"{name} is always present"}
        )
    rules += [_dbt_rule(t) for t in tests if dbt_test_name(t) not in ("not_null", "unique")]
    if rules:
        prop["quality"] = rules
    if unit:
        prop["customProperties"] = [{"property": "unit", "value": unit}]
    return prop


def draft_contract(
    location: ModelLocation,
    columns: list[tuple[str, str]],
    physical_type: str,
    model: dict[str, Any],
    glossary: dict[str, tuple[str, str | None]],
) -> dict[str, Any]:
    """A new ODCS contract for the model: the built columns, the dbt YAML's words and tests, the layer's owner."""
    keys = declared_keys(model)
    key = keys[0] if keys else []
    yaml_columns = {c["name"]: c for c in model.get("columns") or []}
    properties = [
        _draft_property(
            name, physical, yaml_columns.get(name, {}), glossary, key.index(name) + 1 if name in key else None
        )
        for name, physical in columns
    ]
    names = [name for name, _ in columns]
    rules = [
        _dbt_rule(t) for t in model.get("data_tests") or model.get("tests") or [] if dbt_test_name(t) not in _KEY_TESTS
    ]
    table: dict[str, Any] = {
        "name": location.name,
        "physicalName": f"{location.schema}.{location.name}",
        "physicalType": physical_type,
        "logicalType": "object",
    }
    if key:
        table["dataGranularityDescription"] = f"One row per {', '.join(key)}"
        # the key is tested (dbt: unique or unique_combination_of_columns), not only documented
        rules.insert(0, key_rule(key))
    table["properties"] = properties
    if rules:
        table["quality"] = rules
    owner = _OWNERS[location.layer]
    document: dict[str, Any] = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": location.contract_id,
        "name": location.contract_id.replace(".", "_"),
        "version": "1.0.0",
        "status": "active",
        "domain": "manufacturing",
        "dataProduct": _DATA_PRODUCTS[location.layer],
        "tenant": "northstar",
        "description": {"purpose": " ".join(str(model.get("description") or f"dbt model {location.name}").split())},
        "servers": [
            {
                "server": "warehouse",
                "type": "duckdb",
                "database": "warehouse.duckdb",
                "schema": location.schema,
                "description": "dbt-duckdb warehouse at $NORTHSTAR_DATA_ROOT/warehouse.duckdb",
            }
        ],
        "schema": [table],
        "team": [{"username": owner, "role": "owner"}],
    }
    # Rebuilt daily at the latest; the element, when the relation has one, says what the age is measured on.
    freshness = next((c for c in _FRESHNESS_COLUMNS if c in names), None)
    sla: dict[str, Any] = {"property": "freshness", "value": 24, "unit": "h"}
    if freshness:
        sla["element"] = f"{location.name}.{freshness}"
    document["slaProperties"] = [sla]
    document["customProperties"] = [
        {"property": "layer", "value": location.layer},
        {"property": "owner", "value": owner},
    ]
    return document


def key_rule(key: list[str]) -> dict[str, Any]:
    """The table rule that has the primary key tested (render.py turns it into the dbt uniqueness test)."""
    return {"type": "library", "metric": "duplicateValues", "mustBe": 0, "description": f"one row per {', '.join(key)}"}


def _bump(version: str, *, major: bool) -> str:
    parts = [int(p) for p in str(version).split(".")[:3]] + [0, 0, 0]
    return f"{parts[0] + 1}.0.0" if major else f"{parts[0]}.{parts[1] + 1}.0"


def update_contract(
    document: dict[str, Any],
    columns: list[tuple[str, str]],
    fresh: dict[str, Any],
    result: ScaffoldResult,
) -> dict[str, Any]:
    """The existing contract with the relation's columns: curated properties kept, new ones drafted, gone ones
    removed, types refreshed; the version bumped when anything changed."""
    table = document["schema"][0]
    existing = {p["name"]: p for p in table.get("properties") or []}
    drafted = {p["name"]: p for p in fresh["schema"][0]["properties"]}
    properties = []
    for name, physical in columns:
        prop = existing.get(name)
        if prop is None:
            result.added.append(name)
            prop = drafted[name]
        elif normalize_duckdb_type(str(prop.get("physicalType", ""))) != physical:
            result.retyped.append(f"{name}: {prop.get('physicalType')} -> {physical}")
            prop = {**prop, "physicalType": physical, "logicalType": _logical_type(physical)}
        properties.append(prop)
    result.removed = [name for name in existing if name not in dict(columns)]
    table["properties"] = properties
    if result.changed:
        document["version"] = _bump(document["version"], major=bool(result.removed or result.retyped))
    return document


_HEADER = (
    "# Data contract (Open Data Contract Standard v3) of a {layer} dbt model: the only place its columns are written.\n"
    "# Drafted by `northstar catalog scaffold`, curated by its owner; the dbt model YAML is generated from it\n"
    "# (`northstar catalog render`) and the built relation is checked against it (catalog/drift.py).\n"
)


def _dump(document: dict[str, Any], layer: str) -> str:
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    return _HEADER.format(layer=layer) + body


def scaffold(
    model_names: Iterable[str],
    *,
    warehouse: Path,
    catalog_dir: Path,
    dbt_project_dir: Path,
    update: bool = False,
) -> list[ScaffoldResult]:
    """Write a draft contract for each model without one; with ``update`` refresh the columns of existing ones."""
    contracts_dir = catalog_dir / "contracts"
    load_contracts.cache_clear()
    contracts = load_contracts(contracts_dir)
    kpis = load_kpi_definitions(catalog_dir)
    models = dbt_models(dbt_project_dir)
    yaml_models = dbt_model_yaml(dbt_project_dir)
    results = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for name in model_names:
            location = models.get(name)
            if location is None:
                raise ScaffoldError(f"no model {name!r} in {dbt_project_dir / 'models'}")
            columns, physical_type = _relation_columns(connection, location)
            model = yaml_models.get(name, [(None, {})])[0][1]
            glossary = _glossary(contracts.values(), kpis, _bronze_of(location, contracts.values()))
            fresh = draft_contract(location, columns, physical_type, model, glossary)
            current = contracts.get(location.contract_id)
            path = current.file if current else contracts_dir / f"{location.contract_id}.yaml"
            result = ScaffoldResult(location.contract_id, path, created=current is None)
            if current is None:
                document = fresh
            elif update:
                document = update_contract(yaml.safe_load(path.read_text(encoding="utf-8")), columns, fresh, result)
            else:
                results.append(result)  # exists, left alone (use update)
                continue
            result.undocumented = [p["name"] for p in document["schema"][0]["properties"] if not p.get("description")]
            if result.changed:
                text = _dump(document, location.layer) if current is None else _keep_header(path, document)
                path.write_text(text, encoding="utf-8")
            results.append(result)
    load_contracts.cache_clear()
    return results


def _keep_header(path: Path, document: dict[str, Any]) -> str:
    """An updated contract keeps the comment lines its owner wrote above the YAML."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = "".join(lines[:comments])
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
