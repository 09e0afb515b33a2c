"""The Northstar catalog: data contracts, KPI definitions, master-data mappings and plant profiles.

Plain Python (no Dagster). Every column list, KPI formula and mapping is written once, in the YAML files beside this
module; ingestion, dbt, the quality suites and the apps are generated from them or tested against them.

``NORTHSTAR_CATALOG_ROOT`` relocates the catalog's YAML (contracts, kpis, mappings, plants, governance.yaml and the
decision ledger under governance/): a copy elsewhere is then what the pipeline loads, renders and checks approvals
against (the KPI definition change test runs the pipeline on such a copy). Unset, it is this package's directory.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CATALOG_DIR = Path(os.environ.get("NORTHSTAR_CATALOG_ROOT") or PACKAGE_DIR).resolve()
