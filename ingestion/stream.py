"""Sensor readings from Kafka into the bronze Delta table, exactly once.

Design (docs/design.md, environment-facts):
- **Offsets live in the Delta log.** Partition assignment, no consumer groups. Every commit carries one
  ``Transaction(app_id, version=last offset)`` per partition it covers, atomically with the rows. On start the consumer
  seeks to ``transaction_version(app_id) + 1``. A crash before the commit leaves orphan files nobody reads (they are
  not in the log); a crash after it resumes after the committed offsets.
- **Idempotent commits.** Before writing, records at or below the stored version are dropped, so a redelivered batch,
  a retry after a commit that raised although it succeeded, or a second consumer of the same partition never appends
  twice. Two writers racing from one snapshot: delta-rs rejects the second (``CommitFailedError``); it re-reads the
  stored versions and retries with what is left.
- **Bulk decoding.** A micro-batch is decoded with ``pyarrow.json`` in one call (about 1 M messages/s) and validated
  with Arrow compute. A batch containing a message the bulk parser cannot take falls back to decoding per message,
  which pins the error on the exact offset.
- **Two payload formats** (the contract's ``payloadFormat``): one JSON object per reading, and a gateway envelope
  ``{"plant_id", "asset_id", "readings": [{"tag", "ts", "value", "unit"}, ...]}`` carrying many readings.
- **Natural key (plant, asset, tag, reading time).** Duplicates inside a batch and redeliveries of stored readings
  collapse to one row; the first value written wins and a different later value is recorded as a conflict.
- **Quarantine** (``lake/quarantine/sensor/readings``): poison messages, readings later than the lateness horizon
  behind their series' watermark (the newest accepted reading of the same plant, asset and tag before them, stored or
  earlier in the same batch, so where batches are cut does not matter), and readings further in the future than the
  tolerance, each with topic, partition, offset, raw bytes and the reason. Their offsets still advance: a poison
  message never stalls a partition.
- **Fetch and commit overlap.** A batch is decoded and committed on one worker thread while the consumer fetches the
  next; commits stay strictly in order, one at a time, so offsets and watermarks advance as in a sequential loop.
- **Per-series work on integers.** Each batch maps (plant, asset, tag) to dense integer ids once; lateness,
  de-duplication and watermarks run on those ids and int64 times with numpy, not on string keys.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import chain, compress
from operator import attrgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.json as pajson
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError
from kafka import KafkaConsumer, TopicPartition

from catalog.contracts import Contract, get_contract
from ingestion.delta import ensure_contract_table, ensure_table
from ingestion.settings import StreamPolicy

log = logging.getLogger(__name__)

CONTRACT_ID = "bronze.sensor.readings"
PIPELINE = "bronze.sensor.readings"
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_COMMIT_ATTEMPTS = 10

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("kafka_topic", pa.string(), nullable=False),
        pa.field("kafka_partition", pa.int32(), nullable=False),
        pa.field("kafka_offset", pa.int64(), nullable=False),
        pa.field("plant_id", pa.string()),
        pa.field("asset_local_id", pa.string()),  # the device, when the message could be read that far
        pa.field("raw_key", pa.binary()),
        pa.field("raw_value", pa.binary()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

_READING = pa.struct(
    [("tag", pa.string()), ("ts", pa.string()), ("value", pa.float64()), ("unit", pa.string())]
)
_PAYLOAD_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_id", pa.string()),
        ("tag", pa.string()),
        ("ts", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("readings", pa.list_(_READING)),
    ]
)
_KEY = ["plant_id", "asset_local_id", "tag", "reading_at"]


class OffsetGapError(RuntimeError):
    """The broker no longer holds the offset the lake expects next: data would be lost silently."""


def app_id(cluster_id: str, topic: str, partition: int) -> str:
    """One Delta transaction id per cluster, topic-partition and pipeline (offsets mean nothing on another cluster)."""
    return f"northstar:{PIPELINE}:{cluster_id}:{topic}:{partition}"


def quarantine_app_id(cluster_id: str, topic: str, partition: int) -> str:
    return f"northstar:{PIPELINE}.quarantine:{cluster_id}:{topic}:{partition}"


@dataclass
class Record:
    """The parts of a Kafka record Northstar uses (kafka-python's ConsumerRecord has more)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


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
    readings: int = 0  # readings decoded (an envelope carries many)
    rows_inserted: int = 0
    duplicates: int = 0  # readings whose natural key was already in the batch or the table
    conflicts: int = 0  # duplicates that carried a different value (first write wins)
    skipped_already_committed: int = 0  # records at or below the stored offset (redelivery, retry, rival consumer)
    commit_retries: int = 0
    table_version: int | None = None

    @property
    def quarantined(self) -> int:
        return sum(p.quarantined for p in self.partitions.values())


@dataclass
class DecodedBatch:
    rows: pa.Table  # contract schema (before de-duplication)
    quarantine: list[dict[str, Any]]
    series_ids: np.ndarray  # per row, its index in `series`
    series: pa.Table  # plant_id, asset_local_id, tag of every series in the batch


# ---------------------------------------------------------------------------------------------------------------
# Series: integer ids for (plant, asset, tag), so per-series work runs on numbers, not strings
# ---------------------------------------------------------------------------------------------------------------

_NONE = np.iinfo(np.int64).min  # "no time" in int64 microseconds


def series_ids(plant: pa.Array, asset: pa.Array, tag: pa.Array) -> tuple[np.ndarray, pa.Table]:
    """A dense id per reading for its series, and the series table (plant_id, asset_local_id, tag) it indexes."""
    n = len(plant)
    raw = np.zeros(n, np.int64)
    size = 1
    for column in (plant, asset, tag):
        encoded = pc.dictionary_encode(column)
        width = len(encoded.dictionary) + 1  # the last code stands for null
        raw = raw * width + pc.fill_null(encoded.indices, width - 1).to_numpy().astype(np.int64)
        size *= width
    if size <= 4 * n + 65_536:  # the usual case (few plants, assets and tags): a lookup table, no sort
        present = np.zeros(size, bool)
        present[raw] = True
        ids = (np.cumsum(present) - 1)[raw]
        count = int(present.sum())
    else:
        _, ids = np.unique(raw, return_inverse=True)
        count = int(ids.max()) + 1 if n else 0
    representative = np.zeros(count, np.int64)
    representative[ids] = np.arange(n)  # any reading of the series will do: they share plant, asset and tag
    series = pa.table({"plant_id": plant.take(representative), "asset_local_id": asset.take(representative),
                       "tag": tag.take(representative)})
    return ids, series


def _micros(times: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 microseconds, null as _NONE."""
    return pc.fill_null(pc.cast(_array(times), pa.int64()), _NONE).to_numpy()


def _newest_before(times: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per reading, the newest time among the earlier readings (lower position) of its series, or _NONE.

    Vectorised: readings sorted by series (stable, so earlier stays earlier), times replaced by their rank, and one
    running maximum over series * (ranks + 2) + rank, which restarts at every series because each series' block lies
    above every value of the blocks before it.
    """
    n = len(times)
    if n == 0:
        return times.copy()
    order = np.argsort(ids, kind="stable")
    group, values = ids[order].astype(np.int64), times[order]
    distinct, rank = np.unique(values, return_inverse=True)
    rank = np.where(values == _NONE, 0, rank + 1)
    width = len(distinct) + 2
    through = np.maximum.accumulate(group * width + rank) - group * width  # newest rank up to and including i
    before = np.zeros(n, np.int64)
    before[1:] = np.where(group[1:] == group[:-1], through[:-1], 0)
    newest = np.where(before > 0, distinct[np.maximum(before - 1, 0)], _NONE)
    out = np.empty(n, np.int64)
    out[order] = newest
    return out


# ---------------------------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------------------------


def _parse_bulk(values: Sequence[bytes]) -> pa.Table | None:
    """All messages in one pyarrow.json call, or None when a message needs the per-message path.

    The checks run in C over the whole batch: a message without a value fails the join, one with a newline adds a
    line, an empty one or one holding several JSON values changes the row count, and a non-object fails the parse.
    """
    try:
        joined = b"\n".join(values)
    except TypeError:  # a message without a value (tombstone)
        return None
    if joined.count(b"\n") != len(values) - 1 or max(map(len, values), default=0) > MAX_MESSAGE_BYTES:
        return None
    try:
        table = pajson.read_json(
            io.BytesIO(joined),
            read_options=pajson.ReadOptions(block_size=64 << 20),
            parse_options=pajson.ParseOptions(explicit_schema=_PAYLOAD_SCHEMA, unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == len(values) else None


def _parse_one(value: bytes | None) -> dict[str, Any]:
    """Decode one message; raises ValueError naming the problem."""
    if value is None:
        raise ValueError("message has no value")
    if len(value) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message is {len(value)} bytes, above the limit of {MAX_MESSAGE_BYTES}")
    try:
        payload = json.loads(value)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("payload is not a JSON object")
    for name in ("plant_id", "asset_id"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise ValueError(f"field {name!r} missing or not a string")
    readings = payload.get("readings")
    items = readings if readings is not None else [payload]
    if not isinstance(items, list):
        raise ValueError("field 'readings' is not a list")
    out = []
    for i, item in enumerate(items):
        where = f"readings[{i}]." if readings is not None else ""
        if not isinstance(item, dict):
            raise ValueError(f"{where.rstrip('.')} is not an object")
        for name in ("tag", "ts", "unit"):
            if not isinstance(item.get(name), str):
                raise ValueError(f"field {where}{name!r} missing or not a string")
        value_ = item.get("value")
        if isinstance(value_, bool) or not isinstance(value_, (int, float)):
            raise ValueError(f"field {where}'value' missing or not a number")
        out.append({"tag": item["tag"], "ts": item["ts"], "value": float(value_), "unit": item["unit"]})
    return {"plant_id": payload["plant_id"], "asset_id": payload["asset_id"], "readings": out}


def _quarantine_entry(r: Record, reason: str, now: datetime, plant: str | None = None, asset: str | None = None) -> dict:
    return {"kafka_topic": r.topic, "kafka_partition": r.partition, "kafka_offset": r.offset, "plant_id": plant,
            "asset_local_id": asset, "raw_key": r.key, "raw_value": r.value, "reason": reason, "quarantined_at": now}


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _flatten(parsed: pa.Table) -> pa.Table:
    """One row per reading, from single-reading messages and envelopes, with the index of the carrying message."""
    col = {name: _array(parsed[name]) for name in parsed.column_names}
    index = pa.array(np.arange(parsed.num_rows, dtype=np.int64))
    is_envelope = pc.is_valid(col["readings"])
    envelope_count = pc.sum(is_envelope).as_py() or 0
    single = pc.invert(is_envelope)
    envelopes = col["readings"].filter(is_envelope) if envelope_count < parsed.num_rows else col["readings"]
    parents = pc.list_parent_indices(envelopes)  # envelope row -> its readings (an empty list carries none)
    items = pc.list_flatten(envelopes)

    def both(single_values: pa.Array, envelope_values: pa.Array) -> pa.Array:
        if envelope_count == 0:  # the usual batches hold one format only: no filter, no copy
            return single_values
        if envelope_count == parsed.num_rows:
            return envelope_values
        return pa.concat_arrays([single_values.filter(single), envelope_values])

    def from_envelope(name: str) -> pa.Array:
        return pc.take(col[name].filter(is_envelope), parents)

    return pa.table(
        {
            "msg": both(index, pc.take(index.filter(is_envelope), parents)),
            "plant_id": both(col["plant_id"], from_envelope("plant_id")),
            "asset_id": both(col["asset_id"], from_envelope("asset_id")),
            "tag": both(col["tag"], pc.struct_field(items, "tag")),
            "ts": both(col["ts"], pc.struct_field(items, "ts")),
            "value": both(col["value"], pc.struct_field(items, "value")),
            "unit": both(col["unit"], pc.struct_field(items, "unit")),
        }
    )


def _parse_timestamps(ts: pa.ChunkedArray | pa.Array) -> pa.Array:
    """ISO 8601 with an offset -> timestamp[us, UTC]; null where the text is not one."""
    ts = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
    try:
        return pc.cast(ts, pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = []
        for text in ts.to_pylist():
            try:
                out.append(pc.cast(pa.array([text]), pa.timestamp("us", tz="UTC"))[0].as_py() if text else None)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                out.append(None)
        return pa.array(out, pa.timestamp("us", tz="UTC"))


def decode_records(
    records: Sequence[Record],
    contract: Contract,
    now: datetime,
    *,
    policy: StreamPolicy = StreamPolicy(),
    watermarks: Watermarks | None = None,
) -> DecodedBatch:
    """Decode and validate a micro-batch into contract rows; everything refused becomes a quarantine entry."""
    quarantine: list[dict[str, Any]] = []
    parsed = _parse_bulk(list(map(attrgetter("value"), records)))
    kept_records: list[Record] = list(records)
    if parsed is None:
        rows: list[dict[str, Any]] = []
        kept_records = []
        for r in records:
            try:
                payload = _parse_one(r.value)
            except ValueError as exc:
                quarantine.append(_quarantine_entry(r, str(exc), now))
                continue
            kept_records.append(r)
            rows.append({"plant_id": payload["plant_id"], "asset_id": payload["asset_id"], "tag": None, "ts": None,
                         "value": None, "unit": None, "readings": payload["readings"]})
        parsed = pa.Table.from_pylist(rows, schema=_PAYLOAD_SCHEMA)
    flat = _flatten(parsed)

    # Field-level validation, vectorized; the first failing rule names the reason.
    reading_at = _parse_timestamps(flat["ts"])
    checks = [
        (pc.is_null(flat["plant_id"]), "field 'plant_id' missing or not a string"),
        (pc.is_null(flat["asset_id"]), "field 'asset_id' missing or not a string"),
        (pc.is_null(flat["tag"]), "field 'tag' missing or not a string"),
        (pc.is_null(flat["unit"]), "field 'unit' missing or not a string"),
        (pc.is_null(flat["value"]), "field 'value' missing or not a number"),
        (pc.is_null(reading_at), "field 'ts' is not an ISO 8601 timestamp with a UTC offset"),
    ]
    future_limit = now + policy.future_tolerance
    too_new = pc.greater(reading_at, pa.scalar(future_limit, pa.timestamp("us", tz="UTC")))
    checks.append((pc.fill_null(too_new, False), f"future timestamp: more than {policy.future_tolerance} ahead of {now:%Y-%m-%dT%H:%M:%SZ}"))
    ids, series = series_ids(_array(flat["plant_id"]), _array(flat["asset_id"]), _array(flat["tag"]))
    acceptable = np.ones(flat.num_rows, bool)
    for mask, _ in checks:
        acceptable &= ~pc.fill_null(mask, True).to_numpy(zero_copy_only=False)
    stored = watermarks.newest(series) if watermarks is not None else np.full(series.num_rows, _NONE)
    too_late = late_readings(_micros(reading_at), ids, acceptable, stored, policy.lateness_horizon)
    checks.append((pa.array(too_late), f"late: more than {policy.lateness_horizon} behind its series' watermark"))

    bad = pa.repeat(pa.scalar(False), flat.num_rows)
    reasons: dict[int, str] = {}
    for mask, reason in checks:
        new = pc.and_(pc.fill_null(mask, True), pc.invert(bad))
        for i in pc.indices_nonzero(new).to_pylist():
            reasons[i] = reason
        bad = pc.or_(bad, pc.fill_null(mask, True))
    if reasons:
        msg_idx = flat["msg"].to_pylist()
        plants, assets = flat["plant_id"].to_pylist(), flat["asset_id"].to_pylist()
        for i, reason in sorted(reasons.items()):
            r = kept_records[msg_idx[i]]
            quarantine.append(_quarantine_entry(r, reason, now, plants[i], assets[i]))
    good = pc.invert(bad)
    msg = flat["msg"].filter(good)
    topics = pa.array(list(map(attrgetter("topic"), kept_records)), pa.string())
    parts = pa.array(list(map(attrgetter("partition"), kept_records)), pa.int32())
    offsets = pa.array(list(map(attrgetter("offset"), kept_records)), pa.int64())
    n = len(msg)
    data = {
        "plant_id": flat["plant_id"].filter(good),
        "asset_local_id": flat["asset_id"].filter(good),
        "tag": flat["tag"].filter(good),
        "reading_at": reading_at.filter(good),
        "value": flat["value"].filter(good),
        "unit": flat["unit"].filter(good),
        "kafka_topic": pc.take(topics, msg),
        "kafka_partition": pc.take(parts, msg),
        "kafka_offset": pc.take(offsets, msg),
        "ingested_at": pa.repeat(pa.scalar(now, _TS), n),
    }
    schema = contract.arrow_schema()
    table = pa.Table.from_arrays([pa.array(data[f.name]) if not isinstance(data[f.name], (pa.Array, pa.ChunkedArray))
                                  else data[f.name] for f in schema], schema=schema)
    return DecodedBatch(table, quarantine, ids[good.to_numpy(zero_copy_only=False)], series)


def late_readings(
    times: np.ndarray, ids: np.ndarray, acceptable: np.ndarray, stored: np.ndarray, horizon: timedelta
) -> np.ndarray:
    """Which readings are more than ``horizon`` behind their series' watermark.

    The watermark of a reading is the newest acceptable reading of its series before it: stored by an earlier batch
    (``stored``, per series) or earlier in this batch. Judging earlier readings of the batch too makes the outcome
    independent of where the micro-batches happen to be cut.
    """
    mark = np.maximum(stored[ids], _newest_before(np.where(acceptable, times, _NONE), ids))
    horizon_us = horizon // timedelta(microseconds=1)
    floor = np.where(mark == _NONE, _NONE, mark - horizon_us)
    return acceptable & (mark != _NONE) & (times < floor)


# ---------------------------------------------------------------------------------------------------------------
# De-duplication and the atomic commit
# ---------------------------------------------------------------------------------------------------------------


def dedupe_batch(rows: pa.Table, ids: np.ndarray) -> tuple[np.ndarray, int, pa.Table]:
    """One row per natural key (series ``ids``, reading time); the lowest position wins (first write wins).

    Returns (positions of the kept rows, number of duplicates, the dropped duplicates whose value differs from the
    kept one, with the kept value as ``stored_value``).
    """
    n = rows.num_rows
    times = _micros(rows["reading_at"])
    order = np.lexsort((times, ids))  # stable: among equal keys the earlier row comes first
    sorted_ids, sorted_times = ids[order], times[order]
    repeat = np.zeros(n, bool)
    repeat[1:] = (sorted_ids[1:] == sorted_ids[:-1]) & (sorted_times[1:] == sorted_times[:-1])
    if not repeat.any():
        return np.arange(n), 0, _with_stored_value(rows.slice(0, 0), np.array([], np.float64))
    first = order[~repeat]
    winner = first[np.cumsum(~repeat) - 1]  # per sorted position, the kept row of its key
    dropped, kept_of_dropped = order[repeat], winner[repeat]
    values = rows["value"].to_numpy()
    differs = values[dropped] != values[kept_of_dropped]
    conflicts = _with_stored_value(rows.take(dropped[differs]), values[kept_of_dropped[differs]])
    return np.sort(first), int(repeat.sum()), conflicts


def _with_stored_value(rows: pa.Table, values: np.ndarray) -> pa.Table:
    return rows.append_column("stored_value", pa.array(values, pa.float64()))


def _existing(table: DeltaTable, rows: pa.Table) -> pa.Table:
    """Stored readings whose key could collide with ``rows``: same plants, within the batch's time range."""
    lo = pc.min(rows["reading_at"]).as_py()
    hi = pc.max(rows["reading_at"]).as_py()
    plants = sorted(set(rows["plant_id"].to_pylist()))
    dataset = table.to_pyarrow_dataset()
    expr = (ds.field("reading_at") >= pa.scalar(lo, pa.timestamp("us", tz="UTC"))) & (
        ds.field("reading_at") <= pa.scalar(hi, pa.timestamp("us", tz="UTC"))
    ) & ds.field("plant_id").isin(plants)
    return dataset.to_table(columns=[*_KEY, "value"], filter=expr)


def drop_stored(
    rows: pa.Table, ids: np.ndarray, series: pa.Table, table: DeltaTable, watermarks: Watermarks
) -> tuple[np.ndarray, int, pa.Table]:
    """Remove readings already stored (redeliveries). Returns (mask of new rows, duplicates, conflicting duplicates).

    Only a batch reaching back to or before a series' watermark needs the (pruned) scan of stored readings.
    """
    keep = np.ones(rows.num_rows, bool)
    empty = _with_stored_value(rows.slice(0, 0), np.array([], np.float64))
    if rows.num_rows == 0:
        return keep, 0, empty
    stored_newest = watermarks.newest(series)[ids]
    if not np.any((stored_newest != _NONE) & (_micros(rows["reading_at"]) <= stored_newest)):
        return keep, 0, empty
    stored = _existing(table, rows)
    if stored.num_rows == 0:
        return keep, 0, empty
    indexed = rows.append_column("_i", pa.array(np.arange(rows.num_rows)))
    matched = indexed.join(stored.rename_columns([*_KEY, "stored_value"]), keys=_KEY, join_type="inner")
    conflicts = matched.filter(pc.not_equal(matched["value"], matched["stored_value"])).drop_columns(["_i"])
    keep[matched["_i"].to_numpy()] = False
    return keep, matched.num_rows, conflicts


def _conflict_entries(conflicts: pa.Table, records: Sequence[Record], now: datetime) -> list[dict[str, Any]]:
    """A duplicate with a different value is recorded in quarantine: the stored (first) value wins."""
    if conflicts.num_rows == 0:
        return []
    by_offset = {(r.topic, r.partition, r.offset): r for r in records}
    entries = []
    for c in conflicts.to_pylist():
        r = by_offset[(c["kafka_topic"], c["kafka_partition"], c["kafka_offset"])]
        reason = (f"conflict: {c['tag']} at {c['reading_at']:%Y-%m-%dT%H:%M:%SZ} already has value {c['stored_value']!r}; "
                  f"{c['value']!r} dropped (first write wins)")
        entries.append(_quarantine_entry(r, reason, now, c["plant_id"], c["asset_local_id"]))
    return entries


def _stored_versions(table: DeltaTable, cluster_id: str, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
    return {k: v for k in keys if (v := table.transaction_version(app_id(cluster_id, *k))) is not None}


_SERIES = ["plant_id", "asset_local_id", "tag"]
_TS = pa.timestamp("us", tz="UTC")


class Watermarks:
    """Latest stored reading time per series (plant, asset, tag), for the lateness horizon and redelivery checks.

    A batch whose readings are all newer than their series' watermark cannot collide with stored readings, so the
    (pruned) scan for redeliveries is only needed when a batch reaches back in time.
    """

    def __init__(self, plants: dict[str, datetime], series: pa.Table) -> None:
        self.plants = plants
        self.series = series  # plant_id, asset_local_id, tag, max_at

    @classmethod
    def load(cls, table: DeltaTable, horizon: timedelta) -> Watermarks:
        """Plants from the log's file statistics; series from the files within the lateness horizon only."""
        actions = pa.table(table.get_add_actions(flatten=True))
        plants: dict[str, datetime] = {}
        if actions.num_rows and "partition.plant_id" in actions.column_names:
            for plant, ts in zip(actions["partition.plant_id"].to_pylist(), actions["max.reading_at"].to_pylist()):
                if ts is not None:
                    ts = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
                    plants[plant] = max(plants.get(plant, ts), ts)
        empty = pa.table({"plant_id": pa.array([], pa.string()), "asset_local_id": pa.array([], pa.string()),
                          "tag": pa.array([], pa.string()), "max_at": pa.array([], _TS)})
        if not plants:
            return cls(plants, empty)
        since = min(plants.values()) - horizon
        recent = table.to_pyarrow_dataset().to_table(
            columns=[*_SERIES, "reading_at"], filter=ds.field("reading_at") >= pa.scalar(since, _TS)
        )
        series = recent.group_by(_SERIES).aggregate([("reading_at", "max")]).rename_columns([*_SERIES, "max_at"])
        return cls(plants, series.cast(empty.schema) if series.num_rows else empty)

    def newest(self, series: pa.Table) -> np.ndarray:
        """Per row of ``series`` (plant_id, asset_local_id, tag), the stored watermark in microseconds, or _NONE."""
        if self.series.num_rows == 0 or series.num_rows == 0:
            return np.full(series.num_rows, _NONE)
        keyed = series.select(_SERIES).append_column("_i", pa.array(np.arange(series.num_rows)))
        joined = keyed.join(self.series, keys=_SERIES, join_type="inner")
        out = np.full(series.num_rows, _NONE)
        out[joined["_i"].to_numpy()] = _micros(joined["max_at"])
        return out

    def advance(self, rows: pa.Table, ids: np.ndarray, series: pa.Table) -> None:
        """Take the committed ``rows`` (series ``ids`` into ``series``) into the watermarks."""
        if rows.num_rows == 0:
            return
        newest = np.full(series.num_rows, _NONE)
        np.maximum.at(newest, ids, _micros(rows["reading_at"]))
        seen = newest != _NONE
        latest = series.filter(pa.array(seen)).append_column("max_at", pa.array(newest[seen]).cast(_TS))
        for row in latest.group_by("plant_id").aggregate([("max_at", "max")]).to_pylist():
            plant, ts = row["plant_id"], row["max_at_max"]
            self.plants[plant] = max(self.plants.get(plant, ts), ts)
        both = pa.concat_tables([self.series, latest.select([*_SERIES, "max_at"]).cast(self.series.schema)])
        self.series = both.group_by(_SERIES).aggregate([("max_at", "max")]).rename_columns([*_SERIES, "max_at"])


class _Positions:
    """Topic-partition and offset of every record of a batch, gathered once at C speed (no Python loop per record)."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.records = records
        where = list(map(attrgetter("topic", "partition"), records))
        self.keys = sorted(set(where))
        index = {key: i for i, key in enumerate(self.keys)}
        self.key_of = np.fromiter(map(index.__getitem__, where), np.int64, len(records))
        self.offsets = np.fromiter(map(attrgetter("offset"), records), np.int64, len(records))

    def after(self, stored: dict[tuple[str, int], int]) -> list[Record]:
        """The records above the offset stored for their topic-partition."""
        floor = np.array([stored.get(key, -1) for key in self.keys], np.int64)
        newer = self.offsets > floor[self.key_of]
        return list(self.records) if newer.all() else list(compress(self.records, newer))

    def last(self) -> dict[tuple[str, int], int]:
        """The highest offset per topic-partition."""
        highest = np.full(len(self.keys), -1, np.int64)
        np.maximum.at(highest, self.key_of, self.offsets)
        return dict(zip(self.keys, highest.tolist()))


@dataclass
class CommitOutcome:
    readings: int = 0  # valid readings decoded from the batch's messages
    inserted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    skipped_records: int = 0
    retries: int = 0
    quarantined: dict[int, int] = field(default_factory=dict)  # partition -> messages/readings quarantined


def commit_records(
    table_uri: str,
    quarantine_uri: str,
    records: Sequence[Record],
    cluster_id: str,
    contract: Contract,
    *,
    policy: StreamPolicy = StreamPolicy(),
    now: datetime | None = None,
    watermarks: Watermarks | None = None,
) -> CommitOutcome:
    """Decode, de-duplicate and commit one micro-batch exactly once (idempotent under retries and rivals)."""
    outcome = CommitOutcome()
    for attempt in range(MAX_COMMIT_ATTEMPTS):
        table = DeltaTable(table_uri)
        positions = _Positions(records)
        stored = _stored_versions(table, cluster_id, positions.keys)
        fresh = positions.after(stored)
        outcome.skipped_records = len(records) - len(fresh)
        if not fresh:
            return outcome
        # A caller-held Watermarks is advanced after each commit; without one, read it from the table.
        marks = Watermarks.load(table, policy.lateness_horizon) if watermarks is None or attempt else watermarks
        now_ = now or datetime.now(timezone.utc)
        decoded = decode_records(fresh, contract, now_, policy=policy, watermarks=marks)
        keep, dup_in_batch, conflicts_in_batch = dedupe_batch(decoded.rows, decoded.series_ids)
        rows, ids = decoded.rows.take(keep), decoded.series_ids[keep]
        new, dup_stored, conflicts_stored = drop_stored(rows, ids, decoded.series, table, marks)
        if not new.all():
            rows, ids = rows.filter(pa.array(new)), ids[new]
        conflicts = _conflict_entries(conflicts_in_batch, fresh, now_) + _conflict_entries(conflicts_stored, fresh, now_)
        decoded.quarantine.extend(conflicts)
        _write_quarantine(quarantine_uri, decoded.quarantine, cluster_id)
        last = (positions if len(fresh) == len(records) else _Positions(fresh)).last()
        txns = [Transaction(app_id(cluster_id, t, p), o) for (t, p), o in last.items()]
        try:
            write_deltalake(
                table,
                rows,
                mode="append",
                # delta-rs rebases appends onto newer versions itself; a rival commit of the same app_id is a conflict.
                commit_properties=CommitProperties(app_transactions=txns),
            )
        except CommitFailedError:
            # A rival committed first (or our own commit landed and raised): re-read the stored versions.
            outcome.retries += 1
            time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
            continue
        outcome.inserted = rows.num_rows
        outcome.readings = decoded.rows.num_rows
        outcome.duplicates = dup_in_batch + dup_stored
        outcome.conflicts = len(conflicts)
        for q in decoded.quarantine[: len(decoded.quarantine) - len(conflicts)]:
            outcome.quarantined[q["kafka_partition"]] = outcome.quarantined.get(q["kafka_partition"], 0) + 1
        marks.advance(rows, ids, decoded.series)
        if watermarks is not None and marks is not watermarks:
            watermarks.plants, watermarks.series = marks.plants, marks.series
        return outcome
    raise CommitFailedError(f"gave up after {MAX_COMMIT_ATTEMPTS} concurrent commit conflicts on {table_uri}")


def _write_quarantine(quarantine_uri: str, entries: list[dict[str, Any]], cluster_id: str) -> None:
    """Quarantine is idempotent too: entries at or below the quarantine table's stored offset are skipped."""
    if not entries:
        return
    q_table = ensure_table(quarantine_uri, QUARANTINE_SCHEMA)
    stored: dict[tuple[str, int], int] = {}
    for q in entries:
        k = (q["kafka_topic"], q["kafka_partition"])
        if k not in stored:
            stored[k] = q_table.transaction_version(quarantine_app_id(cluster_id, *k)) or -1
    fresh = [q for q in entries if q["kafka_offset"] > stored[(q["kafka_topic"], q["kafka_partition"])]]
    if not fresh:
        return
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


# ---------------------------------------------------------------------------------------------------------------
# The consumer loop
# ---------------------------------------------------------------------------------------------------------------


def resume_offset(topic: str, partition: int, stored: int | None, earliest: int) -> int:
    """Where to resume: after the offset stored in the Delta log, or at the start of a partition never read.

    If the broker has already deleted the next offset (retention ran before ingestion caught up), resuming at the
    earliest available offset would lose data silently: fail loudly instead.
    """
    if stored is None:
        return earliest
    if stored + 1 < earliest:
        raise OffsetGapError(
            f"topic {topic} partition {partition}: expected offset {stored + 1}, earliest available {earliest} "
            "(the broker deleted data that was never ingested; restore it or reset the partition deliberately)"
        )
    return stored + 1


def ingest_stream(
    client_config: dict[str, Any],
    topic: str,
    table_uri: str,
    quarantine_uri: str,
    *,
    policy: StreamPolicy = StreamPolicy(),
    max_batch_messages: int = 50_000,
    poll_timeout_ms: int = 500,
    max_seconds: float | None = None,
    progress: Callable[[StreamResult], None] | None = None,
) -> StreamResult:
    """Consume every partition of ``topic`` from the offsets stored in the Delta log until caught up (a bounded
    micro-batch run), committing rows and offsets atomically per batch."""
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
            start = resume_offset(topic, tp.partition, stored, earliest[tp])
            consumer.seek(tp, start)
            result.partitions[tp.partition] = PartitionStats(tp.partition, start, start, max(end[tp], start))
        watermarks = Watermarks.load(table, policy.lateness_horizon)
        deadline = None if max_seconds is None else time.monotonic() + max_seconds

        def account(commit: Future[CommitOutcome], records: list[Record]) -> None:
            outcome = commit.result()  # a failed commit raises here and ends the run
            result.batches += 1
            result.messages += len(records)
            result.rows_inserted += outcome.inserted
            result.readings += outcome.readings
            result.duplicates += outcome.duplicates
            result.conflicts += outcome.conflicts
            result.skipped_already_committed += outcome.skipped_records
            result.commit_retries += outcome.retries
            for p, n in outcome.quarantined.items():
                result.partitions[p].quarantined += n
            if progress:
                progress(result)

        # One batch commits on a worker thread while the next one is fetched: fetching is Python and network waits,
        # committing is mostly Arrow and delta-rs, which release the GIL. Commits stay strictly in order, one at a
        # time, so offsets and watermarks advance exactly as in a sequential loop.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="northstar-commit") as committer:
            pending: tuple[Future[CommitOutcome], list[Record]] | None = None
            try:
                while deadline is None or time.monotonic() < deadline:
                    polled = consumer.poll(timeout_ms=poll_timeout_ms, max_records=max_batch_messages)
                    if pending is not None:
                        done, pending = pending, None
                        account(*done)
                    # kafka-python's ConsumerRecord carries the same fields as Record; no copy per message.
                    records = list(chain.from_iterable(polled.values()))
                    if not records:
                        # Some brokers (Tansu) under-report end offsets, so "caught up" also needs an empty poll.
                        if all(p.next_offset >= p.end_offset for p in result.partitions.values()):
                            break
                        continue
                    pending = (committer.submit(commit_records, table_uri, quarantine_uri, records, cluster_id,
                                                contract, policy=policy, watermarks=watermarks), records)
                    for tp, batch in polled.items():
                        stats = result.partitions[tp.partition]
                        stats.messages += len(batch)
                        stats.next_offset = max(stats.next_offset, batch[-1].offset + 1)
                        stats.end_offset = max(stats.end_offset, consumer.highwater(tp) or 0, stats.next_offset)
            finally:
                if pending is not None:
                    account(*pending)  # also when the loop ended by an error: the commit in flight is waited for
    finally:
        consumer.close()
    result.table_version = DeltaTable(table_uri).version()
    return result


def main(argv: list[str] | None = None) -> int:
    """A standalone worker (``python -m ingestion.stream``), used by the crash tests and for running outside Dagster."""
    from ingestion.settings import load_settings

    parser = argparse.ArgumentParser(description="consume the sensor topic into bronze Delta until caught up")
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--topic")
    parser.add_argument("--table")
    parser.add_argument("--quarantine")
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args(argv)
    settings = load_settings()
    config = settings.kafka.client_config() if not args.bootstrap_servers else {"bootstrap_servers": [args.bootstrap_servers]}
    result = ingest_stream(
        config,
        args.topic or settings.kafka.topic,
        args.table or settings.table_uri("bronze", "sensor", "readings"),
        args.quarantine or settings.table_uri("quarantine", "sensor", "readings"),
        policy=settings.stream_policy,
        max_batch_messages=args.batch,
    )
    import resource

    print(json.dumps({"messages": result.messages, "readings": result.readings, "rows_inserted": result.rows_inserted,
                      "duplicates": result.duplicates, "quarantined": result.quarantined,
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
