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

from catalog.render import dbt_env
from ingestion.settings import load_settings
from orchestration.resources import NorthstarSettings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


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
    if not project.manifest_path.exists():
        # A fresh clone has no manifest yet: parse once (what `dagster dev` does through prepare_if_dev).
        project.preparer.prepare(project)
    return project


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
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(
    assets=[northstar_dbt_models],
    # The dbt executable of this interpreter's environment, whether or not the venv is on PATH.
    resources={"dbt": DbtCliResource(project_dir=northstar_dbt_project(), dbt_executable=str(Path(sys.executable).parent / "dbt"))},
)
