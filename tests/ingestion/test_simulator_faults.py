"""Fault injection: every knob is off by default, each injected fault is in the ledger, and the pipeline's response
matches the ledger exactly.

Extract faults go through the real bronze ingestion (ingestion.extracts.ingest_table) and the master-data queue
(catalog.masterdata); stream faults through a real broker and the real Kafka consumer (ingestion.stream), which is
why that test is marked slow.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml
from deltalake import DeltaTable
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from test_simulator_reader import read_extract, truth

from catalog.contracts import get_contract
from catalog.masterdata import unmapped_queue
from catalog.plants import load_plants
from ingestion.extracts import ingest_table
from ingestion.settings import StreamPolicy
from ingestion.simulator import FaultLedger, generate_network, iter_sensor_readings, publish_sensor_readings
from ingestion.simulator.config import FaultConfig, load_network_config
from ingestion.simulator.faults import UNMAPPED_CODES
from ingestion.stream import ingest_stream

CI = yaml.safe_load((Path(__file__).resolve().parents[2] / "ingestion/simulator/networks/ci.yaml").read_text())
EXTRACT_FAULTS = {
    "unmapped_codes": 3,
    "malformed_rows": 2,
    "missing_shifts": 1,
    "schema_drift": [
        {"plant_id": "MX-MTY", "source": "mes", "table": "assets", "kind": "rename", "column": "asset_name"},
        {"plant_id": "DE-STR", "source": "erp", "table": "work_orders", "kind": "add", "column": "Bemerkung"},
    ],
}
STREAM_FAULTS = {
    "duplicate_messages": 0.01,
    "redelivered_batches": 2,
    "redelivery_batch": 50,
    "late_readings": 0.005,
    "late_delay_s": 1800,
    "out_of_order": 0.01,
    "future_timestamps": 3,
    "clock_skew": [{"plant_id": "DE-STR", "asset_local_id": "A101", "offset_s": 90}],
}


def _network(tmp_path: Path, name: str, faults: dict) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**CI, "name": name, "faults": faults}, allow_unicode=True), encoding="utf-8")
    return str(path)


def _ledger(root: Path) -> list[dict]:
    text = (root / "simulator/ground_truth/fault_ledger.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


# US-OHI's ci counts file holds one day of two shifts; with one of them missing (missing_shifts), 2 bad rows are
# 5.3 % of it: above the default 5 % that refuses a whole file. The faults here are judged row by row.
MAX_REJECT_SHARE = 0.1


def _ingest(root: Path, contract_id: str):
    plants = {p: load_plants()[p] for p in ("DE-STR", "MX-MTY", "US-OHI")}
    return ingest_table(get_contract(contract_id), plants, root / "landing", root / "lake",
                        max_reject_share=MAX_REJECT_SHARE)


@pytest.fixture(scope="module")
def extract_faults_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("extract_faults")
    generate_network(_network(root, "extract-faults", EXTRACT_FAULTS), root / "data")
    return root / "data"


def test_every_knob_is_off_by_default_and_the_ledger_is_then_empty(tmp_path: Path) -> None:
    assert FaultConfig() == load_network_config("ci").faults == load_network_config("demo").faults
    assert not FaultConfig().any and not FaultConfig().stream_faults
    summary = generate_network("ci", tmp_path)
    assert summary.fault_counts == {} and _ledger(tmp_path) == []


def test_the_ledger_counts_every_extract_fault(extract_faults_root: Path) -> None:
    counts = Counter(entry["knob"] for entry in _ledger(extract_faults_root))
    # missing_shifts: per plant one shift, left out of the calendar and of the production counts (two entries)
    assert counts == {"unmapped_codes": 9, "malformed_rows": 6, "missing_shifts": 6, "schema_drift": 2}
    manifest = json.loads((extract_faults_root / "simulator/manifest.json").read_text(encoding="utf-8"))
    assert manifest["fault_counts"] == dict(counts)


def test_malformed_rows_are_rejected_at_the_ledgers_file_line_and_column(extract_faults_root: Path) -> None:
    result = _ingest(extract_faults_root, "bronze.mes.production_counts")
    rejects = {
        (r.source_file, r.source_line, r.column)
        for outcome in result.plants.values() for f in outcome.files for r in f.rejects
    }
    ledger = {
        (e["target"].removeprefix("landing/"), e["line"], e["column"])
        for e in _ledger(extract_faults_root) if e["knob"] == "malformed_rows"
    }
    assert rejects == ledger and len(ledger) == 6
    for plant_id, outcome in result.plants.items():
        assert outcome.refused_files == []  # 2 bad rows are below the threshold: the good rows load
        lines = (extract_faults_root / "landing" / outcome.files[0].source_file).read_bytes().count(b"\n")
        assert outcome.rows_rejected == 2 and outcome.rows_loaded == lines - 1 - 2, plant_id


def test_unmapped_codes_land_in_bronze_and_queue_for_the_mapping_owners(extract_faults_root: Path) -> None:
    _ingest(extract_faults_root, "bronze.mes.machine_states")
    states = DeltaTable(str(extract_faults_root / "lake/bronze/mes/machine_states")).to_pyarrow_table().to_pylist()
    ledger = [e for e in _ledger(extract_faults_root) if e["knob"] == "unmapped_codes"]
    landed = {(r["source_file"], r["source_line"]): r["state_local_code"] for r in states}
    for entry in ledger:
        assert landed[(entry["target"].removeprefix("landing/"), entry["line"])] == UNMAPPED_CODES[entry["plant_id"]]
    queue = unmapped_queue(extract_faults_root, kinds={"machine_state"})
    queued = {(c.plant_id, c.local_code): c.rows for c in queue.codes}
    assert queued == {(plant, UNMAPPED_CODES[plant]): 3 for plant in ("DE-STR", "MX-MTY", "US-OHI")}


def test_a_missing_shift_is_missing_from_bronze_but_not_from_the_truth(extract_faults_root: Path) -> None:
    result = _ingest(extract_faults_root, "bronze.mes.shift_calendar")
    true_shifts = {(r["plant_id"], r["shift_code"], r["shift_date"]) for r in truth(extract_faults_root, "asset_shift")}
    calendar = DeltaTable(str(extract_faults_root / "lake/bronze/mes/shift_calendar")).to_pyarrow_table().to_pylist()
    landed = {(r["plant_id"], r["shift_local_code"], r["shift_date"]) for r in calendar}
    assert len(landed) == len(true_shifts) - 3 == result.rows_loaded
    for entry in (e for e in _ledger(extract_faults_root) if e["knob"] == "missing_shifts"):
        code, _, day = entry["detail"].split(" ")[1:4]
        assert (entry["plant_id"], code, dt.date.fromisoformat(day)) in true_shifts - landed


def test_schema_drift_refuses_a_renamed_column_and_ignores_an_added_one(extract_faults_root: Path) -> None:
    assets = _ingest(extract_faults_root, "bronze.mes.assets")
    refused = assets.plants["MX-MTY"].files[0]
    assert refused.status == "refused" and "missing column(s) ['descripcion']" in refused.rejects[0].error
    assert "descripcion_v2" in refused.rejects[0].error
    assert assets.plants["DE-STR"].rows_loaded == 4  # the other plants keep flowing
    orders = _ingest(extract_faults_root, "bronze.erp.work_orders")
    expected = len(read_extract(extract_faults_root, "MX-MTY", "erp", "work_orders"))
    assert orders.plants["MX-MTY"].rows_loaded == expected
    de = orders.plants["DE-STR"]
    assert de.refused_files == [] and de.rows_rejected == 0 and de.rows_loaded > 0


def test_malformed_files_are_refused_whole_and_named(tmp_path: Path) -> None:
    generate_network(_network(tmp_path, "broken-files", {"malformed_files": 3}), tmp_path / "data")
    root = tmp_path / "data"
    ledger = [e for e in _ledger(root) if e["knob"] == "malformed_files"]
    assert len(ledger) == 3 and len({e["plant_id"] for e in ledger}) == 3  # one per plant
    for entry in ledger:
        source, table = _table_of(entry["target"])
        result = _ingest(root, f"bronze.{source}.{table}")
        assert result.plants[entry["plant_id"]].refused_files == [entry["target"].removeprefix("landing/")]


def _table_of(target: str) -> tuple[str, str]:
    _, plant_id, source, file_name = target.split("/")
    for (s, table), dialect in load_plants()[plant_id].dialects.items():
        if s == source and Path(file_name).match(dialect.file_glob):
            return source, table
    raise AssertionError(target)


# --- stream faults through a real broker ----------------------------------------------------------------------------


def test_the_stream_ledger_accounts_for_every_published_message(tmp_path: Path) -> None:
    path = _network(tmp_path, "stream-faults", STREAM_FAULTS)
    summary = generate_network(path, tmp_path / "data")
    ledger = FaultLedger()
    published = list(iter_sensor_readings(path, ledger=ledger))
    counts = ledger.counts()
    assert summary.fault_counts == counts  # generation writes the same ledger the publisher produces
    redelivered = sum(int(e.detail.split()[0]) for e in ledger.entries if e.knob == "redelivered_batches")
    assert counts["redelivered_batches"] == 2 and redelivered == 100
    assert counts["future_timestamps"] == 3 and counts["clock_skew"] == 1
    assert len(published) == summary.sensor_readings + counts["duplicate_messages"] + redelivered
    assert counts["late_readings"] > 0 and counts["out_of_order"] > 0
    assert [r.ts for r in published] != sorted(r.ts for r in published)  # late and out-of-order


@pytest.mark.slow
def test_the_pipeline_keeps_each_true_reading_once_and_quarantines_the_future_ones(broker, tmp_path: Path) -> None:
    path = _network(tmp_path, "stream-faults", STREAM_FAULTS)
    generate_network(path, tmp_path / "data")
    ledger = FaultLedger()
    published = list(iter_sensor_readings(path, ledger=ledger))
    topic = f"test.faults.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
    admin.create_topics([NewTopic(topic, 4, 1)])
    admin.close()
    assert publish_sensor_readings(published, broker.bootstrap_servers, topic) == len(published)

    table = tmp_path / "lake/bronze/sensor/readings"
    result = ingest_stream({"bootstrap_servers": [broker.bootstrap_servers]}, topic, str(table),
                           str(tmp_path / "lake/quarantine/sensor/readings"))
    future = {e.ts for e in ledger.entries if e.knob == "future_timestamps"}
    now = dt.datetime.now(dt.UTC)
    future_messages = [r for r in published if r.ts > now]
    assert len({(r.plant_id, r.asset_local_id, r.tag, r.ts) for r in future_messages}) == len(future) == 3
    assert result.messages == len(published)
    assert result.quarantined == len(future_messages)  # every copy of a future reading, with the device id
    distinct = {(r.plant_id, r.asset_local_id, r.tag, r.ts) for r in published if r.ts <= now}
    rows = DeltaTable(str(table)).to_pyarrow_table().to_pylist()
    assert result.rows_inserted == len(rows) == len(distinct) == len(truth(tmp_path / "data", "sensor_readings")) - 3
    assert result.duplicates == len(published) - len(future_messages) - len(distinct)
    assert result.conflicts == 0
    # Clock skew is not detectable from one gateway's stream: A101's readings land 90 s off, as the ledger says.
    true_times = {r["ts"] for r in truth(tmp_path / "data", "sensor_readings") if r["asset_local_id"] == "A101"
                  and r["plant_id"] == "DE-STR"}
    landed = {r["reading_at"] for r in rows if r["asset_local_id"] == "A101" and r["plant_id"] == "DE-STR"}
    assert landed and landed <= {t + dt.timedelta(seconds=90) for t in true_times}


def _publish(broker, path: str, published: list) -> str:
    topic = f"test.faults.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
    admin.create_topics([NewTopic(topic, 4, 1)])
    admin.close()
    assert publish_sensor_readings(published, broker.bootstrap_servers, topic) == len(published)
    return topic


def _messages(broker, topic: str, expected: int) -> dict[tuple[int, int], bytes]:
    """Every message of the topic by (partition, offset), read back from the broker."""
    consumer = KafkaConsumer(bootstrap_servers=[broker.bootstrap_servers], group_id=None, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    messages: dict[tuple[int, int], bytes] = {}
    while len(messages) < expected:
        for batch in consumer.poll(timeout_ms=1000).values():
            messages.update({(r.partition, r.offset): r.value for r in batch})
    consumer.close()
    return messages


@pytest.mark.slow
def test_readings_later_than_the_horizon_are_quarantined_exactly_as_ledgered(broker, tmp_path: Path) -> None:
    """late_readings with late_delay_s (1 h) beyond a 20-minute lateness horizon: the ledger says how far behind its
    series each late reading was published; exactly those beyond the horizon are quarantined, whatever the batch size,
    with topic, partition and offset of their message; every other reading lands once."""
    horizon = dt.timedelta(minutes=20)
    path = _network(tmp_path, "late", {"late_readings": 0.004, "late_delay_s": 3600, "duplicate_messages": 0.005})
    ledger = FaultLedger()
    published = list(iter_sensor_readings(path, ledger=ledger))
    behind = {(e.plant_id, e.asset_local_id, e.tag, e.ts): int(e.detail.split()[1])
              for e in ledger.entries if e.knob == "late_readings"}
    beyond = {key for key, seconds in behind.items() if seconds > horizon.total_seconds()}
    assert len(beyond) >= 100 and len(behind) > len(beyond)  # some held readings were released before 20 min passed
    topic = _publish(broker, path, published)
    messages = _messages(broker, topic, len(published))
    distinct = {(r.plant_id, r.asset_local_id, r.tag, r.ts.strftime("%Y-%m-%dT%H:%M:%SZ")) for r in published}

    for batch in (50_000, 997):
        lake = tmp_path / f"lake-{batch}"
        result = ingest_stream({"bootstrap_servers": [broker.bootstrap_servers]}, topic,
                               str(lake / "bronze/sensor/readings"), str(lake / "quarantine/sensor/readings"),
                               policy=StreamPolicy(lateness_horizon=horizon), max_batch_messages=batch)
        quarantine = DeltaTable(str(lake / "quarantine/sensor/readings")).to_pyarrow_table().to_pylist()
        assert {q["reason"] for q in quarantine} == {"late: more than 0:20:00 behind its series' watermark"}
        assert all(q["kafka_topic"] == topic and messages[(q["kafka_partition"], q["kafka_offset"])] == q["raw_value"]
                   for q in quarantine)
        payloads = [json.loads(q["raw_value"]) for q in quarantine]
        quarantined = Counter((p["plant_id"], p["asset_id"], p["tag"], p["ts"]) for p in payloads)
        assert set(quarantined) == beyond and set(quarantined.values()) == {1}
        assert result.quarantined == len(beyond)

        rows = DeltaTable(str(lake / "bronze/sensor/readings")).to_pyarrow_table()
        landed = Counter(zip(rows["plant_id"].to_pylist(), rows["asset_local_id"].to_pylist(), rows["tag"].to_pylist(),
                             [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in rows["reading_at"].to_pylist()]))
        assert set(landed) == distinct - beyond and set(landed.values()) == {1}
        assert result.rows_inserted == rows.num_rows == len(distinct) - len(beyond)

