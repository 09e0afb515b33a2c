"""Stream ingest benchmarks: Kafka -> bronze Delta, against the raw kafka-python consume rate and a naive peer."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from bench.report import Measurement, add
from catalog.contracts import get_contract
from ingestion.broker import EmbeddedBroker
from ingestion.settings import StreamPolicy
from ingestion.stream import ingest_stream

SIZES = {"small": 100_000, "full": 400_000}
BASE = datetime(2026, 6, 1, tzinfo=timezone.utc)
POLICY = StreamPolicy(future_tolerance=timedelta(days=3650))


def _single(i: int) -> bytes:
    ts = (BASE + timedelta(seconds=i // 40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"plant_id": "DE-STR", "asset_id": f"M{i % 40:02d}", "tag": "power_kw", "ts": ts,
                       "value": float(i), "unit": "kW"}).encode()


def _envelope(k: int, size: int) -> bytes:
    asset = f"M{k % 40:02d}"
    start = BASE + timedelta(seconds=(k // 40) * size)
    readings = [{"tag": "power_kw", "ts": (start + timedelta(seconds=j)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "value": float(j), "unit": "kW"} for j in range(size)]
    return json.dumps({"plant_id": "DE-STR", "asset_id": asset, "readings": readings}).encode()


def _produce(servers: str, topic: str, payloads) -> int:
    admin = KafkaAdminClient(bootstrap_servers=[servers])
    admin.create_topics([NewTopic(topic, 4, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=[servers], linger_ms=20, batch_size=512 * 1024, acks=1,
                             max_request_size=16 * 1024 * 1024)
    n = 0
    for i, value in enumerate(payloads):
        producer.send(topic, key=f"k{i % 40}".encode(), value=value)
        n += 1
    producer.flush()
    producer.close()
    return n


def raw_consume_rate(servers: str, topic: str, expected: int) -> float:
    """The limit: kafka-python fetching every message of the topic and doing nothing with it."""
    consumer = KafkaConsumer(bootstrap_servers=[servers], group_id=None, enable_auto_commit=False,
                             max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    seen = 0
    start = time.perf_counter()
    while seen < expected:
        for batch in consumer.poll(timeout_ms=500, max_records=50_000).values():
            seen += len(batch)
    elapsed = time.perf_counter() - start
    consumer.close()
    return seen / elapsed


def naive_ingest_rate(servers: str, topic: str, expected: int, uri: str) -> float:
    """The naive peer: json.loads per message, a Python dict per row, a Delta MERGE per batch."""
    schema = get_contract("bronze.sensor.readings").arrow_schema()
    write_deltalake(uri, schema.empty_table(), partition_by=["plant_id"])
    consumer = KafkaConsumer(bootstrap_servers=[servers], group_id=None, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    seen = 0
    start = time.perf_counter()
    while seen < expected:
        rows = []
        for batch in consumer.poll(timeout_ms=500, max_records=50_000).values():
            for r in batch:
                p = json.loads(r.value)
                rows.append({"plant_id": p["plant_id"], "asset_local_id": p["asset_id"], "tag": p["tag"],
                             "reading_at": datetime.fromisoformat(p["ts"]), "value": float(p["value"]), "unit": p["unit"],
                             "kafka_topic": r.topic, "kafka_partition": r.partition, "kafka_offset": r.offset,
                             "ingested_at": datetime.now(timezone.utc)})
        seen += len(rows)
        if rows:
            (DeltaTable(uri).merge(pa.Table.from_pylist(rows, schema=schema), source_alias="s", target_alias="t",
                                   predicate="t.plant_id = s.plant_id AND t.asset_local_id = s.asset_local_id AND "
                                             "t.tag = s.tag AND t.reading_at = s.reading_at")
             .when_not_matched_insert_all().execute())
    elapsed = time.perf_counter() - start
    consumer.close()
    return seen / elapsed


def _ours(servers: str, topic: str, work: Path, name: str) -> tuple[float, Any]:
    get_contract("bronze.sensor.readings")  # contract loading (ODCS validation) is a once-per-process cost
    start = time.perf_counter()
    result = ingest_stream({"bootstrap_servers": [servers]}, topic, str(work / name), str(work / f"{name}_q"),
                           policy=POLICY, poll_timeout_ms=200)
    return time.perf_counter() - start, result


def _rss_of_worker(servers: str, topic: str, work: Path, name: str) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "ingestion.stream", "--bootstrap-servers", servers, "--topic", topic,
         "--table", str(work / name), "--quarantine", str(work / f"{name}_q")],
        capture_output=True, text=True, check=True, env={**__import__("os").environ,
                                                         "NORTHSTAR_FUTURE_TOLERANCE_MINUTES": str(60 * 24 * 3650)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["max_rss_mb"]


def run(report: dict[str, Any], scale: str) -> None:
    n = SIZES.get(scale, SIZES["small"])
    print(f"stream ingest ({n:,} messages)", flush=True)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        work = Path(tmp)
        servers = broker.bootstrap_servers
        _produce(servers, "single", (_single(i) for i in range(n)))
        limit = raw_consume_rate(servers, "single", n)
        elapsed, result = _ours(servers, "single", work, "ours")
        assert result.rows_inserted == n, (result.rows_inserted, n)
        naive = naive_ingest_rate(servers, "single", n, str(work / "naive"))
        ours = n / elapsed
        add(report, Measurement("stream ingest, one reading per message", ours, "readings/s", limit,
                                "kafka-python consume only", naive, "json.loads + dict rows + MERGE", ">= 0.8 x limit",
                                ours / limit >= 0.8, f"{n:,} messages, 4 partitions, Tansu on loopback"))

        size = 500
        envelopes = max(n * 5 // size, 40)
        _produce(servers, "envelope", (_envelope(k, size) for k in range(envelopes)))
        limit_env = raw_consume_rate(servers, "envelope", envelopes) * size
        elapsed, result = _ours(servers, "envelope", work, "ours_envelope")
        assert result.rows_inserted == envelopes * size, (result.rows_inserted, envelopes * size)
        ours_env = result.rows_inserted / elapsed
        add(report, Measurement("stream ingest, batched envelopes (500 readings)", ours_env, "readings/s", limit_env,
                                "kafka-python consume only (x500)", target=">= 1,000,000 readings/s",
                                met=ours_env >= 1_000_000, notes=f"{envelopes:,} envelopes"))

        small = max(n // 4, 10_000)
        _produce(servers, "mem1x", (_single(i) for i in range(small)))
        _produce(servers, "mem10x", (_single(i) for i in range(small * 10)))
        rss1 = _rss_of_worker(servers, "mem1x", work, "mem1x")
        rss10 = _rss_of_worker(servers, "mem10x", work, "mem10x")
        add(report, Measurement("stream ingest peak RSS, 10x topic vs 1x", rss10, "MB", rss1, "RSS at 1x",
                                target="flat (10x/1x <= 1.25)", met=rss10 / rss1 <= 1.25,
                                notes=f"1x = {small:,} messages, 10x = {small * 10:,}"))
