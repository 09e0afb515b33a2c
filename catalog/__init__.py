"""The Northstar catalog: data contracts, KPI definitions, master-data mappings and plant profiles.

Plain Python (no Dagster). Every column list, KPI formula and mapping is written once, in the YAML files beside this
module; ingestion, dbt, the quality suites and the apps are generated from them or tested against them.

``NORTHSTAR_CATALOG_ROOT`` relocates the catalog's YAML (contracts, kpis, mappings, plants, governance.yaml and the
decision ledger under governance/): a copy elsewhere is then what the pipeline loads, renders and checks approvals
against (the KPI definition change test runs the pipeline on such a copy). Unset, it is this package's directory.
"""

import os
from pathlib import Path

CATALOG_ROOT_ENV = "NORTHSTAR_CATALOG_ROOT"
PACKAGE_DIR = Path(__file__).resolve().parent


def catalog_dir() -> Path:
    """The catalog's directory as the environment says now: ``NORTHSTAR_CATALOG_ROOT``, else this package's.

    The one resolution of the catalog root: ``CATALOG_DIR`` is its value at import, which the pipeline's modules use;
    a long-running process that must follow the environment (the apps) calls it.
    """
    return Path(os.environ.get(CATALOG_ROOT_ENV) or PACKAGE_DIR).resolve()


CATALOG_DIR = catalog_dir()
