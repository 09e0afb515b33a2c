"""catalog/apps.yaml (what the apps show as trustworthy: min_coverage, periods, the board) is a governed item like a
contract: proposed, approved by the apps domain's quorum, bound to its content hash, and refused when invalid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog import CATALOG_DIR
from catalog.cli import main as catalog_main
from catalog.governance import Governance, GovernanceError, Workspace
from catalog.governance.items import APPS_ITEM

RAISE_THRESHOLD = ("  min_coverage: 0.9\n", "  min_coverage: 0.95\n")


@pytest.fixture
def gov(tmp_path: Path) -> Governance:
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    return Governance(Workspace(catalog_dir=catalog, governance_dir=tmp_path / "ledger", repo_root=tmp_path))


def edit_apps(gov: Governance, old: str, new: str) -> None:
    path = gov.items()[APPS_ITEM].path
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def approved(gov: Governance) -> bool:
    ((_, ok, _),) = gov.publication_status([APPS_ITEM])
    return ok


def test_the_apps_config_is_an_item_of_the_apps_domain_approved_by_its_quorum(gov):
    assert gov.items()[APPS_ITEM].path.name == "apps.yaml"
    proposal, _ = gov.propose(APPS_ITEM, actor="amara", reason="baseline")
    assert not approved(gov)

    gov.approve(proposal.id, actor="bjorn", reason="ok")
    assert not approved(gov)  # 1 of 2
    with pytest.raises(GovernanceError):
        gov.approve(proposal.id, actor="diego", reason="ok")  # a master-data steward holds no kpi_owner role
    assert gov.approve(proposal.id, actor="chen", reason="ok").state == "approved"
    assert approved(gov)


def test_a_changed_threshold_voids_the_approval_and_is_classified_as_breaking(gov):
    proposal, _ = gov.propose(APPS_ITEM, actor="amara", reason="baseline")
    for member in ("bjorn", "chen"):
        gov.approve(proposal.id, actor=member, reason="ok")

    edit_apps(gov, *RAISE_THRESHOLD)

    assert not approved(gov)
    review = gov.review(APPS_ITEM)
    assert [(c.category, c.breaking, c.detail) for c in review.changes] == [("display change", True, "confidence")]


def test_an_invalid_threshold_cannot_even_be_proposed(gov):
    edit_apps(gov, "  min_coverage: 0.9\n", "  min_coverage: 90\n")

    with pytest.raises(GovernanceError, match="confidence.min_coverage must be a share between 0 and 1, not 90"):
        gov.propose(APPS_ITEM, actor="amara", reason="percent by mistake")


def test_until_the_config_with_the_apps_domain_is_approved_propose_changed_skips_the_apps_config(gov, capsys):
    """Merging the new domain and the apps config together: the first round proposes everything else (the config
    among it), the second, once the config is approved, the apps config."""
    config = gov.items()["governance:config"].path
    current = config.read_text(encoding="utf-8")
    start, end = current.index("  - name: apps\n"), current.index("  - name: master_data\n")
    config.write_text(current[:start] + current[end:], encoding="utf-8")
    proposal, _ = gov.propose("governance:config", actor="elena", reason="the config before the apps domain")
    for member in ("hana", "amara"):
        gov.approve(proposal.id, actor=member, reason="ok")
    config.write_text(current, encoding="utf-8")
    workspace = ["--catalog-dir", str(gov.workspace.catalog_dir), "--governance-dir", str(gov.workspace.governance_dir)]

    assert catalog_main(["propose", "--changed", "--as", "elena", "-m", "merge", *workspace]) == 1
    out = capsys.readouterr().out
    assert "not proposed: apps:config: no domain in the governance config governs 'apps:config'" in out
    assert "proposed by elena: governance:config" in out and "proposed by elena: kpi:oee" in out


# --- what the apps may use: governed_content ------------------------------------------------------------------------


def approve_apps(gov: Governance) -> int:
    proposal, _ = gov.propose(APPS_ITEM, actor="amara", reason="baseline")
    for member in ("bjorn", "chen"):
        gov.approve(proposal.id, actor=member, reason="ok")
    return proposal.id


def test_an_approved_apps_config_is_used_as_the_file_has_it(gov):
    proposal_id = approve_apps(gov)

    governed = gov.governed_content(APPS_ITEM)

    assert (governed.state, governed.current, governed.fallback) == ("approved", True, False)
    assert governed.content == gov.items()[APPS_ITEM].path.read_bytes()
    assert governed.approved.proposal == proposal_id
    assert governed.remedy == ""


def test_an_edited_apps_config_falls_back_to_the_last_approved_content(gov):
    approved_bytes = gov.items()[APPS_ITEM].path.read_bytes()
    proposal_id = approve_apps(gov)
    edit_apps(gov, *RAISE_THRESHOLD)

    governed = gov.governed_content(APPS_ITEM)

    assert (governed.state, governed.current, governed.fallback) == ("changed since approval", False, True)
    assert governed.content == approved_bytes
    assert b"min_coverage: 0.9\n" in governed.content
    assert governed.approved.proposal == proposal_id
    assert governed.reason.startswith("not approved: the catalog has")
    assert governed.remedy == (
        'propose the file as it is with `northstar catalog propose apps:config --as <member> -m "<reason>"`, then '
        "2 members holding kpi_owner (apps domain) approve it (`northstar catalog approve P-<n> ...`); "
        "or revert the edit to the approved version"
    )


def test_an_edit_proposed_but_not_yet_approved_names_the_proposal_to_approve(gov):
    approve_apps(gov)
    edit_apps(gov, *RAISE_THRESHOLD)
    pending, _ = gov.propose(APPS_ITEM, actor="bjorn", reason="stricter", content=None)
    gov.approve(pending.id, actor="amara", reason="ok")

    governed = gov.governed_content(APPS_ITEM)

    assert governed.fallback and b"min_coverage: 0.9\n" in governed.content
    assert governed.remedy.startswith(f"{pending.label} proposes the file as it is and awaits approval (1 of 2): ")
    assert f"`northstar catalog approve {pending.label} --as <member>" in governed.remedy


def test_a_never_approved_apps_config_gives_nothing_to_use(gov):
    governed = gov.governed_content(APPS_ITEM)

    assert (governed.state, governed.content, governed.approved) == ("never approved", None, None)
    assert not governed.current and not governed.fallback
    assert "apps:config" in governed.reason and "was never approved" in governed.reason
    assert governed.remedy.startswith("propose the file as it is with `northstar catalog propose apps:config")


def test_a_tampered_ledger_gives_nothing_to_use_even_for_an_approved_file(gov):
    approve_apps(gov)
    ledger = gov.workspace.ledger_path
    ledger.write_text(ledger.read_text(encoding="utf-8").replace('"actor": "chen"', '"actor": "hana"'), "utf-8")

    governed = gov.governed_content(APPS_ITEM)

    assert (governed.state, governed.content) == ("ledger fails verification", None)
    assert "no approval can be trusted" in governed.reason
    assert "northstar catalog verify" in governed.remedy


def test_without_the_approved_snapshot_an_edited_apps_config_gives_nothing_to_use(gov):
    approve_apps(gov)
    approved_hash = gov.status([APPS_ITEM])[0].approved.hash
    edit_apps(gov, *RAISE_THRESHOLD)
    (gov.workspace.snapshots_dir / f"{approved_hash.split(':', 1)[1]}.snapshot").unlink()

    governed = gov.governed_content(APPS_ITEM)

    assert (governed.state, governed.content) == ("changed since approval", None)
    assert "snapshot" in governed.reason and "is missing" in governed.reason
