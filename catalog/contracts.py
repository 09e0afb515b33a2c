"""Data contracts (Open Data Contract Standard v3): loading, validation and the Arrow schemas derived from them.

A contract is the only place a dataset's columns are written. Ingestion writes Delta tables with the Arrow schema
derived here, the quality suites are built from the same columns, dbt sources are rendered from them and the dbt
models of the silver and published layers are checked against them (``catalog/drift.py``).

Two kinds of storage, told apart by the contract's ODCS ``servers`` entry:

- bronze Delta tables (no server, or a ``local`` server): ``physicalName`` is the path under the data root
  (``lake/bronze/<source>/<table>``) and column ``physicalType`` is an Arrow type name (``timestamp[us, tz=UTC]``);
- warehouse tables built by dbt (a ``duckdb`` server): ``physicalName`` is ``<schema>.<table>`` in
  ``warehouse.duckdb`` and column ``physicalType`` is the DuckDB type name dbt declares (``timestamp with time zone``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import open_data_contract_standard
import pyarrow as pa
import yaml

from catalog import CATALOG_DIR

CONTRACTS_DIR = CATALOG_DIR / "contracts"

# ODCS leaves physicalType free-form; Northstar writes Arrow type names there for Delta tables ...
_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "timestamp[us]": pa.timestamp("us"),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
}

# ... and the DuckDB type names dbt declares for warehouse tables, each with the Arrow type DuckDB reads it as.
DUCKDB_TYPES: dict[str, pa.DataType] = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    # what sums and intervals give in intermediate models (sum of bigint, timestamp differences)
    "hugeint": pa.decimal128(38, 0),
    "interval": pa.month_day_nano_interval(),
}
_DUCKDB_NAME_OF_ARROW = {arrow: name for name, arrow in DUCKDB_TYPES.items()}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def duckdb_arrow_type(name: str) -> pa.DataType | None:
    """The Arrow type of a DuckDB type name (``decimal(p,s)`` included), None for a type contracts cannot declare."""
    name = normalize_duckdb_type(name)
    decimal = _DECIMAL.fullmatch(name)
    if decimal:
        return pa.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    return DUCKDB_TYPES.get(name)


def duckdb_type_name(arrow_type: pa.DataType) -> str:
    if arrow_type in _DUCKDB_NAME_OF_ARROW:
        return _DUCKDB_NAME_OF_ARROW[arrow_type]
    return f"decimal({arrow_type.precision},{arrow_type.scale})"

# DuckDB accepts several spellings of one type (dbt YAML and information_schema may use any of them).
_DUCKDB_ALIASES = {
    "text": "varchar",
    "string": "varchar",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "long": "bigint",
    "float8": "double",
    "bool": "boolean",
    "timestamptz": "timestamp with time zone",
    "timestamp without time zone": "timestamp",
}

WAREHOUSE_SERVER_TYPE = "duckdb"


def normalize_duckdb_type(name: str) -> str:
    """One spelling per DuckDB type: lower case, aliases resolved (``TIMESTAMPTZ`` -> ``timestamp with time zone``)."""
    key = " ".join(name.strip().lower().split()).replace(", ", ",")
    return _DUCKDB_ALIASES.get(key, key)


class ContractError(ValueError):
    """A contract file is invalid; the message names the file and the offending field."""


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    logical_type: str
    description: str
    required: bool
    primary_key_position: int | None
    unit: str | None
    minimum: float | None
    partitioned: bool
    physical_type: str = ""  # as written in the contract (Arrow name for Delta, DuckDB name for the warehouse)
    kpi: str | None = None  # id of the catalog KPI definition (catalog/kpis/<id>.yaml) this column publishes

    @property
    def duckdb_type(self) -> str:
        """The DuckDB type of the column, whichever storage the contract describes."""
        return duckdb_type_name(self.arrow_type)


@dataclass(frozen=True)
class Contract:
    id: str
    version: str
    status: str
    table: str
    # physicalName: for Delta tables the path relative to the data root (lake/<layer>/<source>/<table>); for
    # warehouse tables <schema>.<table> in warehouse.duckdb (main_marts.oee_asset_shift)
    path: str
    columns: tuple[Column, ...]
    freshness_hours: float | None
    owner: str | None
    description: str
    file: Path
    raw: dict[str, Any]
    server_type: str = "local"  # ODCS servers[0].type: local (Delta under the data root) or duckdb (the warehouse)
    # customProperties businessDate: the date (or plant-local timestamp) column whose day, with the plant, is the unit
    # an extract delivery replaces; None for tables without one (master data), which are replaced per plant
    business_date: str | None = None

    @property
    def layer(self) -> str:
        return self.id.split(".")[0]

    @property
    def source(self) -> str:
        """For bronze the source system (mes, erp, sensor); for the warehouse the dbt folder (intermediate, marts)."""
        return self.id.split(".")[1]

    @property
    def in_warehouse(self) -> bool:
        """True for tables dbt builds in warehouse.duckdb (silver and published layers)."""
        return self.server_type == WAREHOUSE_SERVER_TYPE

    @property
    def asset_key(self) -> list[str]:
        """Asset keys mirror storage: bronze/mes/machine_states is the Delta path, the asset key and the dbt source.

        A warehouse table's asset is its dbt model, keyed by folder and model name as dagster-dbt does
        (``published.marts.oee_asset_shift`` -> ``marts/oee_asset_shift``).
        """
        parts = self.id.split(".")
        return parts[1:] if self.in_warehouse else parts

    @property
    def kpi_ids(self) -> list[str]:
        """The catalog KPI definitions this table publishes, in column order."""
        return [c.kpi for c in self.columns if c.kpi]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> list[str]:
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return [c.name for c in sorted(keyed, key=lambda c: c.primary_key_position or 0)]

    @property
    def partition_by(self) -> list[str]:
        return [c.name for c in self.columns if c.partitioned]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.id} has no column {name!r}")


@cache
def odcs_json_schema() -> dict[str, Any]:
    """The official ODCS JSON schema shipped by the `open-data-contract-standard` package."""
    path = Path(open_data_contract_standard.__file__).parent / "schema.json"
    return json.loads(path.read_text())


def validate_odcs(document: dict[str, Any], file: Path) -> None:
    validator = jsonschema.Draft202012Validator(odcs_json_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "<root>"
        raise ContractError(f"{file}: {where}: {first.message} ({len(errors)} ODCS schema error(s))")


def _custom(props: list[dict[str, Any]] | None, name: str) -> Any:
    for p in props or []:
        if p.get("property") == name:
            return p.get("value")
    return None


def _server_type(document: dict[str, Any], file: Path) -> str:
    servers = document.get("servers") or []
    if len(servers) > 1:
        raise ContractError(f"{file}: servers: Northstar contracts name at most one server, found {len(servers)}")
    return servers[0]["type"] if servers else "local"


def parse_contract(file: Path) -> Contract:
    document = yaml.safe_load(file.read_text(encoding="utf-8"))
    validate_odcs(document, file)
    schema = document["schema"]
    if len(schema) != 1:
        raise ContractError(f"{file}: schema: Northstar contracts describe exactly one table, found {len(schema)}")
    table = schema[0]
    server_type = _server_type(document, file)
    if server_type == WAREHOUSE_SERVER_TYPE:
        # dbt names the relation after the model, in the schema the server names: the drift check relies on it.
        expected = f"{document['servers'][0].get('schema', 'main')}.{table['name']}"
        if table.get("physicalName") != expected:
            raise ContractError(
                f"{file}: schema/0/physicalName: {table.get('physicalName')!r} must be {expected!r} "
                "(<server schema>.<dbt model name>)"
            )
    warehouse = server_type == WAREHOUSE_SERVER_TYPE
    types = DUCKDB_TYPES if warehouse else _ARROW_TYPES
    columns = []
    for i, prop in enumerate(table.get("properties", [])):
        physical = prop.get("physicalType")
        if warehouse and isinstance(physical, str):
            physical = normalize_duckdb_type(physical)
        arrow_type = duckdb_arrow_type(physical) if warehouse and isinstance(physical, str) else types.get(physical)
        if arrow_type is None:
            raise ContractError(
                f"{file}: schema/0/properties/{i} ({prop['name']}): physicalType {physical!r} is not one of "
                f"{sorted(types)}{' or decimal(p,s)' if warehouse else ''}"
            )
        columns.append(
            Column(
                name=prop["name"],
                arrow_type=arrow_type,
                logical_type=prop.get("logicalType", "string"),
                description=prop.get("description", ""),
                required=bool(prop.get("required", False)),
                primary_key_position=prop.get("primaryKeyPosition") if prop.get("primaryKey") else None,
                unit=_custom(prop.get("customProperties"), "unit"),
                minimum=(prop.get("logicalTypeOptions") or {}).get("minimum"),
                partitioned=bool(prop.get("partitioned", False)),
                physical_type=physical,
                kpi=_custom(prop.get("customProperties"), "kpi"),
            )
        )
    business_date = _business_date(document, columns, file)
    freshness = next((s for s in document.get("slaProperties", []) if s.get("property") == "freshness"), None)
    hours = None
    if freshness:
        factor = {"h": 1, "hour": 1, "hours": 1, "d": 24, "day": 24, "days": 24, "min": 1 / 60}[freshness.get("unit", "h")]
        hours = float(freshness["value"]) * factor
    return Contract(
        id=document["id"],
        version=document["version"],
        status=document.get("status", "draft"),
        table=table["name"],
        path=table.get("physicalName", ""),
        columns=tuple(columns),
        freshness_hours=hours,
        owner=_custom(document.get("customProperties"), "owner"),
        description=(document.get("description") or {}).get("purpose", ""),
        file=file,
        raw=document,
        server_type=server_type,
        business_date=business_date,
    )


def _business_date(document: dict[str, Any], columns: list[Column], file: Path) -> str | None:
    name = _custom(document.get("customProperties"), "businessDate")
    if name is None:
        return None
    column = next((c for c in columns if c.name == name), None)
    if column is None or not column.required or column.arrow_type not in (pa.date32(), pa.timestamp("us")):
        raise ContractError(
            f"{file}: customProperties businessDate: {name!r} must name a required date32 or timestamp[us] column"
        )
    return name


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """All contracts by id (e.g. ``bronze.mes.machine_states``), each validated against the ODCS schema."""
    contracts = {}
    for file in sorted(directory.glob("*.yaml")):
        contract = parse_contract(file)
        if contract.id in contracts:
            raise ContractError(f"{file}: id {contract.id!r} is also used by {contracts[contract.id].file}")
        contracts[contract.id] = contract
    return contracts


def get_contract(contract_id: str) -> Contract:
    try:
        return load_contracts()[contract_id]
    except KeyError:
        raise ContractError(f"no contract {contract_id!r} in {CONTRACTS_DIR}") from None
