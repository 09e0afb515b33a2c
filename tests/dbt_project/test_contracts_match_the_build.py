"""The contracts of the silver and published layers against what dbt really built from the fixture plants: every
model's relation has exactly the columns and DuckDB types its contract declares (catalog/drift.py, warehouse_drift)."""

from __future__ import annotations

from catalog.contracts import load_contracts
from catalog.drift import warehouse_drift


def test_every_built_model_has_the_columns_and_types_of_its_contract(warehouse):
    contracts = [c for c in load_contracts().values() if c.in_warehouse]

    assert len(contracts) >= 37  # one per dbt model of the project
    assert [str(d) for d in warehouse_drift(warehouse.connection, contracts)] == []
