"""Small helpers around delta-rs: create tables from contract schemas, read transaction versions."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from catalog.contracts import Contract


def open_table(uri: str) -> DeltaTable | None:
    try:
        return DeltaTable(uri)
    except TableNotFoundError:
        return None


def ensure_table(uri: str, schema: pa.Schema, partition_by: list[str] | None = None) -> DeltaTable:
    """Open the Delta table at ``uri``, creating it empty with ``schema`` if it does not exist yet."""
    table = open_table(uri)
    if table is None:
        Path(uri).mkdir(parents=True, exist_ok=True)
        write_deltalake(uri, schema.empty_table(), mode="append", partition_by=partition_by or None)
        table = DeltaTable(uri)
    return table


def ensure_contract_table(uri: str, contract: Contract) -> DeltaTable:
    return ensure_table(uri, contract.arrow_schema(), contract.partition_by)


def row_count(uri: str) -> int:
    table = open_table(uri)
    if table is None:
        return 0
    actions = pa.table(table.get_add_actions(flatten=True))  # arro3 table -> pyarrow via the Arrow C interface
    return int(pa.compute.sum(actions["num_records"]).as_py() or 0)
