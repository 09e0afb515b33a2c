"""The Northstar catalog: data contracts, KPI definitions, master-data mappings and plant profiles.

Plain Python (no Dagster). Every column list, KPI formula and mapping is written once, in the YAML files beside this
module; ingestion, dbt, the quality suites and the apps are generated from them or tested against them.
"""

from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent
