"""Expectations evaluated in Arrow give GE's own verdict, failing count and failing values, on clean and faulty data."""

from __future__ import annotations

from datetime import datetime, timezone

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa
import pytest
from great_expectations.expectations.row_conditions import Column as GxColumn

from catalog.contracts import get_contract
from quality import arrow_checks
from quality.suites import suite_for_contract, validate_frame, validate_table

CONTRACT = get_contract("bronze.mes.production_counts")


def _frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        [dict(plant_id="DE-STR", asset_local_id=f"A10{i % 2 + 1}", order_id="A1", material_local_id="MAT-1",
              interval_start_local=datetime(2026, 6, 1, 6 + i), interval_end_local=datetime(2026, 6, 1, 7 + i),
              produced_qty=100, good_qty=95, scrap_qty=3, rework_qty=2, source_file="f.csv", source_line=i + 2,
              ingested_at=datetime(2026, 6, 2, tzinfo=timezone.utc)) for i in range(n)]
    )


def _suite() -> gx.ExpectationSuite:
    extra = [gxe.ExpectColumnValuesToBeInSet(column="asset_local_id", value_set=["A101", "A102"]),
             gxe.ExpectColumnValuesToBeUnique(column="source_line"),
             gxe.ExpectColumnValuesToBeBetween(column="source_line", min_value=2, max_value=7)]
    extra.append(gxe.ExpectColumnPairValuesToBeInSet(column_A="plant_id", column_B="asset_local_id",
                                                     value_pairs_set=[("DE-STR", "A101"), ("DE-STR", "A102")]))
    # the same restricted by a row condition (a plant under governance), as the allowed-code rules are
    extra.append(gxe.ExpectColumnValuesToBeInSet(column="asset_local_id", value_set=["A101", "A102"],
                                                 row_condition=GxColumn("order_id").is_in(["A1"]), notes="orders A1"))
    # the contract's own expectations (the catalog's code and master-data sets are replaced by the pair above)
    contract_suite = [e for e in suite_for_contract(CONTRACT).expectations if not e.notes]
    return gx.ExpectationSuite(name="equivalence", expectations=[*contract_suite, *extra])


FAULTS = {
    "clean": lambda f: f,
    "negative-scrap": lambda f: f.assign(scrap_qty=[3, -1, 3, -5, -1, 3]),
    "null-order-and-quantity": lambda f: f.assign(order_id=[None, "A", None, "A", "A", "A"],
                                                 good_qty=[95, None, 97, 95, 95, 99]),
    "duplicate-key-and-line": lambda f: pd.concat([f, f.iloc[[0, 0, 3]]]),
    "unknown-asset-and-line": lambda f: f.assign(asset_local_id=["A101", "A999", "A999", "B1", "A102", "A101"],
                                                source_line=[2, 3, 99, 5, 0, 7]),
    "missing-column": lambda f: f.drop(columns=["rework_qty"]),
    "added-column": lambda f: f.assign(comment="x"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_arrow_results_equal_ges(fault: str) -> None:
    frame = FAULTS[fault](_frame()).reset_index(drop=True)
    if "good_qty" in frame and frame["good_qty"].isna().any():
        frame["good_qty"] = frame["good_qty"].astype("Int64")
    suite = _suite()
    ge = validate_frame(frame, suite)
    arrow = validate_table(pa.Table.from_pandas(frame, preserve_index=False), suite)
    evaluated_in_arrow = [arrow_checks.evaluate(e, pa.Table.from_pandas(frame, preserve_index=False), listed=5)
                          is not None for e in suite.expectations]
    assert sum(evaluated_in_arrow) >= len(suite.expectations) - 2  # only missing columns are left to GE
    assert len(ge.outcomes) == len(arrow.outcomes) == len(suite.expectations)
    by_target = {(o.expectation, o.column, o.rule): o for o in arrow.outcomes}  # GE orders its results its own way
    assert len(by_target) == len(arrow.outcomes)
    for g in ge.outcomes:
        a = by_target[(g.expectation, g.column, g.rule)]
        assert (a.success, a.unexpected_count) == (g.success, g.unexpected_count), (fault, g, a)
        if g.expectation in ("expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
                             "expect_column_pair_values_to_be_in_set"):
            # the same failing values; GE counts them over the first failing rows it lists, Arrow over all of them
            assert sorted(str(v["value"]) for v in a.sample) == sorted(str(v["value"]) for v in g.sample), (fault, g, a)
            if g.unexpected_count <= 5:
                assert sorted(a.sample, key=str) == sorted(g.sample, key=str), (fault, g, a)
    assert ge.success == arrow.success == (fault in ("clean",))


def test_a_duplicate_key_across_record_batches_is_found() -> None:
    """Delta reads arrive in several chunks: a key repeated in another chunk is still a duplicate."""
    first = pa.Table.from_pandas(_frame(), preserve_index=False)
    table = pa.concat_tables([first, first.slice(2, 1)])  # two chunks per column
    assert table["asset_local_id"].num_chunks == 2
    expectation = gxe.ExpectCompoundColumnsToBeUnique(column_list=["plant_id", "asset_local_id", "interval_start_local"])
    result = arrow_checks.evaluate(expectation, table, listed=5)
    assert not result.success and result.result["unexpected_count"] == 2
