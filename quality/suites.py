"""Great Expectations 1.x suites built from data contracts, run on bounded batches in pandas.

The suites have no hand-written column lists: every expectation comes from a contract column (required -> not null,
minimum -> lower bound, primary key -> compound uniqueness, the column list itself -> the table's columns).
GE's SQL engine loses rows with duckdb-engine (see environment-facts), so each batch is validated in pandas.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa
from deltalake import write_deltalake
from great_expectations.data_context.types.base import ProgressBarsConfig

from catalog.contracts import Contract

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    sample: list[Any] = field(default_factory=list)

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        return f"{self.expectation}{target}: {'passed' if self.success else f'{self.unexpected_count} failing'}"


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: {len(self.outcomes)} expectations passed on {self.rows} rows"
        return f"{self.suite}: " + "; ".join(o.describe() for o in self.failures)


def suite_for_contract(contract: Contract) -> gx.ExpectationSuite:
    """The expectation suite of a contract: schema, nulls, lower bounds and the primary key."""
    expectations: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=contract.column_names, exact_match=True)
    ]
    for col in contract.columns:
        if col.required:
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name))
        if col.minimum is not None:
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=col.name, min_value=col.minimum))
    if len(contract.primary_key) == 1:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=contract.primary_key[0]))
    elif contract.primary_key:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=contract.primary_key))
    # Built with its expectations at once: adding them one by one would need a persisted GE project.
    return gx.ExpectationSuite(name=f"{contract.id}.v{contract.version}", expectations=expectations)


def validate_frame(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> SuiteResult:
    """Validate one bounded batch (an ingest batch or a partition) with GE's pandas engine."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas(name="northstar")
    asset = source.add_dataframe_asset(name="batch")
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        kwargs = cfg.kwargs if cfg else {}
        res = r.result or {}
        count = res.get("unexpected_count")
        if count is None and not r.success:
            count = 1
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type if cfg else "unknown",
                column=kwargs.get("column") or (",".join(kwargs["column_list"]) if kwargs.get("column_list") else None),
                success=bool(r.success),
                unexpected_count=int(count or 0),
                sample=list(res.get("partial_unexpected_list") or [])[:5],
            )
        )
    return SuiteResult(suite=suite.name, success=bool(result.success), rows=len(frame), outcomes=tuple(outcomes))


RESULTS_SCHEMA = pa.schema(
    [
        pa.field("validated_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("suite", pa.string(), nullable=False),
        pa.field("expectation", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("unexpected_count", pa.int64(), nullable=False),
        pa.field("rows_validated", pa.int64(), nullable=False),
        pa.field("sample", pa.string()),  # up to five failing values, JSON
    ]
)


def record_results(results_uri: str, dataset: str, result: SuiteResult, *, run_id: str | None = None) -> None:
    """Append one row per expectation to the quality results Delta table (the checks' history)."""
    now = datetime.now(timezone.utc)
    rows = [
        {"validated_at": now, "run_id": run_id, "dataset": dataset, "suite": result.suite, "expectation": o.expectation,
         "column": o.column, "success": o.success, "unexpected_count": o.unexpected_count, "rows_validated": result.rows,
         "sample": json.dumps(o.sample, default=str) if o.sample else None}
        for o in result.outcomes
    ]
    write_deltalake(results_uri, pa.Table.from_pylist(rows, schema=RESULTS_SCHEMA), mode="append")
