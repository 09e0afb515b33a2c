"""Fault injection: the problems real plants send, on purpose and counted. Every knob is off by default.

Each injected fault becomes one entry of the ledger (`simulator/ground_truth/fault_ledger.jsonl`, one JSON object per
line) saying what was done where, so a test can check the pipeline's response against it:

    {"knob": "malformed_rows", "plant_id": "DE-STR", "target": "landing/DE-STR/mes/mengen_2026-10-24.csv",
     "line": 17, "column": "Menge", "asset_local_id": "A101", "tag": null, "ts": null, "detail": "written '12x'"}

`target` is a landing file (path relative to the data root) or `kafka`; `line` is the file line (Excel: row) of
the affected record; `ts` the true reading time (UTC, ISO 8601) for stream faults. The ground truth is never
changed: it describes what really happened, the ledger where the extracts or the stream deviate from it.

Extract knobs (per plant): unmapped_codes, malformed_rows, missing_shifts (a shift left out of the shift calendar
and its intervals out of the production counts: two entries per shift), schema_drift; malformed_files (per
network). Stream knobs: duplicate_messages, redelivered_batches, late_readings, out_of_order, future_timestamps,
clock_skew. Selections are drawn from the network seed, so the same config injects the same faults.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from catalog.plants import ExtractDialect

from .config import FaultConfig
from .extracts import FileEdits, TableRows, first_line_of_row
from .randomness import stream
from .sensors import SensorReading

# A code each plant's MES might start sending without anyone updating the governed mapping.
UNMAPPED_CODES = {"DE-STR": "Störung Pneumatik", "MX-MTY": "340", "SG-SIN": "E-STOP", "US-OHI": "Robot fault"}
BAD_QUANTITIES = ("12x", "n/a", "#VALUE!", "1.5e")
INVALID_BYTES = b"\x81\x8d\x90"  # undefined in cp1252, invalid as UTF-8
FUTURE_JUMP = dt.timedelta(days=3653)  # a gateway whose clock battery died jumps ~10 years ahead
FUTURE_SPACING = 1000  # one future timestamp in each block of this many readings


@dataclass(frozen=True)
class LedgerEntry:
    knob: str
    plant_id: str | None
    target: str
    line: int | None = None
    column: str | None = None
    asset_local_id: str | None = None
    tag: str | None = None
    ts: str | None = None
    detail: str = ""


class FaultLedger:
    """Every fault injected in one generation, in injection order."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def add(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.knob] = counts.get(entry.knob, 0) + 1
        return counts

    def content(self) -> bytes:
        return "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in self.entries).encode("utf-8")


def plan_file_edits(
    faults: FaultConfig,
    seed: int,
    plant_id: str,
    template_plant: str,
    tables: dict[tuple[str, str], TableRows],
    dialects: dict[tuple[str, str], ExtractDialect],
    paths: dict[tuple[str, str], str],
    ledger: FaultLedger,
) -> dict[tuple[str, str], FileEdits]:
    """The row- and header-level edits of one plant's files, each recorded in the ledger."""
    edits: dict[tuple[str, str], FileEdits] = {}
    rng = stream(seed, "faults", plant_id)

    def edit(key: tuple[str, str]) -> FileEdits:
        return edits.setdefault(key, FileEdits.none())

    def pick(key: tuple[str, str], count: int) -> list[tuple[int, dict[str, Any]]]:
        if count == 0:
            return []
        rows = list(tables[key].rows())
        current = edits.get(key, FileEdits.none())
        taken = set(current.replace) | current.drop
        candidates = [index for index in range(len(rows)) if index not in taken]
        chosen = sorted(rng.sample(candidates, min(count, len(candidates))))
        return [(index, rows[index]) for index in chosen]

    key = ("mes", "machine_states")
    for index, row in pick(key, faults.unmapped_codes):
        code = UNMAPPED_CODES.get(template_plant, "UNKNOWN-17")
        edit(key).replace[index] = {"state_local_code": code}
        ledger.add(LedgerEntry(
            "unmapped_codes", plant_id, paths[key], index + first_line_of_row(dialects[key]),
            dialects[key].columns["state_local_code"], row["asset_local_id"],
            detail=f"{row['state_local_code']!r} written as {code!r} (not in catalog/mappings/machine_states.yaml)",
        ))
    counts = ("mes", "production_counts")
    malformed = []
    for index, row in pick(counts, faults.malformed_rows):
        bad = rng.choice(BAD_QUANTITIES)
        edit(counts).replace[index] = {"produced_qty": bad}
        malformed.append((index, row, bad))
    key = ("mes", "shift_calendar")
    missing = []
    for index, row in pick(key, faults.missing_shifts):
        edit(key).drop.add(index)
        missing.append(LedgerEntry(
            "missing_shifts", plant_id, paths[key],
            detail=f"shift {row['shift_local_code']} of {row['shift_date'].isoformat()} left out of the calendar",
        ))
        # The MES did not deliver the shift: its count intervals (those starting in it) are missing too, except a
        # row already made malformed (it stays, and is rejected at ingestion, so the shift has no counts in bronze).
        dropped = [i for i, r in enumerate(tables[counts].rows()) if i not in edit(counts).replace
                   and row["started_at_local"] <= r["interval_start_local"] < row["ended_at_local"]]
        edit(counts).drop.update(dropped)
        missing.append(LedgerEntry(
            "missing_shifts", plant_id, paths[counts],
            detail=f"shift {row['shift_local_code']} of {row['shift_date'].isoformat()} left out of the production "
                   f"counts ({len(dropped)} intervals)",
        ))
    drops = sorted(edits[counts].drop) if counts in edits else []
    for index, row, bad in malformed:  # the file line after the dropped rows above it
        line = index - bisect.bisect_left(drops, index) + first_line_of_row(dialects[counts])
        ledger.add(LedgerEntry(
            "malformed_rows", plant_id, paths[counts], line, dialects[counts].columns["produced_qty"],
            row["asset_local_id"], detail=f"produced_qty {row['produced_qty']} written as {bad!r}",
        ))
    for entry in missing:
        ledger.add(entry)
    for drift in faults.schema_drift:
        if drift.get("plant_id") != plant_id:
            continue
        key = (drift["source"], drift["table"])
        dialect = dialects[key]
        if drift["kind"] == "rename":
            column = drift.get("column") or next(iter(dialect.columns))
            renamed = f"{dialect.columns[column]}_v2"
            edit(key).renamed[column] = renamed
            detail = f"column {dialect.columns[column]!r} renamed to {renamed!r}"
        else:
            column = drift.get("column") or "comment"
            edit(key).added = (column, "ok")
            detail = f"column {column!r} added"
        ledger.add(LedgerEntry("schema_drift", plant_id, paths[key], 1, detail=detail))
    return edits


def malformed_file_targets(
    faults: FaultConfig, seed: int, plant_index: int, plant_count: int, dialects: dict[tuple[str, str], ExtractDialect]
) -> list[tuple[str, str]]:
    """The tables of this plant whose file is cut off (the k-th malformed file goes to plant k mod plants)."""
    mine = [k for k in range(faults.malformed_files) if k % plant_count == plant_index]
    candidates = sorted(key for key, dialect in dialects.items() if dialect.format in ("csv", "jsonl"))
    rng = stream(seed, "faults", "malformed_files", str(plant_index))
    return rng.sample(candidates, min(len(mine), len(candidates)))


def corrupt_file(path: Path) -> str:
    """Cut a landing file at 60 % of its bytes (mid-record) and end it in bytes invalid in its encoding."""
    content = path.read_bytes()
    kept = int(len(content) * 0.6)
    path.write_bytes(content[:kept] + INVALID_BYTES)
    return f"cut from {len(content)} to {kept} bytes, then {INVALID_BYTES!r}"


def _entry(knob: str, reading: SensorReading, detail: str) -> LedgerEntry:
    return LedgerEntry(
        knob, reading.plant_id, "kafka", asset_local_id=reading.asset_local_id, tag=reading.tag,
        ts=reading.ts.strftime("%Y-%m-%dT%H:%M:%SZ"), detail=detail,
    )


def inject_stream_faults(
    readings: Iterable[SensorReading], faults: FaultConfig, seed: int, ledger: FaultLedger
) -> Iterator[SensorReading]:
    """The published stream: the true readings with the stream faults applied (bounded buffers), each in the ledger.

    - clock_skew: every reading of the named asset carries its time shifted by offset_s (one entry per asset);
    - future_timestamps: in each of the first N blocks of FUTURE_SPACING readings, one reading jumps 10 years ahead;
    - duplicate_messages: a reading is published twice in a row;
    - out_of_order: a reading is published after the one that follows it;
    - late_readings: a reading is held back until the stream has moved `late_delay_s` past it. Its ledger entry is
      written when it is published and says how far it is behind its series (plant, asset, tag) then: `detail` starts
      with "published <seconds> s behind", the latest reading of the series published before it (0 if none is newer;
      a series that stops reporting, or the end of the stream, can make this less than `late_delay_s`);
    - redelivered_batches: the last `redelivery_batch` readings are published again (a producer retry), spread
      over the stream.
    """
    if not faults.stream_faults:
        yield from readings
        return
    latest: dict[tuple[str, str, str], dt.datetime] = {}  # per series, the newest reading time published so far
    for reading, late in _faulty_stream(readings, faults, seed, ledger):
        series = (reading.plant_id, reading.asset_local_id, reading.tag)
        newest = latest.get(series)
        if late is not None:
            behind = int((newest - reading.ts).total_seconds()) if newest is not None and newest > reading.ts else 0
            ledger.add(_entry("late_readings", late, f"published {behind} s behind the newest reading of its series "
                                                     f"(held {faults.late_delay_s} s of stream time)"))
        if newest is None or reading.ts > newest:
            latest[series] = reading.ts
        yield reading


def _faulty_stream(
    readings: Iterable[SensorReading], faults: FaultConfig, seed: int, ledger: FaultLedger
) -> Iterator[tuple[SensorReading, SensorReading | None]]:
    """(published reading, the true reading if it is a held-back late one); see inject_stream_faults."""
    rng = stream(seed, "faults", "stream")
    skew = {(s["plant_id"], s["asset_local_id"]): int(s["offset_s"]) for s in faults.clock_skew}
    skewed_counts = dict.fromkeys(skew, 0)
    future_at = {block * FUTURE_SPACING + rng.randrange(FUTURE_SPACING) for block in range(faults.future_timestamps)}
    redeliver_at = {(block + 1) * 5 * FUTURE_SPACING for block in range(faults.redelivered_batches)}
    recent: deque[SensorReading] = deque(maxlen=faults.redelivery_batch)
    held_late: deque[tuple[dt.datetime, SensorReading, SensorReading]] = deque()
    swap: SensorReading | None = None
    late_delay = dt.timedelta(seconds=faults.late_delay_s)

    def release_late(now: dt.datetime) -> Iterator[tuple[SensorReading, SensorReading]]:
        while held_late and held_late[0][0] <= now:
            _, reading, true = held_late.popleft()
            yield reading, true

    for position, true in enumerate(readings):
        reading = true
        if (true.plant_id, true.asset_local_id) in skew:
            offset = skew[(true.plant_id, true.asset_local_id)]
            reading = true._replace(ts=true.ts + dt.timedelta(seconds=offset))
            skewed_counts[(true.plant_id, true.asset_local_id)] += 1
        if position in future_at:
            reading = reading._replace(ts=reading.ts + FUTURE_JUMP)
            ledger.add(_entry("future_timestamps", true, f"published at {reading.ts:%Y-%m-%dT%H:%M:%SZ}"))
        yield from release_late(true.ts)
        if faults.late_readings and rng.random() < faults.late_readings:
            held_late.append((true.ts + late_delay, reading, true))
            continue
        outgoing = [reading]
        if faults.duplicate_messages and rng.random() < faults.duplicate_messages:
            outgoing.append(reading)
            ledger.add(_entry("duplicate_messages", true, "published twice in a row"))
        if swap is not None:
            outgoing = [*outgoing, swap]
            swap = None
        elif faults.out_of_order and rng.random() < faults.out_of_order:
            swap = reading
            outgoing = outgoing[1:]
            ledger.add(_entry("out_of_order", true, "published after the reading that follows it"))
        for message in outgoing:
            recent.append(message)
            yield message, None
        if position in redeliver_at and recent:
            batch = list(recent)
            ledger.add(_entry("redelivered_batches", batch[0], f"{len(batch)} readings published again"))
            for message in batch:
                yield message, None
    if swap is not None:
        yield swap, None
    for _, reading, true in held_late:
        yield reading, true
    for (plant_id, asset_id), count in skewed_counts.items():
        ledger.add(LedgerEntry(
            "clock_skew", plant_id, "kafka", asset_local_id=asset_id,
            detail=f"{count} readings published with the gateway clock off by {skew[(plant_id, asset_id)]} s",
        ))
