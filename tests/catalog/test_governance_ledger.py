"""The decision ledger (reliability scenario 27): append-only and hash-chained; verification detects an edited,
deleted or reordered record, records dropped from the end (against the committed ledger), and rule-breaking records
written past the CLI."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
from pathlib import Path

import pytest

from catalog import CATALOG_DIR
from catalog.cli import main as catalog_main
from catalog.governance import Governance, GovernanceError, Workspace
from catalog.governance.ledger import Ledger, record_hash, verify_prefix, verify_records

REPO_LEDGER = CATALOG_DIR / "governance" / "ledger.jsonl"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    return Workspace(catalog_dir=catalog, governance_dir=catalog / "governance", repo_root=tmp_path)


@pytest.fixture
def decided(workspace: Workspace) -> Governance:
    """Five records: two items proposed and approved by quorum (one approval short on the second)."""
    gov = Governance(workspace)
    first, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")
    gov.approve(first.id, actor="bjorn", reason="ok")
    gov.approve(first.id, actor="chen", reason="ok")
    second, _ = gov.propose("kpi:availability", actor="amara", reason="baseline")
    gov.approve(second.id, actor="bjorn", reason="ok")
    return gov


def lines(gov: Governance) -> list[str]:
    return gov.workspace.ledger_path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(gov: Governance, new_lines: list[str]) -> None:
    gov.workspace.ledger_path.write_text("".join(new_lines), encoding="utf-8")


def test_every_record_says_who_when_what_hash_and_why_and_links_to_the_one_before(decided):
    records = decided.ledger.records()

    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert [r["action"] for r in records] == ["propose", "approve", "approve", "propose", "approve"]
    for previous, record in zip([None, *records], records):
        assert {"at", "actor", "item", "hash", "reason"} <= set(record)
        assert record["hash"].startswith("sha256:")
        assert record["prev_hash"] == (previous["record_hash"] if previous else None)
        assert record["record_hash"] == record_hash(record)
    assert decided.verify() == []


def test_an_edited_record_is_detected(decided):
    records = lines(decided)
    records[1] = records[1].replace('"reason": "ok"', '"reason": "approved after the council meeting"')
    rewrite(decided, records)

    assert [str(p) for p in decided.ledger.verify()] == ["line 2: record 2 was edited (its hash does not match)"]


def test_an_edited_record_with_a_recomputed_hash_breaks_the_next_link(decided):
    records = [json.loads(line) for line in lines(decided)]
    records[1]["actor"] = "amara"  # turn bjorn's approval into a self-approval
    records[1]["record_hash"] = record_hash(records[1])
    rewrite(decided, [json.dumps(r) + "\n" for r in records])

    assert [str(p) for p in decided.ledger.verify()] == [
        "line 3: record 3 does not link to the record before it (a record was deleted, inserted or moved)"
    ]


def test_a_deleted_record_is_detected(decided):
    records = lines(decided)
    del records[2]
    rewrite(decided, records)

    problems = [str(p) for p in decided.ledger.verify()]
    moved = "(a record was deleted, inserted or moved)"
    assert f"line 3: record 4 where 3 belongs {moved}" in problems
    assert f"line 3: record 4 does not link to the record before it {moved}" in problems


def test_reordered_records_are_detected(decided):
    records = lines(decided)
    records[1], records[2] = records[2], records[1]
    rewrite(decided, records)

    problems = [str(p) for p in decided.ledger.verify()]
    assert "line 2: record 3 where 2 belongs (a record was deleted, inserted or moved)" in problems
    assert "line 3: record 2 where 3 belongs (a record was deleted, inserted or moved)" in problems


def test_records_dropped_from_the_end_are_detected_against_the_committed_ledger(decided):
    committed = decided.ledger.text()
    rewrite(decided, lines(decided)[:-1])

    assert decided.ledger.verify() == []  # a shorter chain is still a chain ...
    assert [str(p) for p in verify_prefix(committed, decided.ledger.text())] == [  # ... but not the committed one
        "the ledger has 4 records, the reference has 5: records were removed from the end"
    ]
    assert verify_prefix(committed, committed + "") == []


def test_verify_against_a_git_ref_catches_a_truncated_or_rewritten_ledger(decided, capsys):
    repo = decided.workspace.repo_root
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "catalog"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "decisions"], cwd=repo, check=True)
    args = ["verify", "--against", "HEAD", "--catalog-dir", str(decided.workspace.catalog_dir)]

    assert catalog_main(args) == 0
    assert "ledger ok: 5 records, hash chain intact, extends HEAD" in capsys.readouterr().out
    rewrite(decided, lines(decided)[:-2])
    assert catalog_main(args) == 1
    assert "records were removed from the end" in capsys.readouterr().out


def test_nothing_is_appended_to_a_broken_ledger(decided):
    records = lines(decided)
    del records[0]
    rewrite(decided, records)

    with pytest.raises(GovernanceError, match="fails verification"):
        decided.approve(4, actor="chen", reason="ok")
    assert len(lines(decided)) == 4


def test_a_rule_breaking_record_appended_past_the_cli_does_not_count_and_fails_verify(decided):
    proposal = decided.state().proposals[4]
    decided.ledger.append({"at": "2026-11-02T10:00:00Z", "actor": "amara", "action": "approve",
                           "item": proposal.item, "hash": proposal.hash, "proposal": 4, "reason": "forged"})

    assert decided.ledger.verify() == []  # the chain itself is intact
    assert decided.state().proposals[4].state == "open"
    assert decided.verify() == ["ignored by the rules: record 6 (approve P-4): no self-approval: amara proposed P-4"]


def test_an_edited_snapshot_is_detected(decided):
    snapshot = next(decided.workspace.snapshots_dir.glob("*.snapshot"))
    snapshot.write_text(snapshot.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")

    assert any("does not match its hash: it was edited" in p for p in decided.verify())


def _append_many(path: str, worker: int) -> None:
    ledger = Ledger(Path(path))
    for n in range(5):
        ledger.append({"at": "2026-11-02T10:00:00Z", "actor": f"w{worker}", "action": "note", "item": "kpi:oee",
                       "hash": f"sha256:{worker}{n}", "reason": "concurrency test"})


def test_concurrent_writers_never_fork_the_chain(tmp_path):
    path = tmp_path / "ledger.jsonl"
    workers = [multiprocessing.Process(target=_append_many, args=(str(path), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert verify_records(path.read_text(encoding="utf-8")) == []
    assert len(path.read_text(encoding="utf-8").splitlines()) == 20


def test_the_committed_ledger_verifies():
    problems = verify_records(REPO_LEDGER.read_text(encoding="utf-8"))

    assert problems == [], [str(p) for p in problems]
    assert Governance(Workspace()).verify() == []
