"""The append-only, hash-chained decision ledger (JSON lines) and the content-addressed snapshot store.

Each line is one record: ``seq`` (1, 2, ...), ``at`` (UTC), ``actor``, ``action`` (propose | approve | reject),
``item``, ``hash`` (the content hash acted on), ``proposal``, ``reason``, action-specific fields, then ``prev_hash``
(the previous record's ``record_hash``, null for the first) and ``record_hash`` (SHA-256 of the canonical JSON of
every other field). Verification recomputes every hash and link, so an edited, deleted, inserted or reordered
record is found. Dropping records from the end leaves a valid but shorter chain: ``verify_prefix`` compares the
ledger with an older copy (the committed one, via git) to catch that.

Snapshots keep the exact content of every proposed version under its hash, so a diff against the approved version
and the application of an approved proposal never depend on git history.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.governance.config import GovernanceError
from catalog.governance.items import content_hash

_CHAIN_FIELDS = ("prev_hash", "record_hash")


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(record: dict[str, Any]) -> str:
    """The hash of a record: every field but ``record_hash`` itself (``prev_hash`` included, which chains it)."""
    body = {k: v for k, v in record.items() if k != "record_hash"}
    return "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True)
class LedgerProblem:
    line: int  # 1-based line of the ledger file (0: the file as a whole)
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def parse_lines(text: str) -> tuple[list[dict[str, Any]], list[LedgerProblem]]:
    records, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            problems.append(LedgerProblem(number, "empty line (a record was removed)"))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(LedgerProblem(number, f"not a JSON record ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            problems.append(LedgerProblem(number, "not a JSON object"))
            continue
        records.append(record)
    return records, problems


def verify_records(text: str) -> list[LedgerProblem]:
    """Every problem of the chain: edited records (hash mismatch), deleted, inserted or reordered ones (sequence and
    link breaks). An empty list means the chain is intact."""
    records, problems = parse_lines(text)
    previous: str | None = None
    for index, record in enumerate(records):
        line = index + 1
        expected_seq = index + 1
        if record.get("record_hash") != record_hash(record):
            problems.append(LedgerProblem(line, f"record {record.get('seq')} was edited (its hash does not match)"))
        if record.get("seq") != expected_seq:
            problems.append(
                LedgerProblem(
                    line,
                    f"record {record.get('seq')} where {expected_seq} belongs "
                    "(a record was deleted, inserted or moved)",
                )
            )
        if record.get("prev_hash") != previous:
            problems.append(
                LedgerProblem(
                    line,
                    f"record {record.get('seq')} does not link to the record before it "
                    "(a record was deleted, inserted or moved)",
                )
            )
        previous = record.get("record_hash")
    return sorted(problems, key=lambda p: p.line)


def verify_prefix(older: str, newer: str) -> list[LedgerProblem]:
    """The older ledger (e.g. as committed on the main branch) must be an unchanged prefix of the newer one:
    catches records dropped from the end, or a chain rewritten and re-hashed from some point."""
    old_records, _ = parse_lines(older)
    new_records, _ = parse_lines(newer)
    if len(new_records) < len(old_records):
        return [
            LedgerProblem(
                0,
                f"the ledger has {len(new_records)} records, the reference has {len(old_records)}: "
                "records were removed from the end",
            )
        ]
    for index, (old, new) in enumerate(zip(old_records, new_records)):
        if old != new:
            return [LedgerProblem(index + 1, f"record {old.get('seq')} differs from the reference ledger")]
    return []


class Ledger:
    """The ledger file. Appends hold an exclusive lock, so two concurrent writers cannot fork the chain."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8") if self.path.is_file() else ""

    def records(self) -> list[dict[str, Any]]:
        records, _ = parse_lines(self.text())
        return records

    def verify(self) -> list[LedgerProblem]:
        return verify_records(self.text())

    def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Append one record after the current last one; refuses to extend a broken chain.

        The ledger file itself is locked (exclusive) from reading the last record to writing the new one, so two
        concurrent writers cannot both link to the same predecessor.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read()
            problems = verify_records(text)
            if problems:
                raise GovernanceError(f"the ledger {self.path} fails verification ({problems[0]}); nothing appended")
            records, _ = parse_lines(text)
            record = {"seq": len(records) + 1, **{k: v for k, v in fields.items() if k not in _CHAIN_FIELDS}}
            record["prev_hash"] = records[-1]["record_hash"] if records else None
            record["record_hash"] = record_hash(record)
            line = json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n"
            if text and not text.endswith("\n"):
                line = "\n" + line
            handle.write(line)  # append mode: always at the end
            handle.flush()
            os.fsync(handle.fileno())
        return record


class SnapshotStore:
    """Exact contents of proposed versions, one file per content hash (``<hex>.snapshot``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, hash_: str) -> Path:
        return self.directory / f"{hash_.split(':', 1)[1]}.snapshot"

    def put(self, content: bytes) -> str:
        hash_ = content_hash(content)
        path = self._path(hash_)
        if not path.is_file():
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.replace(b"\r\n", b"\n"))
        return hash_

    def get(self, hash_: str | None) -> bytes | None:
        if not hash_:
            return None
        path = self._path(hash_)
        if not path.is_file():
            return None
        content = path.read_bytes()
        if content_hash(content) != hash_:
            raise GovernanceError(f"snapshot {path} does not match its hash: it was edited")
        return content

    def verify(self) -> list[LedgerProblem]:
        problems = []
        for path in sorted(self.directory.glob("*.snapshot")) if self.directory.is_dir() else []:
            if content_hash(path.read_bytes()) != f"sha256:{path.stem}":
                problems.append(LedgerProblem(0, f"snapshot {path.name} does not match its hash: it was edited"))
        return problems
