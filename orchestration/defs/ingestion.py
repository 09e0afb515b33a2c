"""Bronze assets: one per data contract. File extracts (MES, ERP) and the Kafka sensor stream."""


import json
import time
from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster import AssetExecutionContext
import pyarrow.compute as pc
from deltalake import DeltaTable

from catalog.contracts import Contract, load_contracts
from catalog.plants import load_plants
from ingestion.extracts import ingest_table
from ingestion.stream import ingest_stream
from orchestration.lib.metadata import column_schema, contract_metadata
from orchestration.resources import NorthstarSettings
from quality.rules import PROFILES_DIR, References, contract_rules
from quality.suites import record_profiles, record_results, validate_batch

GE_CHECK = "contract_suite"


def _check_spec(contract: Contract) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        GE_CHECK,
        asset=dg.AssetKey(contract.asset_key),
        blocking=True,
        description=f"Great Expectations suite generated from contract {contract.id} v{contract.version} and the "
        "catalog (allowed codes, master data, volume, drift, clock skew), run on the rows written by this "
        "materialization.",
    )


def _validate_written(
    contract: Contract, uri: str, since: datetime, settings, run_id: str
) -> dg.AssetCheckResult:
    """Validate exactly the rows this run wrote (a bounded batch), not the table's whole history; keep the results."""
    started = time.perf_counter()
    table = DeltaTable(uri).to_pyarrow_table(filters=[("ingested_at", ">=", since)])
    batch = table.filter(pc.greater_equal(table["ingested_at"], since))
    result = validate_batch(contract, batch, References(lake_root=settings.lake_root))
    record_results(_results_uri(settings), contract.id, result, run_id=run_id)
    profiled = record_profiles(str(settings.lake_root / PROFILES_DIR), contract.id, result, run_id=run_id)
    check_seconds = time.perf_counter() - started
    return dg.AssetCheckResult(
        check_name=GE_CHECK,
        passed=result.success,
        metadata={
            "suite": result.suite,
            "rows_validated": result.rows,
            "expectations": len(result.outcomes),
            # Samples hold timestamps and numpy values: make them JSON first.
            "failures": dg.MetadataValue.json(json.loads(json.dumps([o.__dict__ for o in result.failures], default=str)))
            if result.failures else "none",
            "summary": result.summary(),
            # per-series statistics kept for the drift rules (history of later batches if this one passed)
            "profiles_recorded": profiled,
            # read back, validate, record: what the check adds to the ingest (bench/quality_overhead.py sums it)
            "check_seconds": float(round(check_seconds, 4)),
        },
        description=result.summary(),
    )


def _results_uri(settings) -> str:
    return str(settings.lake_root / "_meta" / "quality_results")


def _master_data_deps(contract: Contract) -> list[dg.AssetKey]:
    """The master-data tables the contract's rules read (referential integrity, expected assets): ingested first."""
    referenced = {r.params["references"].rpartition(".")[0] for r in contract_rules(contract) if "references" in r.params}
    return [dg.AssetKey(load_contracts()[c].asset_key) for c in sorted(referenced)]


def _asset_spec_kwargs(contract: Contract) -> dict:
    kwargs: dict = dict(
        deps=_master_data_deps(contract),
        key=dg.AssetKey(contract.asset_key),
        group_name=f"bronze_{contract.source}",
        description=contract.description,
        metadata={**contract_metadata(contract), "dagster/column_schema": column_schema(contract)},
        check_specs=[_check_spec(contract)],
        owners=[f"team:{contract.owner}"] if contract.owner else None,
    )
    if contract.freshness_hours:
        kwargs["freshness_policy"] = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=contract.freshness_hours))
    return kwargs


def build_extract_asset(contract: Contract) -> dg.AssetsDefinition:
    @dg.asset(kinds={"delta", "python"}, **_asset_spec_kwargs(contract))
    def _extract(context: AssetExecutionContext, northstar: NorthstarSettings):
        settings = northstar.get()
        started = datetime.now(timezone.utc)
        result = ingest_table(
            contract, load_plants(), settings.landing_root, settings.lake_root, max_reject_share=settings.max_reject_share
        )
        per_plant = {}
        for plant_id, outcome in result.plants.items():
            per_plant[plant_id] = {
                "rows_loaded": outcome.rows_loaded,
                "rows_rejected": outcome.rows_rejected,
                "unchanged": outcome.skipped_unchanged,
                "refused_files": outcome.refused_files,
            }
            for f in outcome.files:
                for reject in f.rejects[:20]:
                    context.log.warning(f"{contract.id}: {reject}")
        uri = settings.table_uri("bronze", contract.source, contract.table)
        yield dg.MaterializeResult(
            metadata={
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "delta_version": result.table_version,
                "path": dg.MetadataValue.path(uri),
                "plants": dg.MetadataValue.json(per_plant),
            }
        )
        yield _validate_written(contract, uri, started, settings, context.run_id)

    return _extract


def build_stream_asset(contract: Contract) -> dg.AssetsDefinition:
    @dg.asset(kinds={"delta", "kafka"}, **_asset_spec_kwargs(contract))
    def _stream(context: AssetExecutionContext, northstar: NorthstarSettings):
        """A bounded micro-batch run: consume every partition from the offsets stored in the Delta log to the end."""
        settings = northstar.get()
        started = datetime.now(timezone.utc)
        uri = settings.table_uri("bronze", contract.source, contract.table)
        result = ingest_stream(
            settings.kafka.client_config(),
            settings.kafka.topic,
            uri,
            settings.table_uri("quarantine", contract.source, contract.table),
            policy=settings.stream_policy,
            progress=lambda r: context.log.info(f"batch {r.batches}: {r.messages} messages, {r.rows_inserted} rows"),
        )
        yield dg.MaterializeResult(
            metadata={
                "messages": result.messages,
                "rows_inserted": result.rows_inserted,
                "readings": result.readings,
                "duplicates_skipped": result.duplicates,
                "conflicts": result.conflicts,
                "already_committed_skipped": result.skipped_already_committed,
                "commit_retries": result.commit_retries,
                "quarantined": result.quarantined,
                "delta_version": result.table_version,
                "path": dg.MetadataValue.path(uri),
                "partitions": dg.MetadataValue.json(
                    {str(p.partition): {"start_offset": p.start_offset, "next_offset": p.next_offset,
                                        "lag": p.lag, "messages": p.messages, "quarantined": p.quarantined}
                     for p in result.partitions.values()}
                ),
            }
        )
        yield _validate_written(contract, uri, started, settings, context.run_id)

    return _stream


def bronze_assets() -> list[dg.AssetsDefinition]:
    """One asset per bronze contract: derived from the catalog, not from a list of names."""
    assets = []
    for contract in load_contracts().values():
        if contract.layer != "bronze":
            continue
        builder = build_stream_asset if contract.source == "sensor" else build_extract_asset
        assets.append(builder(contract))
    return assets


sensor_microbatch_job = dg.define_asset_job(
    "sensor_microbatch", selection=dg.AssetSelection.assets(dg.AssetKey(["bronze", "sensor", "readings"]))
)

sensor_microbatch_schedule = dg.ScheduleDefinition(
    job=sensor_microbatch_job,
    cron_schedule="*/5 * * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Continuous micro-batches of sensor readings from Kafka into bronze (enable in production).",
)


defs = dg.Definitions(assets=bronze_assets(), jobs=[sensor_microbatch_job], schedules=[sensor_microbatch_schedule])
