"""Great Expectations 1.x suites built from data contracts, run on bounded batches in pandas.

The suites have no hand-written column lists: every expectation comes from a contract column (required -> not null,
minimum -> lower bound, primary key -> compound uniqueness, the column list itself -> the table's columns) or from
the rest of the catalog (``quality/rules.py``: allowed codes from the mappings, referential integrity to master data,
distribution drift per sensor tag, volume against the plant profiles' shifts, clock skew against peers).
GE's SQL engine loses rows with duckdb-engine (see environment-facts), so each batch is validated in pandas: one
validation run of the whole suite on the batch, plus one per frame derived from it (a few rows each).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa
from deltalake import write_deltalake
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine

from catalog.contracts import Contract
from quality import arrow_checks
from quality.rules import DerivedCheck, References, batch_expectations, derived_checks, key_expectations

logging.getLogger("great_expectations").setLevel(logging.WARNING)
# GE fingerprints every pandas batch by hashing all of its values, twice per validation (when the batch is built and
# again when it is validated): a third of the time on a large batch. Northstar identifies a batch by run id and Delta
# version and never reads the fingerprint, so it is skipped (the engine only hashes frames below this size).
pandas_execution_engine.HASH_THRESHOLD = 0

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    sample: list[Any] = field(default_factory=list)
    rule: str | None = None  # what the catalog rule checks (GE notes), e.g. "allowed codes: ... machine_states.yaml"

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        why = f" [{self.rule}]" if self.rule else ""
        shown = f" e.g. {json.dumps(self.sample[:3], default=str, ensure_ascii=False)}" if self.sample and not self.success else ""
        return f"{self.expectation}{target}{why}: {'passed' if self.success else f'{self.unexpected_count} failing'}{shown}"


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]
    # the batch's statistics for the drift rules' history (rule, plant_id, series, rows, q_low, median, q_high)
    profiles: pa.Table | None = None

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: {len(self.outcomes)} expectations passed on {self.rows} rows"
        return f"{self.suite}: " + "; ".join(o.describe() for o in self.failures)


def suite_for_contract(
    contract: Contract, batch: pa.Table | None = None, references: References | None = None
) -> gx.ExpectationSuite:
    """The expectation suite of a contract: schema, nulls, lower bounds and the primary key from its columns, then
    the catalog rules evaluated on the batch (allowed codes, referential integrity, drift)."""
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
    expectations += key_expectations(contract, references or References())
    expectations += batch_expectations(contract, batch)
    # Built with its expectations at once: adding them one by one would need a persisted GE project.
    return gx.ExpectationSuite(name=f"{contract.id}.v{contract.version}", expectations=expectations)


@cache
def _pandas_asset():
    """One ephemeral GE context and dataframe asset per process (building them costs more than a small batch)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context.data_sources.add_pandas(name="northstar").add_dataframe_asset(name="batch")


def _batch_definition():
    asset = _pandas_asset()
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


def _sample(result: dict[str, Any], *, by_subject: bool) -> list[Any]:
    """What failed, as precisely as GE says it: the failing subjects (derived frames), values with their counts,
    the failing values, or an aggregate's observed value."""
    keys = ("partial_unexpected_index_list",) if by_subject else ("partial_unexpected_counts", "partial_unexpected_list")
    for key in keys:
        if result.get(key):
            return list(result[key])[:SAMPLE_SIZE]
    return [result["observed_value"]] if result.get("observed_value") is not None else []


def validate_frame(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, *, subject: list[str] | None = None, listed: int = SAMPLE_SIZE
) -> SuiteResult:
    """Validate one frame with GE's pandas engine only: one validation run with every expectation of the suite,
    SUMMARY results (failing counts and a few samples). ``subject``: columns naming each row of a derived frame,
    reported for its failing rows; ``listed``: how many failing rows GE lists (its counts per failing value are
    over these; the sample keeps the first few)."""
    results = _ge_results(frame, suite.expectations, subject=subject, listed=listed)
    return _suite_result(suite.name, len(frame), results, by_subject=bool(subject))


def validate_table(
    table: pa.Table, suite: gx.ExpectationSuite, *, subject: list[str] | None = None, listed: int = SAMPLE_SIZE
) -> SuiteResult:
    """Validate one batch: the row-level expectations in Arrow (``quality/arrow_checks.py``, recorded as GE results),
    the others in one GE validation run on the batch as pandas. Results keep the suite's order."""
    results: dict[int, Any] = {}
    for i, expectation in enumerate(suite.expectations):
        evaluated = arrow_checks.evaluate(expectation, table, listed=listed, subject=subject)
        if evaluated is not None:
            results[i] = evaluated
    rest = [i for i in range(len(suite.expectations)) if i not in results]
    if rest:
        ge = _ge_results(batch_frame(table), [suite.expectations[i] for i in rest], subject=subject, listed=listed)
        results.update(zip(rest, ge))
    return _suite_result(suite.name, table.num_rows, [results[i] for i in sorted(results)], by_subject=bool(subject))


def _ge_results(frame: pd.DataFrame, expectations: list[gxe.Expectation], *, subject: list[str] | None, listed: int):
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": listed}
    if subject:
        result_format["unexpected_index_column_names"] = subject
    suite = gx.ExpectationSuite(name="batch", expectations=[e.copy() if hasattr(e, "copy") else e for e in expectations])
    return batch.validate(suite, result_format=result_format).results


def _suite_result(name: str, rows: int, results: list[Any], *, by_subject: bool) -> SuiteResult:
    outcomes = []
    for r in results:
        cfg = r.expectation_config
        kwargs = cfg.kwargs if cfg else {}
        res = r.result or {}
        count = res.get("unexpected_count")
        if count is None and not r.success:
            count = 1
        columns = kwargs.get("column_list") or [kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k)]
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type if cfg else "unknown",
                column=kwargs.get("column") or (",".join(columns) if columns else None),
                success=bool(r.success),
                unexpected_count=int(count or 0),
                sample=[] if r.success else _json_safe(_sample(res, by_subject=by_subject)),
                rule=cfg.notes if cfg and isinstance(cfg.notes, str) else None,
            )
        )
    return SuiteResult(suite=name, success=all(o.success for o in outcomes), rows=rows, outcomes=tuple(outcomes))


def _json_safe(values: list[Any]) -> list[Any]:
    return json.loads(json.dumps(values, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def batch_frame(batch: pa.Table) -> pd.DataFrame:
    """The batch as pandas: numpy numbers and times, pandas' own string dtype (Arrow-backed, vectorized null and
    set tests); never ``pd.ArrowDtype`` columns, on which GE's pandas engine is many times slower."""
    frame = batch.to_pandas()
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.ArrowDtype):
            frame[name] = frame[name].to_numpy()
    return frame


def validate_batch(contract: Contract, batch: pa.Table, references: References | None = None) -> SuiteResult:
    """The contract's suite on one ingested batch, then each frame the catalog rules derive from it: one result."""
    references = references or References()
    suite = suite_for_contract(contract, batch, references)
    result = validate_table(batch, suite)
    derived: list[DerivedCheck] = derived_checks(contract, batch, references)
    outcomes = list(result.outcomes)
    profiles = []
    for check in derived:
        sub = gx.ExpectationSuite(name=f"{suite.name}.{check.name}", expectations=check.expectations)
        frame = pa.Table.from_pandas(check.frame, preserve_index=False)
        outcomes += validate_table(frame, sub, subject=check.subject).outcomes
        if check.profiles is not None and check.profiles.num_rows:
            profiles.append(check.profiles.add_column(0, "rule", pa.array([check.name] * check.profiles.num_rows)))
    return SuiteResult(suite=suite.name, success=all(o.success for o in outcomes), rows=batch.num_rows,
                       outcomes=tuple(outcomes), profiles=pa.concat_tables(profiles) if profiles else None)


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
        pa.field("rule", pa.string()),  # the catalog rule behind the expectation, if any
    ]
)


PROFILES_SCHEMA = pa.schema(
    [
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("series", pa.string(), nullable=False),  # JSON list of the rule's `per` values, e.g. ["A101", "power_kw"]
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("q_low", pa.float64()),  # the rule's `spread` quantiles
        pa.field("median", pa.float64()),
        pa.field("q_high", pa.float64()),
        pa.field("accepted", pa.bool_(), nullable=False),  # the batch's whole suite passed: history for later batches
    ]
)


def record_profiles(profiles_uri: str, dataset: str, result: SuiteResult, *, run_id: str | None = None) -> int:
    """Append the batch's drift profiles (one row per series) to the profiles Delta table, partitioned by dataset;
    ``accepted`` only if the whole suite passed, so that a failing (drifting) batch never becomes the baseline.
    Returns the rows written."""
    if result.profiles is None or not result.profiles.num_rows:
        return 0
    n = result.profiles.num_rows
    profiles = result.profiles
    table = pa.table({
        "recorded_at": pa.array([datetime.now(timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
        "run_id": pa.array([run_id] * n, pa.string()),
        "dataset": pa.array([dataset] * n, pa.string()),
        **{name: profiles[name] for name in ("rule", "plant_id", "series", "rows", "q_low", "median", "q_high")},
        "accepted": pa.array([result.success] * n, pa.bool_()),
    }).cast(PROFILES_SCHEMA)
    write_deltalake(profiles_uri, table, mode="append", partition_by=["dataset"])
    return n


def record_results(results_uri: str, dataset: str, result: SuiteResult, *, run_id: str | None = None) -> None:
    """Append one row per expectation to the quality results Delta table (the checks' history)."""
    now = datetime.now(timezone.utc)
    rows = [
        {"validated_at": now, "run_id": run_id, "dataset": dataset, "suite": result.suite, "expectation": o.expectation,
         "column": o.column, "success": o.success, "unexpected_count": o.unexpected_count, "rows_validated": result.rows,
         "sample": json.dumps(o.sample, default=str, ensure_ascii=False) if o.sample else None, "rule": o.rule}
        for o in result.outcomes
    ]
    write_deltalake(results_uri, pa.Table.from_pylist(rows, schema=RESULTS_SCHEMA), mode="append",
                    schema_mode="merge")
