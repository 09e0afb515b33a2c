"""A KPI definition change from proposal to published values (issue 4, "Done when"), through the real pipeline.

In a copy of the catalog (NORTHSTAR_CATALOG_ROOT) and of the dbt project (NORTHSTAR_DBT_PROJECT_DIR), with its own
decision ledger, the `ci` network runs through Dagster three times:

1. every item approved: the scrap ratio is published as definition v1.0.0, SQ / PQ;
2. a new version v2.0.0, (SQ + RQ) / PQ, is rendered and proposed but not yet approved: the run refuses to publish,
   the published layer keeps the v1.0.0 values and says why (publication log and run log);
3. the quorum approves it: the run publishes values recomputed with v2.0.0, carrying that version on every row.

The repository's catalog, dbt project and ledger are never touched.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from catalog import CATALOG_DIR
from catalog.governance import Governance, Workspace
from catalog.render import DBT_PROJECT_DIR, REPO_ROOT, render_all
from quality.publication import read_status

pytestmark = pytest.mark.slow

KPI = "scrap_ratio"
ITEM = f"kpi:{KPI}"
NEW_VERSION = [
    ("version: 1.0.0\n", "version: 2.0.0\n"),
    (
        "  text: SQ / PQ\n  kind: ratio\n  numerator: sq\n",
        "  text: (SQ + RQ) / PQ\n  kind: ratio\n  numerator: sq + rq\n",
    ),
    # the definition's worked example (a generated dbt unit test) follows the new formula: (130 + 20) / 8200
    (
        "elements: {sq: 130, pq: 8200}\n    value: 0.015853658536585366\n",
        "elements: {sq: 130, rq: 20, pq: 8200}\n    value: 0.018292682926829267\n",
    ),
]


@dataclass
class Sandbox:
    root: Path
    catalog: Path
    dbt_project: Path
    data: Path
    governance: Governance

    def run_pipeline(self) -> subprocess.CompletedProcess[str]:
        """`northstar demo --network ci` on the sandbox (a process of its own: the catalog root is read at import)."""
        env = {
            **os.environ,
            "NORTHSTAR_CATALOG_ROOT": str(self.catalog),
            "NORTHSTAR_DBT_PROJECT_DIR": str(self.dbt_project),
            "NORTHSTAR_DATA_ROOT": str(self.data),
            "DAGSTER_HOME": str(self.data / "dagster"),
        }
        env.pop("NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS", None)
        env.pop("NORTHSTAR_GOVERNANCE_DIR", None)
        command = [sys.executable, "-m", "orchestration.cli", "demo", "--network", "ci", "--data-root", str(self.data)]
        return subprocess.run(
            command, check=False, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200
        )

    def published_kpi(self, kpi_id: str) -> dict[tuple, tuple[str, float | None]]:
        """(grain, entity, period) -> (kpi_version, value) of one KPI in published.duckdb."""
        with duckdb.connect(str(self.data / "published.duckdb"), read_only=True) as connection:
            rows = connection.execute(
                "select grain, plant_id, line_id, asset_id, shift_code, period_start, kpi_version, value "
                "from main_marts.kpi_values where kpi_id = ?",
                [kpi_id],
            ).fetchall()
        return {tuple(row[:6]): (row[6], row[7]) for row in rows}

    def published_asset_shift_elements(self) -> dict[tuple, tuple[int, int, int]]:
        with duckdb.connect(str(self.data / "published.duckdb"), read_only=True) as connection:
            rows = connection.execute(
                "select plant_id, asset_id, shift_code, shift_date, sq, rq, pq from main_marts.kpi_elements_asset_shift"
            ).fetchall()
        return {tuple(row[:4]): tuple(row[4:]) for row in rows}

    def edit_kpi(self, *replacements: tuple[str, str]) -> None:
        path = self.catalog / "kpis" / f"{KPI}.yaml"
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new, 1)
        path.write_text(text, encoding="utf-8")


def approve_everything(governance: Governance) -> None:
    """The baseline: every item of the copied catalog approved as it is, each by its domain's quorum."""
    config = governance.state().config
    for item in sorted(governance.items()):
        proposal, _ = governance.propose(item, actor="elena", reason="baseline of the sandbox")
        domain = config.domain_for(item)
        for member in [m for m in config.approvers(domain) if m != "elena"][: domain.quorum]:
            governance.approve(proposal.id, actor=member, reason="baseline")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    root = tmp_path_factory.mktemp("governed_kpi_change")
    catalog, dbt_project = root / "catalog", root / "dbt_project"
    shutil.copytree(CATALOG_DIR, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    shutil.copytree(DBT_PROJECT_DIR, dbt_project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    # the layout of a checkout: the ledger under catalog/governance, the dbt manifest (lineage) under dbt_project/
    governance = Governance(Workspace(catalog_dir=catalog, governance_dir=catalog / "governance", repo_root=root))
    approve_everything(governance)
    return Sandbox(root, catalog, dbt_project, root / "data", governance)


@pytest.fixture(scope="module")
def history(sandbox: Sandbox) -> dict[str, object]:
    """The three runs and what was published after each (one scenario: each step starts where the last ended)."""
    seen: dict[str, object] = {}
    first = sandbox.run_pipeline()
    assert first.returncode == 0, first.stdout[-4000:]
    seen["v1"] = sandbox.published_kpi(KPI)
    seen["oee_v1"] = sandbox.published_kpi("oee")

    sandbox.edit_kpi(*NEW_VERSION)
    render_all(catalog_dir=sandbox.catalog, dbt_project_dir=sandbox.dbt_project)
    proposal, _ = sandbox.governance.propose(ITEM, actor="chen", reason="rework counts as a quality loss too")
    seen["proposal"] = proposal

    second = sandbox.run_pipeline()
    seen["blocked_run"] = second
    seen["after_proposal"] = sandbox.published_kpi(KPI)
    seen["status_after_proposal"] = read_status(sandbox.data / "published.duckdb")

    for member in ("amara", "bjorn"):
        sandbox.governance.approve(proposal.id, actor=member, reason="reviewed the new definition")
    third = sandbox.run_pipeline()
    assert third.returncode == 0, third.stdout[-4000:]
    seen["v2"] = sandbox.published_kpi(KPI)
    seen["oee_v2"] = sandbox.published_kpi("oee")
    seen["elements"] = sandbox.published_asset_shift_elements()
    return seen


def test_the_approved_definition_is_published_with_its_version(history):
    assert history["v1"] and {version for version, _ in history["v1"].values()} == {"1.0.0"}


def test_a_proposed_definition_is_not_published_and_the_reason_is_visible(history, sandbox):
    run = history["blocked_run"]
    assert run.returncode == 1
    # the old approved values and version stay published
    assert history["after_proposal"] == history["v1"]
    status = history["status_after_proposal"]
    assert status.status == "blocked"
    errors = " ".join(str(reason.get("error")) for reason in status.reasons)
    assert f"publication blocked by governance: not approved: {ITEM}" in errors
    # the run log names the item and why: the approved version and the open proposal
    log = run.stdout + run.stderr
    assert f"governance: {ITEM}: " in log and "the catalog has v2.0.0" in log
    assert f"P-{history['proposal'].id} by chen awaits approval" in log


def test_after_the_quorum_approves_every_value_is_recomputed_with_the_new_version(history):
    v2 = history["v2"]
    assert set(v2) == set(history["v1"])
    assert {version for version, _ in v2.values()} == {"2.0.0"}
    # asset-shift values are (SQ + RQ) / PQ of the published elements (null without production)
    asset_shifts = {(k[3], k[4], k[5]): value for k, value in v2.items() if k[0] == "asset_shift"}
    assert len(asset_shifts) == len(history["elements"])
    checked = 0
    for (plant_id, asset_id, shift_code, shift_date), (sq, rq, pq) in history["elements"].items():
        _, value = asset_shifts[(asset_id, shift_code, shift_date)]
        if pq:
            assert math.isclose(value, (sq + rq) / pq, rel_tol=1e-12), (asset_id, shift_date, shift_code)
            checked += 1
        else:
            assert value is None
    assert checked > 0
    # where rework happened the value changed; OEE, which does not use the definition, did not
    changed = [key for key, (_, value) in v2.items() if value != history["v1"][key][1]]
    assert changed and any(rq for _, rq, _ in history["elements"].values())
    assert history["oee_v2"] == history["oee_v1"]
