"""What the pipeline may publish (reliability scenario 28): never a table whose contract, or a KPI whose definition, is
not approved as it stands in the catalog; the reason is given; no identity or flag bypasses it."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest

from catalog import CATALOG_DIR
from catalog.governance import Governance, Workspace, items_in_use, publication_status
from catalog.governance.items import catalog_items

MART = "contract:published.marts.oee_plant_day"


@pytest.fixture
def gov(tmp_path: Path) -> Governance:
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    gov = Governance(Workspace(catalog_dir=catalog, governance_dir=tmp_path / "ledger", repo_root=tmp_path))
    for item, proposer, approvers in (
        ("kpi:oee", "amara", ("bjorn", "chen")),
        ("kpi:availability", "amara", ("bjorn", "chen")),
        (MART, "elena", ("farid", "hana")),
    ):
        proposal, _ = gov.propose(item, actor=proposer, reason="baseline")
        for approver in approvers:
            gov.approve(proposal.id, actor=approver, reason="reviewed")
    return gov


def test_approved_items_are_publishable_with_who_approved_them(gov):
    statuses = gov.publication_status(["kpi:oee", MART])

    assert [(s.item, s.approved) for s in statuses] == [("kpi:oee", True), (MART, True)]
    assert statuses[0].reason.startswith("approved v1.0.0 (") and "in P-1 by bjorn and chen" in statuses[0].reason


def test_an_unapproved_kpi_definition_change_is_not_published_and_the_approved_version_is_named(gov):
    path = gov.items()["kpi:availability"].path
    path.write_text(path.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 2.0.0")
                    .replace("numerator: apt_s", "numerator: apt_s + aust_s"), encoding="utf-8")
    proposal, _ = gov.propose("kpi:availability", actor="amara", reason="count setups as available")
    gov.approve(proposal.id, actor="bjorn", reason="ok")

    ((item, approved, reason),) = gov.publication_status(["kpi:availability"])
    assert (item, approved) == ("kpi:availability", False)
    assert "the catalog has v2.0.0" in reason and "the approved version is v1.0.0" in reason
    assert "P-10 by amara awaits approval (1 of 2: bjorn)" in reason
    # the approved definition stays on record: the pipeline keeps publishing what it computed with it
    assert gov.state().approved["kpi:availability"].version == "1.0.0"


def test_a_contract_never_approved_is_not_publishable(gov):
    ((_, approved, reason),) = gov.publication_status(["contract:published.marts.oee_asset_shift"])

    assert not approved and reason.startswith("not approved: contract:published.marts.oee_asset_shift v1.0.0 (")
    assert reason.endswith("was never approved")


def test_an_unknown_item_is_not_publishable(gov):
    assert gov.publication_status(["kpi:made_up"]) == [
        ("kpi:made_up", False, "not publishable: kpi:made_up is not an item of the catalog")
    ]


def test_nothing_is_publishable_while_the_ledger_fails_verification(gov):
    ledger = gov.workspace.ledger_path
    records = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    records[1], records[2] = records[2], records[1]
    ledger.write_text("".join(records), encoding="utf-8")

    statuses = gov.publication_status(["kpi:oee", MART])
    assert [s.approved for s in statuses] == [False, False]
    assert all("the governance ledger fails verification" in s.reason for s in statuses)


def test_there_is_no_bypass_parameter():
    assert list(inspect.signature(publication_status).parameters) == ["item_ids", "workspace"]
    assert list(inspect.signature(Governance.publication_status).parameters) == ["self", "item_ids"]


def test_the_items_a_published_mart_uses_include_its_contract_and_kpi_definitions(gov):
    used = items_in_use(["marts", "oee_plant_day"], workspace=gov.workspace)

    assert {MART, "kpi:oee", "kpi:availability", "kpi:effectiveness", "kpi:quality_ratio"} <= set(used)


def test_every_item_of_the_committed_catalog_is_approved_so_the_pipeline_publishes():
    """The seeded ledger approves the catalog as committed. A catalog change without its approval records fails here
    (propose and approve it: docs/governance.md)."""
    governance = Governance(Workspace())
    items = sorted(catalog_items(CATALOG_DIR))
    refused = [(s.item, s.reason) for s in governance.publication_status(items) if not s.approved]

    assert refused == []
