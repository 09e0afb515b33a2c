"""Kafka -> bronze Delta against a real Tansu broker: exactly once, offsets in the Delta log, quarantine."""

from __future__ import annotations

import json
import uuid

import pytest
from deltalake import DeltaTable
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from ingestion.stream import app_id, ingest_stream

pytestmark = pytest.mark.slow


def _reading(i: int, value: float | None = None) -> dict:
    return {"plant_id": "DE-STR", "asset_id": f"M{i % 7:02d}", "tag": "power_kw",
            "ts": f"2026-06-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "value": float(i) if value is None else value, "unit": "kW"}


@pytest.fixture
def topic(broker) -> str:
    name = f"test.readings.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
    admin.create_topics([NewTopic(name, 4, 1)])
    admin.close()
    return name


def _produce(broker, topic: str, payloads: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap_servers], linger_ms=5)
    for i, p in enumerate(payloads):
        producer.send(topic, key=f"k{i % 13}".encode(), value=p)
    producer.flush()
    producer.close()


def test_exactly_once_with_duplicates_poison_and_resume(broker, topic, tmp_path):
    table, quarantine = str(tmp_path / "readings"), str(tmp_path / "quarantine")
    good = [json.dumps(_reading(i)).encode() for i in range(3000)]
    duplicates = good[:100]  # redelivered by a gateway: same natural keys at new offsets
    poison = [b"{not json", json.dumps({"plant_id": "DE-STR"}).encode(), b"\xff\xfe"]
    _produce(broker, topic, good + duplicates + poison)
    config = {"bootstrap_servers": [broker.bootstrap_servers]}

    first = ingest_stream(config, topic, table, quarantine, max_batch_messages=500)
    assert first.messages == 3103
    assert first.rows_inserted == 3000
    assert first.duplicates == 100
    assert first.quarantined == 3
    rows = DeltaTable(table).to_pyarrow_table()
    assert rows.num_rows == 3000
    keys = {(r["asset_local_id"], r["reading_at"]) for r in rows.select(["asset_local_id", "reading_at"]).to_pylist()}
    assert len(keys) == 3000

    q = DeltaTable(quarantine).to_pyarrow_table().to_pylist()
    assert sorted(r["raw_value"] for r in q) == sorted(poison)
    assert all(r["kafka_topic"] == topic and r["kafka_offset"] >= 0 for r in q)
    assert any("field 'asset_id' missing" in r["reason"] for r in q)

    # Offsets live in the Delta log, one transaction per partition: the last offset of each partition.
    dt = DeltaTable(table)
    for p in first.partitions.values():
        stored = dt.transaction_version(app_id(first.cluster_id, topic, p.partition))
        assert stored == (p.next_offset - 1 if p.messages else None)
    assert sum(p.next_offset - p.start_offset for p in first.partitions.values()) == 3103

    # Resume: nothing new, nothing re-read, no new Delta version.
    version = dt.version()
    second = ingest_stream(config, topic, table, quarantine)
    assert second.messages == 0 and DeltaTable(table).version() == version

    # Redelivery of already-ingested readings in a later batch: skipped by the merge; new ones land.
    _produce(broker, topic, good[:50] + [json.dumps(_reading(i)).encode() for i in range(3000, 3010)])
    third = ingest_stream(config, topic, table, quarantine)
    assert third.messages == 60 and third.rows_inserted == 10 and third.duplicates == 50
    assert DeltaTable(table).to_pyarrow_table().num_rows == 3010
    assert DeltaTable(quarantine).to_pyarrow_table().num_rows == 3


def test_conflicting_duplicate_keeps_the_first_value_and_counts_the_conflict(broker, topic, tmp_path):
    _produce(broker, topic, [json.dumps(_reading(1, 5.0)).encode()])
    _produce(broker, topic, [json.dumps(_reading(1, 9.0)).encode()])
    result = ingest_stream({"bootstrap_servers": [broker.bootstrap_servers]}, topic, str(tmp_path / "r"),
                           str(tmp_path / "q"))
    assert result.rows_inserted == 1 and result.duplicates == 1
    assert DeltaTable(str(tmp_path / "r")).to_pyarrow_table()["value"].to_pylist() == [5.0]
