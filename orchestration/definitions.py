"""Northstar's Dagster definitions: a thin root that merges each domain's definitions and the main job."""

from __future__ import annotations

import dagster as dg

from orchestration.defs import dbt as dbt_defs
from orchestration.defs import ingestion as ingestion_defs
from orchestration.defs import publish as publish_defs
from orchestration.resources import NorthstarSettings

MAIN_JOB = "northstar_main"

northstar_main = dg.define_asset_job(
    MAIN_JOB,
    selection=dg.AssetSelection.all(),
    description="Everything from the sensor stream and plant extracts to the published OEE marts.",
    hooks={publish_defs.record_blocked_publication},
)

defs = dg.Definitions.merge(
    ingestion_defs.defs,
    dbt_defs.defs,
    publish_defs.defs,
    dg.Definitions(jobs=[northstar_main], resources={"northstar": NorthstarSettings()}),
)
