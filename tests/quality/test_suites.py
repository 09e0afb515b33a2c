"""GE suites generated from contracts: each expectation passes on clean data and fails on its fault."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest

from catalog.contracts import get_contract
from quality.suites import suite_for_contract, validate_frame

CONTRACT = get_contract("bronze.mes.production_counts")


def _frame(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        [dict(plant_id="DE-STR", asset_local_id="M01", order_id="A1", material_local_id="MAT-1",
              interval_start_local=datetime(2026, 6, 1, 6 + i), interval_end_local=datetime(2026, 6, 1, 7 + i),
              produced_qty=100, good_qty=95, scrap_qty=3, rework_qty=2, source_file="f.csv", source_line=i + 2,
              ingested_at=datetime(2026, 6, 2, tzinfo=timezone.utc)) for i in range(n)]
    )


def _contract_suite():
    """The expectations the contract's columns state (the catalog rules, tested in test_rules.py, need master data)."""
    suite = suite_for_contract(CONTRACT)
    return type(suite)(name=suite.name, expectations=[e for e in suite.expectations if not e.notes])


def test_suite_columns_come_from_the_contract():
    suite = suite_for_contract(CONTRACT)
    column_set = next(e for e in suite.expectations if e.expectation_type == "expect_table_columns_to_match_set")
    assert sorted(column_set.column_set) == sorted(CONTRACT.column_names)
    not_null = {e.column for e in suite.expectations if e.expectation_type == "expect_column_values_to_not_be_null"}
    assert not_null == {c.name for c in CONTRACT.columns if c.required}


def test_clean_batch_passes():
    result = validate_frame(_frame(), _contract_suite())
    assert result.success and result.rows == 4 and not result.failures


@pytest.mark.parametrize(
    ("fault", "expectation", "column", "count"),
    [
        (lambda f: f.assign(scrap_qty=[3, -1, 3, -5]), "expect_column_values_to_be_between", "scrap_qty", 2),
        (lambda f: f.assign(order_id=[None, "A", "A", "A"]), "expect_column_values_to_not_be_null", "order_id", 1),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "expect_compound_columns_to_be_unique",
         "plant_id,asset_local_id,interval_start_local", 2),
        (lambda f: f.drop(columns=["rework_qty"]), "expect_table_columns_to_match_set", None, 1),
    ],
    ids=["negative-scrap", "null-order", "duplicate-key", "missing-column"],
)
def test_each_fault_fails_its_expectation_with_a_count(fault, expectation, column, count):
    result = validate_frame(fault(_frame()), _contract_suite())
    assert not result.success
    failure = next(f for f in result.failures if f.expectation == expectation)
    assert failure.column == column and failure.unexpected_count == count
    assert expectation in result.summary()


def test_results_are_kept_with_failing_counts_and_samples(tmp_path):
    from deltalake import DeltaTable

    from quality.suites import record_results

    uri = str(tmp_path / "quality_results")
    suite = _contract_suite()
    record_results(uri, CONTRACT.id, validate_frame(_frame(), suite), run_id="r1")
    record_results(uri, CONTRACT.id, validate_frame(_frame().assign(scrap_qty=[3, -1, 3, -5]), suite), run_id="r2")
    rows = DeltaTable(uri).to_pyarrow_table().to_pylist()
    assert {r["run_id"] for r in rows} == {"r1", "r2"}
    failed = [r for r in rows if not r["success"]]
    assert len(failed) == 1 and failed[0]["run_id"] == "r2"
    assert failed[0]["expectation"] == "expect_column_values_to_be_between" and failed[0]["unexpected_count"] == 2
    sample = json.loads(failed[0]["sample"])  # the failing values with how often each failed
    assert sorted(sample, key=lambda s: s["value"]) == [{"value": -5, "count": 1}, {"value": -1, "count": 1}]
