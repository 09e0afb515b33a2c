"""The dbt project as Dagster assets: staging, intermediate and published marts, with dbt tests as asset checks; and
the partitioned job `kpi_library_partitions` that rebuilds one plant's production days (a (plant, day) partition
becomes the dbt vars min_date, max_date and plant_ids of the partition-aware models)."""


import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from catalog.plants import load_plants
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


# Production days from the start of the simulated histories (the bench network's year starts 2025-11-01) x the
# catalog's plants with a shift calendar: a partition is one plant's production day, the grain at which extracts
# arrive late and are corrected. A sensor-only plant or a reporting system has no production days.
PARTITION_START_DATE = "2025-11-01"
PLANT_DAY_PARTITIONS = dg.MultiPartitionsDefinition(
    {
        "day": dg.DailyPartitionsDefinition(start_date=PARTITION_START_DATE),
        "plant": dg.StaticPartitionsDefinition(
            sorted(plant_id for plant_id, plant in load_plants().items() if plant.shifts)
        ),
    }
)
# The partition-aware models (dbt_project/selectors.yml): only they may run with the partition vars (a plain table
# built from a partition-filtered staging view would keep only that window).
PARTITIONED_SELECTOR = "kpi_library"


def partition_vars(partition_keys: Sequence[dg.MultiPartitionKey]) -> dict[str, Any] | None:
    """The dbt vars of a run's (plant, day) partitions: the window of their days and their plants; None for a run
    without partitions (dbt then builds all history). A set of keys that is not a full plants x days rectangle
    gets the rectangle around it: recomputing a partition from the current bronze rows is idempotent."""
    if not partition_keys:
        return None
    days = sorted({key.keys_by_dimension["day"] for key in partition_keys})
    plants = sorted({key.keys_by_dimension["plant"] for key in partition_keys})
    return {"min_date": days[0], "max_date": days[-1], "plant_ids": plants}


def dbt_build_args(
    *, vars: Mapping[str, Any] | None = None, selector: str | None = None, exclude_marts: bool = False
) -> list[str]:
    """`dbt build` of a selector (default: what the run selected) with the partition window as vars (if any), without
    unit tests, and without the published marts if governance refused them.

    Unit tests check the SQL on fixed inputs, not the data, so a pipeline run gains nothing from repeating them (dbt's
    own advice: run them in development and CI). CI runs every one of them (tests/dbt_project/test_oee_marts.py);
    their fixture dates would also lie outside a partition window."""
    args = ["build"]
    if selector is not None:
        args += ["--selector", selector]
    if vars is not None:
        args += ["--vars", json.dumps(dict(vars))]
    args += ["--exclude-resource-type", "unit_test"]
    if exclude_marts:
        args += ["--exclude", "path:models/marts"]
    return args


def _governed_build(
    context: AssetExecutionContext | dg.OpExecutionContext,
    dbt: DbtCliResource,
    northstar: NorthstarSettings,
    mart_keys: Sequence[dg.AssetKey],
    *,
    vars: Mapping[str, Any] | None,
    selector: str | None = None,
) -> Iterator[Any]:
    """`dbt build`, without the published marts while governance has not approved what they are computed from."""
    configure_dbt_environment(northstar.get().data_root)
    # an op (the partition job) names the manifest and translator itself; @dbt_assets carry theirs
    invocation = {} if isinstance(context, AssetExecutionContext) else {
        "manifest": northstar_dbt_project().manifest_path, "dagster_dbt_translator": NorthstarDbtTranslator()
    }
    refused = unapproved_items(list(mart_keys))
    args = dbt_build_args(vars=vars, selector=selector, exclude_marts=bool(refused))
    yield from dbt.cli(args, context=context, **invocation).stream()
    if refused:
        # Governance: the published marts keep their last approved result; everything upstream still built.
        for item, reason in refused.items():
            context.log.error(f"governance: {item}: {reason}")
        raise dg.Failure(
            description=f"publication blocked by governance: not approved: {', '.join(sorted(refused))[:400]}",
            metadata={"unapproved": dg.MetadataValue.json(refused)},
        )


@dbt_assets(
    manifest=northstar_dbt_project().manifest_path,
    project=northstar_dbt_project(),
    dagster_dbt_translator=NorthstarDbtTranslator(),
)
def northstar_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, northstar: NorthstarSettings):
    """`dbt build` of the selected models over all history: seeds, models and their data tests (asset checks)."""
    mart_keys = [k for k in context.selected_asset_keys if k.path[0] == "marts"]
    yield from _governed_build(context, dbt, northstar, mart_keys, vars=None)


# Why a partitioned job over an op rather than a partitions_def on the dbt assets: in dagster 1.13 a partitioned
# multi-asset with internal dependencies (every dbt asset reads another of the same op) cannot run without a
# partition key (DagsterInvariantViolationError "Cannot access partition_key for a non-partitioned run", raised while
# recording the data versions of its `__subset_input__` inputs), so the main job, which builds everything without a
# partition, would fail; and a run over the whole key range (about 2,300 plant-days) had not finished after ten
# minutes of Dagster bookkeeping for a build dbt does in seconds. The op reports the rebuilt models as asset
# materializations of the same asset keys.
@dg.op(out={}, tags={"kind": "dbt"})
def kpi_library_partition_build(context: dg.OpExecutionContext, dbt: DbtCliResource, northstar: NorthstarSettings):
    """`dbt build --selector kpi_library` for the run's (plant, day) partitions: each incremental model replaces
    exactly that window; the week and month rollups around it follow."""
    mart_keys = [k for k in northstar_dbt_models.keys if k.path[0] == "marts"]
    yield from _governed_build(
        context, dbt, northstar, mart_keys, vars=partition_vars(context.partition_keys), selector=PARTITIONED_SELECTOR
    )


@dg.job(partitions_def=PLANT_DAY_PARTITIONS, tags={"kind": "dbt"})
def kpi_library_partitions():
    """Recompute one plant's production days of the KPI library (late or corrected extracts)."""
    kpi_library_partition_build()


def unapproved_items(mart_keys: list[dg.AssetKey]) -> dict[str, str]:
    """Contracts and KPI definitions the marts are computed from that the governance body has not approved as they
    are now (catalog/governance): item -> reason."""
    from catalog.governance import items_in_use, publication_status

    items = sorted({i for key in mart_keys for i in items_in_use(key.path) if i.startswith(("contract:", "kpi:"))})
    return {s.item: s.reason for s in publication_status(items) if not s.approved}


defs = dg.Definitions(
    assets=[northstar_dbt_models],
    jobs=[kpi_library_partitions],
    # The dbt executable of this interpreter's environment, whether or not the venv is on PATH.
    resources={"dbt": DbtCliResource(project_dir=northstar_dbt_project(), dbt_executable=str(Path(sys.executable).parent / "dbt"))},
)
