"""Row-level expectations evaluated with Arrow compute and recorded as Great Expectations results.

On a large batch GE's pandas engine spends most of its time around the computation rather than in it: per
expectation it builds metric graphs and filters the whole frame, so twenty one-pass checks cost twenty passes and
more. The expectations below are one vectorized pass each in Arrow. They stay GE expectations (the suite generated
from the contract holds them), and their outcome is a GE ``ExpectationValidationResult`` with the fields GE's SUMMARY
format gives (element_count, unexpected_count, partial_unexpected_list, partial_unexpected_counts and, for
derived frames, partial_unexpected_index_list), so the results table, the Dagster checks and the publication log do
not tell them apart, except that the counts per failing value are over every failing row (GE counts the rows it
lists). ``tests/quality/test_arrow_checks.py`` holds each one to GE's own verdict and counts on the same data, clean
and faulty. Row conditions `column == value` and `column in values` select the rows first; anything else (a
``mostly``, other row conditions, aggregates such as quantiles) goes to GE.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import duckdb
import great_expectations.expectations as gxe
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from great_expectations.core import ExpectationValidationResult
from great_expectations.expectations.row_conditions import ComparisonCondition, Operator


def _map_result(
    expectation: gxe.Expectation, table: pa.Table, failing: pa.ChunkedArray | pa.Array, column: str,
    listed: int, subject: list[str] | None,
) -> ExpectationValidationResult:
    """A column-map result: ``failing`` marks the rows that do not meet the expectation."""
    failing = pc.fill_null(failing, False)
    count = pc.sum(failing).as_py() or 0
    result: dict[str, Any] = {"element_count": table.num_rows, "unexpected_count": count}
    if count:
        rows = table.filter(failing)
        values = rows[column].slice(0, listed).to_pylist()
        counts = rows[column].value_counts().to_pylist()  # over every failing row (GE: over the rows it lists)
        result["partial_unexpected_list"] = values
        result["partial_unexpected_counts"] = sorted(
            ({"value": c["values"], "count": c["counts"]} for c in counts), key=lambda c: (-c["count"], str(c["value"])))
        if subject:
            named = rows.select(list(dict.fromkeys([column, *subject]))).slice(0, listed)
            result["partial_unexpected_index_list"] = named.to_pylist()
    return ExpectationValidationResult(success=count == 0, expectation_config=expectation.configuration, result=result)


def _not_null(e: gxe.ExpectColumnValuesToNotBeNull, table: pa.Table, listed: int, subject):
    values = table[e.column]
    nulls = pc.is_null(values, nan_is_null=pa.types.is_floating(values.type))
    count = pc.sum(nulls).as_py() or 0
    result: dict[str, Any] = {"element_count": table.num_rows, "unexpected_count": count}
    if count:
        result["partial_unexpected_list"] = [None] * min(count, listed)
        result["partial_unexpected_counts"] = [{"value": None, "count": min(count, listed)}]
    return ExpectationValidationResult(success=count == 0, expectation_config=e.configuration, result=result)


def _between(e: gxe.ExpectColumnValuesToBeBetween, table: pa.Table, listed: int, subject):
    values = table[e.column]
    failing = pa.array(np.zeros(table.num_rows, dtype=bool))
    if e.min_value is not None:
        below = pc.less_equal(values, e.min_value) if e.strict_min else pc.less(values, e.min_value)
        failing = pc.or_(failing, below)
    if e.max_value is not None:
        above = pc.greater_equal(values, e.max_value) if e.strict_max else pc.greater(values, e.max_value)
        failing = pc.or_(failing, above)
    return _map_result(e, table, failing, e.column, listed, subject)


def _in_set(e: gxe.ExpectColumnValuesToBeInSet, table: pa.Table, listed: int, subject):
    values = table[e.column]
    allowed = pa.array(list(e.value_set), values.type) if len(e.value_set) else pa.array([], values.type)
    failing = pc.and_(pc.invert(pc.is_in(values, value_set=allowed)), pc.is_valid(values))
    return _map_result(e, table, failing, e.column, listed, subject)


def _pair_in_set(e: gxe.ExpectColumnPairValuesToBeInSet, table: pa.Table, listed: int, subject):
    """(A, B) pairs in the set, per value of A (a plant has few codes): one vectorized membership test per A value.
    Rows where both are missing are ignored (GE's default); the failing pairs are counted over every failing row."""
    a, b = table[e.column_A], table[e.column_B]
    allowed: dict[Any, list[Any]] = {}
    for first, second in e.value_pairs_set:
        allowed.setdefault(first, []).append(second)
    failing = pc.and_(pc.is_null(a), pc.is_valid(b)).to_numpy(zero_copy_only=False).copy()
    for first in pc.drop_null(pc.unique(a)).to_pylist():
        ok = pc.is_in(b, value_set=pa.array(allowed.get(first, []), b.type))
        failing |= pc.fill_null(pc.and_(pc.equal(a, first), pc.invert(ok)), False).to_numpy(zero_copy_only=False)
    count = int(failing.sum())
    result: dict[str, Any] = {"element_count": table.num_rows, "unexpected_count": count}
    if count:
        rows = table.filter(pa.array(failing)).select([e.column_A, e.column_B])
        pairs = list(zip(*(rows[c].to_pylist() for c in rows.column_names)))
        result["partial_unexpected_list"] = pairs[:listed]
        result["partial_unexpected_counts"] = sorted(
            ({"value": p, "count": n} for p, n in Counter(pairs).items()), key=lambda c: (-c["count"], str(c["value"])))
    return ExpectationValidationResult(success=count == 0, expectation_config=e.configuration, result=result)


def _codes(values: pa.ChunkedArray) -> np.ndarray:
    """The values as uint64 codes, equal exactly when the values are equal (strings by dictionary, numbers and
    times by their integer representation, nulls as one code)."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        codes = pc.dictionary_encode(values.combine_chunks()).indices  # one dictionary for the whole column
        return pc.fill_null(pc.cast(codes, pa.int64()), -1).to_numpy().view(np.uint64)
    if pa.types.is_floating(values.type):
        return pc.fill_null(values, np.nan).to_numpy().view(np.uint64)
    if pa.types.is_date32(values.type):
        values = values.cast(pa.int32())
    return pc.fill_null(values.cast(pa.int64()), -(2**63)).to_numpy().view(np.uint64)


def _duplicated(table: pa.Table, columns: list[str]) -> pa.Array:
    """Every row whose values of ``columns`` occur more than once (all occurrences, as GE counts them).

    A batch's keys are almost always unique: a 64-bit hash of the key's column codes proves it with one sort. Only
    when two hashes are equal (a duplicate, or a hash collision) does DuckDB group the real values."""
    mask = np.zeros(table.num_rows, dtype=bool)
    hashed = np.zeros(table.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            hashed = (hashed * np.uint64(0x100000001B3)) ^ _codes(table[column])
    ordered = np.sort(hashed)
    if not (ordered[1:] == ordered[:-1]).any():
        return pa.array(mask)
    keys = ", ".join(f'"{c}"' for c in columns)  # contract column names, never user input
    with duckdb.connect() as con:
        con.register("batch", table.select(columns).append_column("__row", pa.array(np.arange(table.num_rows))))
        rows = con.execute(
            f"select __row from (select __row, count(*) over (partition by {keys}) as n from batch) where n > 1"
        ).fetchnumpy()["__row"]
    mask[rows] = True
    return pa.array(mask)


def _unique(e: gxe.ExpectColumnValuesToBeUnique, table: pa.Table, listed: int, subject):
    return _map_result(e, table, _duplicated(table, [e.column]), e.column, listed, subject)


def _compound_unique(e: gxe.ExpectCompoundColumnsToBeUnique, table: pa.Table, listed: int, subject):
    columns = list(e.column_list)
    failing = _duplicated(table, columns)
    count = pc.sum(failing).as_py() or 0
    result: dict[str, Any] = {"element_count": table.num_rows, "unexpected_count": count}
    if count:
        rows = table.filter(failing).select(columns).slice(0, listed).to_pylist()
        result["partial_unexpected_list"] = rows
    return ExpectationValidationResult(success=count == 0, expectation_config=e.configuration, result=result)


def _column_set(e: gxe.ExpectTableColumnsToMatchSet, table: pa.Table, listed: int, subject):
    observed, expected = set(table.column_names), set(e.column_set)
    success = observed == expected if e.exact_match else expected <= observed
    result: dict[str, Any] = {"observed_value": sorted(observed)}
    if not success:
        result["details"] = {"mismatched": {"unexpected": sorted(observed - expected), "missing": sorted(expected - observed)}}
    return ExpectationValidationResult(success=success, expectation_config=e.configuration, result=result)


ARROW_EVALUATED: dict[type, Callable[..., ExpectationValidationResult]] = {
    gxe.ExpectTableColumnsToMatchSet: _column_set,
    gxe.ExpectColumnValuesToNotBeNull: _not_null,
    gxe.ExpectColumnValuesToBeBetween: _between,
    gxe.ExpectColumnValuesToBeInSet: _in_set,
    gxe.ExpectColumnPairValuesToBeInSet: _pair_in_set,
    gxe.ExpectColumnValuesToBeUnique: _unique,
    gxe.ExpectCompoundColumnsToBeUnique: _compound_unique,
}


def _rows_meeting(condition: Any, table: pa.Table) -> pa.Array | None:
    """The rows a simple row condition (column == value, column in values) selects; None for any other condition."""
    if not isinstance(condition, ComparisonCondition) or condition.column.name not in table.column_names:
        return None
    values = table[condition.column.name]
    if condition.operator == Operator.EQUAL:
        return pc.fill_null(pc.equal(values, condition.parameter), False)
    if condition.operator == Operator.IN:
        return pc.is_in(values, value_set=pa.array(list(condition.parameter), values.type))
    return None


def evaluate(
    expectation: gxe.Expectation, table: pa.Table, *, listed: int, subject: list[str] | None = None
) -> ExpectationValidationResult | None:
    """The expectation's GE result computed in Arrow, or None when GE must evaluate it (a type not listed above,
    a ``mostly`` below 1, a row condition, a column the table lacks: GE reports that itself)."""
    handler = ARROW_EVALUATED.get(type(expectation))
    if handler is None or (getattr(expectation, "mostly", 1) or 1) < 1:
        return None
    condition = getattr(expectation, "row_condition", None)
    if condition is not None:
        rows = _rows_meeting(condition, table)
        if rows is None:
            return None
        table = table.filter(rows)
    columns = [getattr(expectation, name, None) for name in ("column", "column_A", "column_B")]
    columns = [c for c in (*columns, *(getattr(expectation, "column_list", None) or [])) if c]
    if any(c not in table.column_names for c in columns):
        return None
    return handler(expectation, table, listed, subject)
