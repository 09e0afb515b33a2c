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
