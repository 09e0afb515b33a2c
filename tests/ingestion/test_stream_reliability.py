"""Reliability scenarios 1-7 and 12-15 (shared/docs/reliability-scenarios.md) against a real broker and real Delta.

Counting is always against what the test produced: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from catalog.contracts import get_contract
from ingestion.delta import ensure_contract_table
from ingestion.settings import StreamPolicy
from ingestion.stream import (
    OffsetGapError,
    Watermarks,
    Record,
    app_id,
    commit_records,
    decode_records,
    ingest_stream,
    resume_offset,
)

pytestmark = pytest.mark.slow
CONTRACT = get_contract("bronze.sensor.readings")
NOW = datetime(2026, 6, 10, tzinfo=timezone.utc)
BASE = datetime(2026, 6, 1, tzinfo=timezone.utc)


def reading(i: int, *, asset: str | None = None, value: float | None = None, ts: datetime | None = None) -> dict:
    at = ts or BASE + timedelta(seconds=i)
    return {"plant_id": "DE-STR", "asset_id": asset or f"M{i % 5:02d}", "tag": "power_kw",
            "ts": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": float(i) if value is None else value, "unit": "kW"}


def records(payloads: list[bytes], partition: int = 0, start: int = 0, topic: str = "t") -> list[Record]:
    return [Record(topic, partition, start + i, b"k", p) for i, p in enumerate(payloads)]


@pytest.fixture
def topic(broker) -> str:
    name = f"reliability.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
    admin.create_topics([NewTopic(name, 4, 1)])
    admin.close()
    return name


def produce(broker, topic: str, payloads: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap_servers], linger_ms=5, acks="all")
    for i, p in enumerate(payloads):
        producer.send(topic, key=f"DE-STR/M{i % 5:02d}".encode(), value=p)
    producer.flush()
    producer.close()


def tables(tmp_path) -> tuple[str, str]:
    table = str(tmp_path / "readings")
    ensure_contract_table(table, CONTRACT)
    return table, str(tmp_path / "quarantine")


def test_envelopes_and_single_readings_decode_in_bulk():
    envelope = {"plant_id": "SG-SIN", "asset_id": "EQ-1",
                "readings": [{"tag": "temperature_c", "ts": "2026-06-01T00:00:0%dZ" % i, "value": 20 + i, "unit": "degC"}
                             for i in range(5)]}
    batch = decode_records(records([json.dumps(envelope).encode(), json.dumps(reading(7)).encode()]), CONTRACT, NOW)
    assert batch.rows.num_rows == 6 and not batch.quarantine
    assert batch.rows["kafka_offset"].to_pylist() == [1, 0, 0, 0, 0, 0]
    assert batch.rows.filter(pc.equal(batch.rows["plant_id"], "SG-SIN"))["value"].to_pylist() == [20, 21, 22, 23, 24]


def test_poison_deep_json_and_oversized_messages_are_quarantined_with_their_offset():
    payloads = [json.dumps(reading(0)).encode(), b"[" * 200_000 + b"]" * 200_000, b"{" + b" " * (1024 * 1024 + 10) + b"}",
                json.dumps({"plant_id": "DE-STR", "asset_id": "M1", "tag": "x", "ts": "yesterday", "value": 1, "unit": "u"}).encode(),
                json.dumps(reading(4)).encode()]
    batch = decode_records(records(payloads, partition=2, start=100), CONTRACT, NOW)
    assert batch.rows["kafka_offset"].to_pylist() == [100, 104]
    reasons = {q["kafka_offset"]: q["reason"] for q in batch.quarantine}
    assert reasons[101] == "payload is not a JSON object" or "nested too deeply" in reasons[101]
    assert "above the limit" in reasons[102]
    assert reasons[103] == "field 'ts' is not an ISO 8601 timestamp with a UTC offset"
    assert all(q["kafka_partition"] == 2 and q["raw_value"] == payloads[q["kafka_offset"] - 100] for q in batch.quarantine)


def test_late_and_future_readings_are_quarantined_with_the_device(tmp_path):
    policy = StreamPolicy(lateness_horizon=timedelta(days=7), future_tolerance=timedelta(minutes=5))
    mark = datetime(2026, 6, 9, tzinfo=timezone.utc)
    series = pa.table({"plant_id": ["DE-STR"] * 3, "asset_local_id": ["LATE3D", "LATE10D", "FUTURE"],
                       "tag": ["power_kw"] * 3, "max_at": pa.array([mark] * 3, pa.timestamp("us", tz="UTC"))})
    watermarks = Watermarks({"DE-STR": mark}, series)
    payloads = [
        json.dumps(reading(1, ts=datetime(2026, 6, 6, tzinfo=timezone.utc), asset="LATE3D")).encode(),  # 3 days late: lands
        json.dumps(reading(2, ts=datetime(2026, 5, 30, tzinfo=timezone.utc), asset="LATE10D")).encode(),
        json.dumps(reading(3, ts=NOW + timedelta(hours=2), asset="FUTURE")).encode(),
    ]
    batch = decode_records(records(payloads), CONTRACT, NOW, policy=policy, watermarks=watermarks)
    assert batch.rows["asset_local_id"].to_pylist() == ["LATE3D"]
    by_asset = {q["asset_local_id"]: q["reason"] for q in batch.quarantine}
    assert by_asset["LATE10D"].startswith("late: more than 7 days")
    # Another device's progress does not make a reading late: a new series has no watermark yet.
    other = decode_records(records([json.dumps(reading(5, ts=datetime(2026, 5, 20, tzinfo=timezone.utc),
                                                       asset="SLOW")).encode()]), CONTRACT, NOW, policy=policy,
                           watermarks=watermarks)
    assert other.rows["asset_local_id"].to_pylist() == ["SLOW"] and not other.quarantine
    assert by_asset["FUTURE"].startswith("future timestamp")


def test_lateness_counts_earlier_readings_of_the_same_batch_so_batch_cuts_do_not_matter(tmp_path):
    policy = StreamPolicy(lateness_horizon=timedelta(hours=1), future_tolerance=timedelta(days=3650))
    at = [BASE + timedelta(hours=h) for h in (0, 3, 1, 2.5, 4)]
    payloads = [json.dumps(reading(i, ts=ts, asset="M1")).encode() for i, ts in enumerate(at)]
    # Another series far ahead says nothing about M1; a reading of a new series is never late.
    payloads.append(json.dumps(reading(5, ts=BASE + timedelta(days=2), asset="M2")).encode())
    payloads.append(json.dumps(reading(6, ts=BASE, asset="M3")).encode())
    one = decode_records(records(payloads), CONTRACT, NOW, policy=policy)
    # Offset 2 (01:00) is 2 h behind 03:00 seen before it; offset 3 (02:30) is 30 min behind: it lands.
    assert {q["kafka_offset"]: q["reason"] for q in one.quarantine} == {2: "late: more than 1:00:00 behind its series' watermark"}
    assert one.rows["kafka_offset"].to_pylist() == [0, 1, 3, 4, 5, 6]

    # The same messages committed in batches of two give the same rows and the same quarantine.
    table, quarantine = tables(tmp_path)
    watermarks = Watermarks.load(DeltaTable(table), policy.lateness_horizon)
    batch = records(payloads)
    for k in range(0, len(batch), 2):
        commit_records(table, quarantine, batch[k:k + 2], "c1", CONTRACT, policy=policy, now=NOW, watermarks=watermarks)
    assert sorted(DeltaTable(table).to_pyarrow_table()["kafka_offset"].to_pylist()) == [0, 1, 3, 4, 5, 6]
    assert [q["kafka_offset"] for q in DeltaTable(quarantine).to_pyarrow_table().to_pylist()] == [2]


def test_redelivering_the_same_batch_three_times_commits_once(tmp_path):
    table, quarantine = tables(tmp_path)
    batch = records([json.dumps(reading(i)).encode() for i in range(100)])
    outcomes = [commit_records(table, quarantine, batch, "c1", CONTRACT, now=NOW) for _ in range(3)]
    assert [o.inserted for o in outcomes] == [100, 0, 0]
    assert [o.skipped_records for o in outcomes] == [0, 100, 100]
    dt = DeltaTable(table)
    assert dt.version() == 1  # the create, then exactly one commit
    assert dt.transaction_version(app_id("c1", "t", 0)) == 99


def test_a_commit_that_raised_although_it_succeeded_is_not_appended_again(tmp_path):
    # The retry path after an ambiguous failure is "call again": the stored version decides.
    table, quarantine = tables(tmp_path)
    batch = records([json.dumps(reading(i)).encode() for i in range(10)], partition=1)
    commit_records(table, quarantine, batch, "c1", CONTRACT, now=NOW)
    retry = commit_records(table, quarantine, batch + records([json.dumps(reading(10)).encode()], 1, 10), "c1",
                           CONTRACT, now=NOW)
    assert retry.inserted == 1 and retry.skipped_records == 10
    assert DeltaTable(table).to_pyarrow_table().num_rows == 11


def test_two_consumers_of_one_partition_racing_from_one_snapshot_write_once(tmp_path):
    for attempt in range(5):
        table, quarantine = tables(tmp_path / str(attempt))
        batch = records([json.dumps(reading(i)).encode() for i in range(200)], partition=3)
        barrier = threading.Barrier(2)
        outcomes = []

        def consume() -> None:
            barrier.wait()
            outcomes.append(commit_records(table, quarantine, batch, "c1", CONTRACT, now=NOW))

        threads = [threading.Thread(target=consume) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(o.inserted for o in outcomes) == [0, 200]
        assert DeltaTable(table).to_pyarrow_table().num_rows == 200


def test_five_concurrent_writers_three_appends_each_give_fifteen_contiguous_versions(tmp_path):
    table, quarantine = tables(tmp_path)

    def writer(w: int) -> None:
        for k in range(3):
            start = k * 10
            payloads = [json.dumps(reading(w * 1000 + start + i, asset=f"W{w}")).encode() for i in range(10)]
            commit_records(table, quarantine, records(payloads, partition=w, start=start), "c1", CONTRACT, now=NOW)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = DeltaTable(table)
    assert dt.version() == 15
    assert [h["version"] for h in dt.history()][::-1] == list(range(16))
    rows = dt.to_pyarrow_table()
    assert rows.num_rows == 150
    assert rows.group_by(["asset_local_id", "reading_at"]).aggregate([]).num_rows == 150
    for w in range(5):
        assert dt.transaction_version(app_id("c1", "t", w)) == 29


def test_same_reading_in_one_batch_and_later_batches_keeps_one_row_and_records_conflicts(tmp_path):
    table, quarantine = tables(tmp_path)
    first = [json.dumps(reading(1)).encode(), json.dumps(reading(1)).encode(), json.dumps(reading(1, value=99.0)).encode()]
    out1 = commit_records(table, quarantine, records(first), "c1", CONTRACT, now=NOW)
    assert (out1.inserted, out1.duplicates, out1.conflicts) == (1, 2, 1)
    later = [json.dumps(reading(1)).encode(), json.dumps(reading(1, value=42.0)).encode(), json.dumps(reading(2)).encode()]
    out2 = commit_records(table, quarantine, records(later, start=3), "c1", CONTRACT, now=NOW)
    assert (out2.inserted, out2.duplicates, out2.conflicts) == (1, 2, 1)
    rows = DeltaTable(table).to_pyarrow_table()
    assert sorted(rows["value"].to_pylist()) == [1.0, 2.0]  # the first value won
    reasons = [q["reason"] for q in DeltaTable(quarantine).to_pyarrow_table().to_pylist()]
    assert sum(r.startswith("conflict:") for r in reasons) == 2
    assert any("already has value 1.0; 99.0 dropped (first write wins)" in r for r in reasons)


def test_resume_fails_loudly_when_the_broker_deleted_unread_data():
    # Tansu implements neither retention nor DeleteRecords, so the broker cannot be made to drop data here;
    # the decision is a pure function, tested directly.
    assert resume_offset("t", 0, None, 0) == 0
    assert resume_offset("t", 0, 41, 10) == 42
    with pytest.raises(OffsetGapError, match="topic t partition 3: expected offset 42, earliest available 50"):
        resume_offset("t", 3, 41, 50)


def test_sigkill_at_random_points_loses_and_duplicates_nothing(broker, topic, tmp_path):
    """At least 20 SIGKILLs of the ingest process at random moments, then a clean run: every reading exactly once."""
    n = 40_000
    payloads = [json.dumps(reading(i, asset=f"M{i % 8:02d}")).encode() for i in range(n)]
    payloads += [json.dumps(reading(i, asset=f"M{i % 8:02d}")).encode() for i in range(0, n, 97)]  # redeliveries
    payloads += [b"{poison %d" % i for i in range(25)]
    produce(broker, topic, payloads)
    table, quarantine = str(tmp_path / "readings"), str(tmp_path / "quarantine")
    cmd = [sys.executable, "-m", "ingestion.stream", "--bootstrap-servers", broker.bootstrap_servers, "--topic", topic,
           "--table", table, "--quarantine", quarantine, "--batch", "700"]
    env = {**os.environ, "NORTHSTAR_FUTURE_TOLERANCE_MINUTES": str(60 * 24 * 365 * 10)}
    rng = random.Random(7)
    kills = 0
    while kills < 22:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.6, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    rows = DeltaTable(table).to_pyarrow_table()
    assert rows.num_rows == n
    assert rows.group_by(["asset_local_id", "reading_at"]).aggregate([]).num_rows == n
    assert sorted(rows["value"].to_pylist()) == [float(i) for i in range(n)]
    q = DeltaTable(quarantine).to_pyarrow_table()
    assert q.filter(pc.starts_with(q["reason"], "invalid JSON")).num_rows == 25
    # Offsets in the log cover every message exactly: per partition the stored version is its last offset.
    dt = DeltaTable(table)
    stored = [dt.transaction_version(app_id(broker.cluster_id, topic, p)) for p in range(4)]
    assert sum(v + 1 for v in stored if v is not None) == len(payloads)
