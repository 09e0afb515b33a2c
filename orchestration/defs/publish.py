"""Publication: the write-audit-publish gate between dbt's working warehouse and what leaders see.

``published/marts`` runs only when everything upstream materialized and every blocking check passed (GE suites on the
bronze batches, dbt tests on the models); it then swaps the marts into ``published.duckdb``. When any step of the run
fails, the failure hook records the run as blocked with its reasons, and the published file keeps the last good data.
"""

from datetime import datetime, timezone

import dagster as dg
from dagster import AssetExecutionContext, HookContext

from orchestration.defs.dbt import northstar_dbt_models
from orchestration.resources import NorthstarSettings
from quality.publication import publish, read_status, record_blocked

PUBLISHED_KEY = dg.AssetKey(["published", "marts"])

# The published layer is dbt's marts folder (asset keys mirror warehouse schemas: marts/<model>).
MART_KEYS = sorted((k for k in northstar_dbt_models.keys if k.path[0] == "marts"), key=lambda k: k.path)


@dg.asset(
    key=PUBLISHED_KEY,
    deps=MART_KEYS,
    kinds={"duckdb"},
    group_name="published",
    description="The marts as the apps and BI tools see them (published.duckdb); changes only when every blocking "
    "check upstream passed in the same run.",
)
def published_marts(context: AssetExecutionContext, northstar: NorthstarSettings) -> dg.MaterializeResult:
    settings = northstar.get()
    tables = [f"main_marts.{k.path[-1]}" for k in MART_KEYS]
    counts = publish(settings.warehouse_path, settings.data_root / "published.duckdb", tables, run_id=context.run_id,
                     built_at=datetime.now(timezone.utc))
    context.log.info(f"published {len(tables)} tables: {counts}")
    return dg.MaterializeResult(metadata={"tables": tables, "row_counts": dg.MetadataValue.json(counts),
                                          "path": dg.MetadataValue.path(str(settings.data_root / "published.duckdb"))})


def _failed_checks(context: HookContext) -> list[dict]:
    """This run's failed asset checks, with suite, expectation and failing count where the check reported them."""
    reasons = []
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        meta = {k: v.value for k, v in evaluation.metadata.items()}
        failures = meta.get("failures") if isinstance(meta.get("failures"), list) else None
        base = {"check": f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}", "suite": meta.get("suite")}
        if failures:
            reasons += [{**base, "expectation": f.get("expectation"), "column": f.get("column"),
                         "failing": f.get("unexpected_count"), "rule": f.get("rule"), "sample": f.get("sample")}
                        for f in failures]
        else:
            reasons.append({**base, "expectation": evaluation.check_name,
                            "failing": meta.get("dagster_dbt/failed_row_count", meta.get("failing"))})
    return reasons


@dg.failure_hook
def record_blocked_publication(context: HookContext) -> None:
    """Any failed step blocks publication: log why, keep the last good published data."""
    settings = NorthstarSettings().get()
    reasons = _failed_checks(context) or []
    error = context.op_exception
    reasons.append({"check": f"step {context.op.name}", "expectation": "step failed",
                    "failing": None, "error": str(error).splitlines()[0][:300] if error else None})
    record_blocked(settings.data_root / "published.duckdb", run_id=context.run_id, reasons=reasons)
    as_of = read_status(settings.data_root / "published.duckdb").data_as_of
    context.log.warning(f"publication blocked: {len(reasons)} reason(s); published data stays as of {as_of or 'never'}")


defs = dg.Definitions(assets=[published_marts])
