"""The dbt project as Dagster assets: staging, intermediate and published marts, with dbt tests as asset checks."""


import os
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from catalog.render import DBT_PROJECT_DIR, dbt_env
from ingestion.settings import load_settings
from orchestration.resources import NorthstarSettings


def configure_dbt_environment(data_root: Path | None = None) -> None:
    """dbt reads the data root and the Delta extension path from the environment (profiles.yml, sources)."""
    os.environ.update(dbt_env(data_root or load_settings().data_root))
    # dagster-dbt's project preparer looks `dbt` up on PATH: make it this environment's dbt even without an activated venv.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


@cache
def northstar_dbt_project() -> DbtProject:
    configure_dbt_environment()
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if _manifest_is_stale(project.manifest_path):
        # A fresh clone has no manifest, and an edited project has a stale one: parse (what `dagster dev` does
        # through prepare_if_dev), otherwise asset keys would follow an old graph.
        project.preparer.prepare(project)
    return project


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [p for pattern in ("*.yml", "models/**/*", "macros/**/*", "seeds/**/*", "tests/**/*", "selectors.yml")
               for p in DBT_PROJECT_DIR.glob(pattern) if p.is_file()]
    return any(p.stat().st_mtime > built for p in sources)


class NorthstarDbtTranslator(DagsterDbtTranslator):
    """Groups follow the folder structure (staging, intermediate, marts), never lists of model names."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            fqn = dbt_resource_props.get("fqn", [])
            return fqn[1] if len(fqn) > 2 else "models"
        if dbt_resource_props["resource_type"] == "seed":
            return "catalog"
        return super().get_group_name(dbt_resource_props)


@dbt_assets(
    manifest=northstar_dbt_project().manifest_path,
    project=northstar_dbt_project(),
    dagster_dbt_translator=NorthstarDbtTranslator(),
)
def northstar_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, northstar: NorthstarSettings):
    """`dbt build` of the selected models: seeds, models and their data tests (surfaced as asset checks)."""
    configure_dbt_environment(northstar.get().data_root)
    refused = unapproved_items([k for k in context.selected_asset_keys if k.path[0] == "marts"])
    if not refused:
        yield from dbt.cli(["build"], context=context).stream()
        return
    # Governance: the published marts keep their last approved result; everything upstream still builds.
    for item, reason in refused.items():
        context.log.error(f"governance: {item}: {reason}")
    yield from dbt.cli(["build", "--exclude", "path:models/marts"], context=context).stream()
    raise dg.Failure(
        description=f"publication blocked by governance: not approved: {', '.join(sorted(refused))[:400]}",
        metadata={"unapproved": dg.MetadataValue.json(refused)},
    )


def unapproved_items(mart_keys: list[dg.AssetKey]) -> dict[str, str]:
    """Contracts and KPI definitions the marts are computed from that the governance body has not approved as they
    are now (catalog/governance): item -> reason."""
    from catalog.governance import items_in_use, publication_status

    items = sorted({i for key in mart_keys for i in items_in_use(key.path) if i.startswith(("contract:", "kpi:"))})
    return {s.item: s.reason for s in publication_status(items) if not s.approved}


defs = dg.Definitions(
    assets=[northstar_dbt_models],
    # The dbt executable of this interpreter's environment, whether or not the venv is on PATH.
    resources={"dbt": DbtCliResource(project_dir=northstar_dbt_project(), dbt_executable=str(Path(sys.executable).parent / "dbt"))},
)
