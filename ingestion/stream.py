"""Sensor readings from Kafka into the bronze Delta table, exactly once.

Design (see docs/design.md and environment-facts):
- Partition assignment, no consumer groups. The consumer's position per partition lives in the Delta log: each commit
  carries one ``Transaction(app_id, version=last offset)`` per partition it covers, atomically with the rows. On start
  the consumer seeks to ``transaction_version(app_id) + 1``.
- Each micro-batch is parsed into Arrow columns in bulk, de-duplicated on the natural key (plant, asset, tag, time),
  and MERGEd so that redelivered readings from earlier batches are skipped.
- Messages that cannot be parsed are quarantined with topic, partition, offset, raw bytes and reason; their offsets
  still advance, so a poison message never stalls a partition.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from kafka import KafkaConsumer, TopicPartition

from catalog.contracts import Contract, get_contract
from ingestion.delta import ensure_contract_table, ensure_table

log = logging.getLogger(__name__)

CONTRACT_ID = "bronze.sensor.readings"
PIPELINE = "bronze.sensor.readings"

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("kafka_topic", pa.string(), nullable=False),
        pa.field("kafka_partition", pa.int32(), nullable=False),
        pa.field("kafka_offset", pa.int64(), nullable=False),
        pa.field("raw_key", pa.binary()),
        pa.field("raw_value", pa.binary()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

_REQUIRED = {"plant_id": str, "asset_id": str, "tag": str, "ts": str, "unit": str}


class OffsetGapError(RuntimeError):
    """The broker no longer holds the offset the lake expects next: data would be lost silently."""


def app_id(cluster_id: str, topic: str, partition: int) -> str:
    """One Delta transaction id per cluster, topic-partition and pipeline (offsets mean nothing on another cluster)."""
    return f"northstar:{PIPELINE}:{cluster_id}:{topic}:{partition}"


def quarantine_app_id(cluster_id: str, topic: str, partition: int) -> str:
    return f"northstar:{PIPELINE}.quarantine:{cluster_id}:{topic}:{partition}"


@dataclass
class PartitionStats:
    partition: int
    start_offset: int
    next_offset: int
    end_offset: int
    messages: int = 0
    quarantined: int = 0

    @property
    def lag(self) -> int:
        return max(self.end_offset - self.next_offset, 0)


@dataclass
class StreamResult:
    topic: str
    cluster_id: str = ""
    partitions: dict[int, PartitionStats] = field(default_factory=dict)
    batches: int = 0
    messages: int = 0
    rows_inserted: int = 0
    duplicates: int = 0  # readings whose natural key was already in the batch or the table
    conflicts: int = 0  # duplicates that carried a different value (first write wins)
    table_version: int | None = None

    @property
    def quarantined(self) -> int:
        return sum(p.quarantined for p in self.partitions.values())


@dataclass
class ParsedBatch:
    rows: pa.Table  # contract schema, de-duplicated on the natural key
    quarantine: list[dict[str, Any]]
    duplicates: int  # natural keys repeated inside the batch
    conflicts: int


def _parse_ts(text: str) -> datetime:
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return ts.astimezone(timezone.utc)


def parse_messages(messages: Iterable[Any], contract: Contract, ingested_at: datetime) -> ParsedBatch:
    """Turn Kafka records into contract rows; bad records become quarantine entries with their reason.

    Duplicates inside the batch (same natural key) collapse to the first occurrence; a duplicate carrying a
    different value counts as a conflict (first write wins, documented in the contract).
    """
    cols: dict[str, list[Any]] = {n: [] for n in contract.column_names}
    quarantine: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str, datetime], float] = {}
    duplicates = 0
    conflicts = 0
    for m in messages:
        try:
            payload = json.loads(m.value)
            if not isinstance(payload, dict):
                raise ValueError("payload is not a JSON object")
            for name, typ in _REQUIRED.items():
                if not isinstance(payload.get(name), typ):
                    raise ValueError(f"field {name!r} missing or not a {typ.__name__}")
            value = payload.get("value")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("field 'value' missing or not a number")
            reading_at = _parse_ts(payload["ts"])
        except (ValueError, UnicodeDecodeError) as exc:
            quarantine.append(
                {"kafka_topic": m.topic, "kafka_partition": m.partition, "kafka_offset": m.offset,
                 "raw_key": m.key, "raw_value": m.value, "reason": f"{type(exc).__name__}: {exc}",
                 "quarantined_at": ingested_at}
            )
            continue
        key = (payload["plant_id"], payload["asset_id"], payload["tag"], reading_at)
        if key in seen:
            duplicates += 1
            if seen[key] != float(value):
                conflicts += 1
            continue
        seen[key] = float(value)
        cols["plant_id"].append(payload["plant_id"])
        cols["asset_local_id"].append(payload["asset_id"])
        cols["tag"].append(payload["tag"])
        cols["reading_at"].append(reading_at)
        cols["value"].append(float(value))
        cols["unit"].append(payload["unit"])
        cols["kafka_topic"].append(m.topic)
        cols["kafka_partition"].append(m.partition)
        cols["kafka_offset"].append(m.offset)
        cols["ingested_at"].append(ingested_at)
    rows = pa.Table.from_pydict(cols, schema=contract.arrow_schema())
    return ParsedBatch(rows, quarantine, duplicates, conflicts)


def _merge_predicate(rows: pa.Table) -> str:
    """Natural-key match, narrowed by the batch's time range so delta-rs can skip files by their statistics."""
    lo = pa.compute.min(rows["reading_at"]).as_py().strftime("%Y-%m-%d %H:%M:%S.%f")
    hi = pa.compute.max(rows["reading_at"]).as_py().strftime("%Y-%m-%d %H:%M:%S.%f")
    return (
        f"t.reading_at >= '{lo}'::timestamp AND t.reading_at <= '{hi}'::timestamp "
        "AND t.plant_id = s.plant_id AND t.asset_local_id = s.asset_local_id "
        "AND t.tag = s.tag AND t.reading_at = s.reading_at"
    )


def commit_batch(
    table_uri: str,
    quarantine_uri: str,
    batch: ParsedBatch,
    offsets: dict[tuple[str, int], int],
    cluster_id: str,
) -> int:
    """Write quarantine entries, then merge rows and record the last offset per partition in the same commit.

    Returns the number of rows inserted (redelivered natural keys are skipped by the merge).
    """
    if batch.quarantine:
        q_table = ensure_table(quarantine_uri, QUARANTINE_SCHEMA)
        fresh = [
            q for q in batch.quarantine
            if q["kafka_offset"] > (q_table.transaction_version(quarantine_app_id(cluster_id, q["kafka_topic"], q["kafka_partition"])) or -1)
        ]
        if fresh:
            last: dict[tuple[str, int], int] = {}
            for q in fresh:
                k = (q["kafka_topic"], q["kafka_partition"])
                last[k] = max(last.get(k, -1), q["kafka_offset"])
            write_deltalake(
                quarantine_uri,
                pa.Table.from_pylist(fresh, schema=QUARANTINE_SCHEMA),
                mode="append",
                commit_properties=CommitProperties(
                    app_transactions=[Transaction(quarantine_app_id(cluster_id, t, p), o) for (t, p), o in last.items()]
                ),
            )
    txns = [Transaction(app_id(cluster_id, t, p), o) for (t, p), o in offsets.items()]
    table = DeltaTable(table_uri)
    if batch.rows.num_rows:
        metrics = (
            table.merge(batch.rows, predicate=_merge_predicate(batch.rows), source_alias="s", target_alias="t",
                        commit_properties=CommitProperties(app_transactions=txns))
            .when_not_matched_insert_all()
            .execute()
        )
        inserted = int(metrics.get("num_target_rows_inserted", 0))
        # A merge that changes nothing may not commit; the offsets must be recorded regardless.
        if all(DeltaTable(table_uri).transaction_version(t.app_id) != t.version for t in txns):
            _commit_offsets_only(table_uri, batch.rows.schema, txns)
        return inserted
    _commit_offsets_only(table_uri, batch.rows.schema, txns)
    return 0


def _commit_offsets_only(table_uri: str, schema: pa.Schema, txns: list[Transaction]) -> None:
    write_deltalake(table_uri, schema.empty_table(), mode="append",
                    commit_properties=CommitProperties(app_transactions=txns))


def ingest_stream(
    client_config: dict[str, Any],
    topic: str,
    table_uri: str,
    quarantine_uri: str,
    *,
    max_batch_messages: int = 50_000,
    poll_timeout_ms: int = 500,
    max_seconds: float | None = None,
    progress: Callable[[StreamResult], None] | None = None,
) -> StreamResult:
    """Consume every partition of ``topic`` from the offsets stored in the Delta log up to the end offsets seen at
    start (a bounded micro-batch run), committing rows and offsets atomically per batch."""
    contract = get_contract(CONTRACT_ID)
    table = ensure_contract_table(table_uri, contract)
    consumer = KafkaConsumer(
        **client_config,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    result = StreamResult(topic=topic)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise RuntimeError(f"topic {topic!r} does not exist on {client_config.get('bootstrap_servers')}")
        cluster_id = consumer._client.cluster.cluster_id or "unknown-cluster"
        result.cluster_id = cluster_id
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        earliest = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        for tp in tps:
            stored = table.transaction_version(app_id(cluster_id, topic, tp.partition))
            start = earliest[tp] if stored is None else stored + 1
            if stored is not None and start < earliest[tp]:
                raise OffsetGapError(
                    f"topic {topic} partition {tp.partition}: expected offset {start}, "
                    f"earliest available {earliest[tp]} (the broker deleted data that was never ingested)"
                )
            consumer.seek(tp, start)
            result.partitions[tp.partition] = PartitionStats(tp.partition, start, start, max(end[tp], start))
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while deadline is None or time.monotonic() < deadline:
            polled = consumer.poll(timeout_ms=poll_timeout_ms, max_records=max_batch_messages)
            records = [r for batch in polled.values() for r in batch]
            if not records:
                # Some brokers (Tansu) under-report end offsets, so "caught up" also needs an empty poll.
                if all(p.next_offset >= p.end_offset for p in result.partitions.values()):
                    break
                continue
            now = datetime.now(timezone.utc)
            parsed = parse_messages(records, contract, now)
            offsets: dict[tuple[str, int], int] = {}
            for r in records:
                k = (r.topic, r.partition)
                offsets[k] = max(offsets.get(k, -1), r.offset)
            inserted = commit_batch(table_uri, quarantine_uri, parsed, offsets, cluster_id)
            for (_, p), last in offsets.items():
                stats = result.partitions[p]
                stats.next_offset = last + 1
                highwater = consumer.highwater(TopicPartition(topic, p))
                stats.end_offset = max(stats.end_offset, highwater or 0, stats.next_offset)
            for r in records:
                result.partitions[r.partition].messages += 1
            for q in parsed.quarantine:
                result.partitions[q["kafka_partition"]].quarantined += 1
            result.batches += 1
            result.messages += len(records)
            result.rows_inserted += inserted
            result.duplicates += len(records) - len(parsed.quarantine) - inserted
            result.conflicts += parsed.conflicts
            if progress:
                progress(result)
    finally:
        consumer.close()
    result.table_version = DeltaTable(table_uri).version()
    return result

