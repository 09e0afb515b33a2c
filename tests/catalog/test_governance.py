"""The governance workflow (reliability scenario 26): no self-approval, quorum per domain from the governance config,
and an approval bound to the exact content hash, so that editing an approved item voids the approval."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from catalog import CATALOG_DIR
from catalog.cli import main as catalog_main
from catalog.governance import Governance, GovernanceError, Workspace
from catalog.governance.items import content_hash


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A copy of the catalog's YAML with an empty ledger; the repository's catalog is never touched."""
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    return Workspace(catalog_dir=catalog, governance_dir=tmp_path / "ledger", repo_root=tmp_path)


@pytest.fixture
def gov(workspace: Workspace) -> Governance:
    ticks = itertools.count()
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    return Governance(workspace, clock=lambda: start + timedelta(minutes=next(ticks)))


def approve_as_is(gov: Governance, item: str, proposer: str, *approvers: str) -> int:
    proposal, _ = gov.propose(item, actor=proposer, reason="baseline")
    for approver in approvers:
        gov.approve(proposal.id, actor=approver, reason="reviewed")
    return proposal.id


def publishable(gov: Governance, item: str) -> bool:
    ((_, approved, _),) = gov.publication_status([item])
    return approved


def edit(gov: Governance, item: str, old: str, new: str) -> None:
    path = gov.items()[item].path
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- no self-approval, roles, quorum --------------------------------------------------------------------------------


def test_a_member_cannot_approve_their_own_proposal(gov):
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")

    with pytest.raises(GovernanceError, match="no self-approval: amara proposed P-1"):
        gov.approve(proposal.id, actor="amara", reason="looks good to me")
    assert len(gov.ledger.records()) == 1  # nothing recorded


def test_a_proposal_needs_the_quorum_of_its_domain_from_distinct_approvers(gov):
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")
    assert proposal.domain == "operations_kpis" and proposal.quorum == 2

    after_one = gov.approve(proposal.id, actor="bjorn", reason="ok")
    assert after_one.state == "open" and not publishable(gov, "kpi:oee")
    with pytest.raises(GovernanceError, match="bjorn already approved P-1"):
        gov.approve(proposal.id, actor="bjorn", reason="really ok")

    after_two = gov.approve(proposal.id, actor="chen", reason="ok")
    assert after_two.state == "approved" and after_two.approvers == ["bjorn", "chen"]
    assert publishable(gov, "kpi:oee")


def test_the_quorum_and_approver_roles_come_from_the_governance_config(gov):
    config = gov.workspace.config_path
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    next(d for d in document["domains"] if d["name"] == "operations_kpis")["quorum"] = 3
    config.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    proposal, _ = gov.propose("kpi:oee", actor="elena", reason="baseline")

    for approver in ("amara", "bjorn"):
        gov.approve(proposal.id, actor=approver, reason="ok")
    assert not publishable(gov, "kpi:oee")
    gov.approve(proposal.id, actor="chen", reason="ok")
    assert publishable(gov, "kpi:oee")


def test_only_members_holding_an_approver_role_of_the_domain_may_approve(gov):
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")

    with pytest.raises(GovernanceError, match="diego holds none of the roles that approve the operations_kpis domain"):
        gov.approve(proposal.id, actor="diego", reason="ok")
    with pytest.raises(GovernanceError, match="'dagster' is not a member of the governance body"):
        gov.approve(proposal.id, actor="dagster", reason="pipeline service account")
    with pytest.raises(GovernanceError, match="no identity"):
        gov.approve(proposal.id, actor=None, reason="anonymous")


def test_the_quality_kpi_belongs_to_the_quality_domain(gov):
    proposal, _ = gov.propose("kpi:quality_ratio", actor="amara", reason="baseline")

    assert proposal.domain == "quality"
    with pytest.raises(GovernanceError, match="bjorn holds none of the roles that approve the quality domain"):
        gov.approve(proposal.id, actor="bjorn", reason="ok")


def test_every_decision_needs_a_reason(gov):
    with pytest.raises(GovernanceError, match="every decision needs a reason"):
        gov.propose("kpi:oee", actor="amara", reason="  ")


# --- approvals bound to content hashes ------------------------------------------------------------------------------


def test_editing_an_approved_item_voids_its_approval_until_the_edit_is_approved(gov):
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")
    edit(gov, "kpi:oee", "target: 0.85", "target: 0.80")

    ((item, approved, reason),) = gov.publication_status(["kpi:oee"])
    assert (item, approved) == ("kpi:oee", False)
    assert "an edit voids the approval" in reason and "P-1" in reason

    proposal, _ = gov.propose("kpi:oee", actor="bjorn", reason="2027 target")
    gov.approve(proposal.id, actor="amara", reason="ok")
    assert not publishable(gov, "kpi:oee")
    gov.approve(proposal.id, actor="chen", reason="ok")
    assert publishable(gov, "kpi:oee")


def test_reverting_an_edit_restores_the_exact_approved_content(gov):
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")
    edit(gov, "kpi:oee", "target: 0.85", "target: 0.99")
    assert not publishable(gov, "kpi:oee")

    edit(gov, "kpi:oee", "target: 0.99", "target: 0.85")
    assert publishable(gov, "kpi:oee")


def test_an_approval_binds_to_the_proposed_content_not_to_whatever_the_file_says_later(gov):
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")
    proposed_hash = proposal.hash
    edit(gov, "kpi:oee", "target: 0.85", "target: 0.50")  # edited between proposal and approval
    gov.approve(proposal.id, actor="bjorn", reason="ok")
    gov.approve(proposal.id, actor="chen", reason="ok")

    (status,) = gov.status(["kpi:oee"])
    assert status.approved.hash == proposed_hash != status.current_hash
    assert not status.publishable


def test_proposing_the_same_content_again_returns_the_open_proposal(gov):
    first, created = gov.propose("kpi:oee", actor="amara", reason="baseline")
    again, created_again = gov.propose("kpi:oee", actor="bjorn", reason="baseline again")

    assert created and not created_again and again.id == first.id
    assert len(gov.ledger.records()) == 1


def test_nothing_to_propose_when_the_content_is_already_approved(gov):
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")

    with pytest.raises(GovernanceError, match="nothing to propose"):
        gov.propose("kpi:oee", actor="amara", reason="again")


def test_a_newer_proposal_supersedes_the_open_one(gov):
    old, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")
    edit(gov, "kpi:oee", "target: 0.85", "target: 0.86")
    new, _ = gov.propose("kpi:oee", actor="amara", reason="baseline, corrected")

    with pytest.raises(GovernanceError, match="P-1 is superseded, not open"):
        gov.approve(old.id, actor="bjorn", reason="ok")
    assert gov.state().proposals[new.id].state == "open"


def test_a_rejected_proposal_cannot_be_approved(gov):
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")
    gov.reject(proposal.id, actor="chen", reason="target not agreed with the plants")

    with pytest.raises(GovernanceError, match="P-1 is rejected, not open"):
        gov.approve(proposal.id, actor="bjorn", reason="ok")
    assert not publishable(gov, "kpi:oee")


def test_a_breaking_change_needs_a_new_version(gov):
    approve_as_is(gov, "kpi:availability", "amara", "bjorn", "chen")
    edit(gov, "kpi:availability", "numerator: apt_s", "numerator: apt_s + aust_s")

    with pytest.raises(GovernanceError, match=r"breaking change \(formula change\) needs a new version"):
        gov.propose("kpi:availability", actor="amara", reason="count setups as available")
    edit(gov, "kpi:availability", "version: 1.0.0", "version: 2.0.0")
    proposal, _ = gov.propose("kpi:availability", actor="amara", reason="count setups as available")
    assert proposal.version == "2.0.0"


def test_invalid_content_cannot_be_proposed(gov):
    edit(gov, "contract:published.marts.oee_plant_day", "physicalType: double", "physicalType: float64")

    with pytest.raises(GovernanceError, match="the proposed content is invalid"):
        gov.propose("contract:published.marts.oee_plant_day", actor="elena", reason="baseline")


# --- the governance config governs itself ---------------------------------------------------------------------------


def test_editing_the_governance_config_does_not_change_who_may_approve_until_approved(gov):
    approve_as_is(gov, "governance:config", "amara", "elena", "hana")
    config = gov.workspace.config_path
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["members"].append({"id": "mallory", "name": "Mallory", "roles": ["kpi_owner", "governance_admin"]})
    config.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    proposal, _ = gov.propose("kpi:oee", actor="amara", reason="baseline")

    with pytest.raises(GovernanceError, match="'mallory' is not a member"):
        gov.approve(proposal.id, actor="mallory", reason="trust me")

    change, _ = gov.propose("governance:config", actor="elena", reason="Mallory joins as KPI owner")
    gov.approve(change.id, actor="amara", reason="ok")
    gov.approve(change.id, actor="hana", reason="ok")
    gov.approve(proposal.id, actor="mallory", reason="ok")
    assert gov.state().proposals[proposal.id].approvers == ["mallory"]


# --- applying an approved proposal ----------------------------------------------------------------------------------


def test_an_approved_proposal_is_applied_to_the_catalog_file_and_never_over_someone_elses_edit(gov):
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")
    path = gov.items()["kpi:oee"].path
    original = path.read_bytes()
    proposed = original.replace(b"target: 0.85", b"target: 0.8")
    proposal, _ = gov.propose("kpi:oee", actor="bjorn", content=proposed, reason="2027 target")
    assert path.read_bytes() == original and publishable(gov, "kpi:oee")  # a proposal changes nothing yet

    with pytest.raises(GovernanceError, match="P-4 is not the approved version"):
        gov.apply(proposal.id)
    gov.approve(proposal.id, actor="amara", reason="ok")
    gov.approve(proposal.id, actor="chen", reason="ok")
    assert not publishable(gov, "kpi:oee")  # approved content not yet in the catalog

    assert gov.apply(proposal.id) == path
    assert content_hash(path.read_bytes()) == proposal.hash and publishable(gov, "kpi:oee")
    assert gov.apply(proposal.id) is None


def test_apply_refuses_when_the_file_changed_since_the_proposal(gov):
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")
    path = gov.items()["kpi:oee"].path
    proposal, _ = gov.propose("kpi:oee", actor="bjorn", reason="2027 target",
                              content=path.read_bytes().replace(b"target: 0.85", b"target: 0.8"))
    gov.approve(proposal.id, actor="amara", reason="ok")
    gov.approve(proposal.id, actor="chen", reason="ok")
    edit(gov, "kpi:oee", "decimals: 1", "decimals: 2")

    with pytest.raises(GovernanceError, match="changed since P-4 was proposed"):
        gov.apply(proposal.id)


# --- the CLI --------------------------------------------------------------------------------------------------------


def cli(workspace: Workspace, *args: str) -> int:
    return catalog_main([*args, "--catalog-dir", str(workspace.catalog_dir),
                         "--governance-dir", str(workspace.governance_dir)])


def test_the_demo_proposal_leaves_the_catalog_untouched_and_one_pending_proposal(workspace, capsys):
    gov = Governance(workspace)
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")
    oee = gov.items()["kpi:oee"].path.read_bytes()
    demo = ("propose", "kpi:oee", "--set", "target=0.80", "--as", "bjorn", "-m", "Raise the group OEE target")

    assert cli(workspace, *demo) == 0
    out = capsys.readouterr().out
    assert "P-4 proposed by bjorn: kpi:oee" in out
    assert "target change: target: 0.85 -> 0.8" in out and "-target: 0.85" in out and "+target: 0.8" in out
    assert "can approve: amara, chen" in out
    assert cli(workspace, *demo) == 0  # `make demo` twice: still one proposal
    assert "P-4 already proposes this content" in capsys.readouterr().out

    assert gov.items()["kpi:oee"].path.read_bytes() == oee
    assert [p.id for p in gov.state().proposals.values() if p.state == "open"] == [4]
    assert publishable(gov, "kpi:oee")


def test_the_walkthrough_approves_the_demo_proposal_by_item_and_a_rerun_proposes_nothing(workspace, capsys):
    gov = Governance(workspace)
    approve_as_is(gov, "kpi:oee", "amara", "bjorn", "chen")
    demo = ("propose", "kpi:oee", "--set", "target=0.80", "--as", "bjorn", "-m", "Raise the group OEE target")
    assert cli(workspace, *demo) == 0

    assert cli(workspace, "diff", "kpi:oee") == 0
    assert "P-4 kpi:oee" in capsys.readouterr().out
    assert cli(workspace, "approve", "kpi:oee", "--as", "amara", "-m", "agreed") == 0
    assert cli(workspace, "approve", "kpi:oee", "--as", "chen", "-m", "agreed") == 0
    out = capsys.readouterr().out
    assert "P-4 is approved" in out and "wrote the approved content to" in out
    assert "target: 0.8\n" in gov.items()["kpi:oee"].path.read_text(encoding="utf-8")
    assert publishable(gov, "kpi:oee")

    assert cli(workspace, *demo) == 0  # `make demo` again: nothing left to propose, and no failure
    assert "nothing to propose" in capsys.readouterr().out


def test_the_cli_takes_the_member_from_the_environment_and_refuses_self_approval(workspace, capsys, monkeypatch):
    monkeypatch.setenv("NORTHSTAR_GOVERNANCE_USER", "amara")
    assert cli(workspace, "propose", "kpi:oee", "-m", "baseline") == 0
    capsys.readouterr()

    assert cli(workspace, "approve", "P-1", "-m", "mine") == 1
    assert "refused: no self-approval: amara proposed P-1" in capsys.readouterr().err
    assert cli(workspace, "approve", "P-1", "--as", "bjorn", "-m", "ok") == 0
    assert "bjorn approved P-1 (kpi:oee): 1 of 2" in capsys.readouterr().out


def test_status_lists_pending_proposals_with_who_can_still_approve(workspace, capsys):
    assert cli(workspace, "propose", "kpi:oee", "--as", "amara", "-m", "baseline") == 0
    assert cli(workspace, "approve", "P-1", "--as", "chen", "-m", "ok") == 0
    capsys.readouterr()

    assert cli(workspace, "status", "--pending") == 0
    out = capsys.readouterr().out
    assert "P-1  kpi:oee  by amara" in out and "1 of 2 approvals" in out and "can approve: bjorn" in out
    assert cli(workspace, "status", "kpi:oee", "--require-approved") == 1
