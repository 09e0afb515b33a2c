"""Test support for the app: its paths, and a small published layer with hand-checkable numbers.

`build_published(root)` writes `root/published.duckdb` the way the pipeline does: the marts are built in
`root/warehouse.duckdb`, then `quality.publication.publish` swaps them in and a later `record_blocked` logs a blocked
attempt (so the file holds the last good data and says why the next run was not published).

The marts are a stand-in for dbt's, built from ten asset-shifts of three plants over two days (June 2026):
- `main_marts.kpi_values`: the KPIs whose elements the rows carry, at the grains the app reads (asset_shift,
  asset_day, plant_day, plant_week, plant_month, and enterprise rows it must ignore). Formulas come from the
  catalog definitions (numerator / denominator of a ratio; a product of its factors with dbt's zero rule), applied
  once per row to summed elements: ratios of sums.
- `main_marts.kpi_elements_asset_shift` (plant names), `main_marts.oee_losses_asset_shift` (the waterfall).

Every row keeps the ISO 22400 identities (PBT = POT - PDOT = APT + AUST + ADET + ADOT, PQ = GQ + SQ + RQ).
Singapore's first day is a long planned stop followed by a breakdown (PBT 19,800 s, nothing produced), so an
average of daily OEEs (41.8%) differs from the correct ratio of sums (48.2%). Monterrey's second shift has machine
states mapped for only 60% of its planned operation time: every Monterrey value containing it has coverage below the
90% of `catalog/apps.yaml` (the month: (43,200 + 25,920) / 86,400 = 80%) and is low confidence.
Every source row was ingested at 04:00 UTC on 1 July, after its shift ended, so no value is stale.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from catalog.governance import Governance, Workspace
from catalog.governance.items import APPS_ITEM
from quality.publication import publish, record_blocked

DAY_1 = date(2026, 6, 1)  # a Monday: the ISO week and the month both start on it
DAY_2 = date(2026, 6, 2)
REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ENTRYPOINT = REPO_ROOT / "apps" / "streamlit_app.py"
KPI_CATALOG_DIR = REPO_ROOT / "catalog" / "kpis"
APPS_CONFIG = REPO_ROOT / "catalog" / "apps.yaml"
# An edit of the governed app settings: a lower confidence threshold (Monterrey's 80% month would then be trusted).
LOWER_THRESHOLD = ("  min_coverage: 0.9\n", "  min_coverage: 0.75\n")

PLANT_NAMES = {"DE-STR": "Stuttgart", "MX-MTY": "Monterrey", "SG-SIN": "Singapore"}
INGESTED_AT = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
DATA_AS_OF = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
DATA_AS_OF_TEXT = "Data as of 01 Jul 2026, 05:00 UTC"
BLOCKED_REASONS = [
    {
        "check": "bronze/mes/production_counts:production_counts_suite",
        "suite": "bronze.mes.production_counts",
        "expectation": "expect_column_values_to_not_be_null",
        "column": "good_qty",
        "failing": 12,
    }
]

# plant, asset, shift, date, start hour (UTC), pot, pdot, apt, aust, adet, adot, pq, gq, sq, rq, pri_pq_s
ASSET_SHIFT_ROWS = [
    ("DE-STR", "P1", "F", DAY_1, 4, 28800, 1800, 24000, 1200, 1200, 600, 800, 780, 15, 5, 21600),
    ("DE-STR", "P2", "F", DAY_1, 4, 28800, 1800, 21000, 1800, 3000, 1200, 1000, 940, 50, 10, 18000),
    ("DE-STR", "P1", "S", DAY_1, 12, 28800, 1800, 25000, 600, 900, 500, 850, 840, 8, 2, 22950),
    ("DE-STR", "P2", "S", DAY_1, 12, 28800, 1800, 18000, 1800, 6000, 1200, 900, 870, 25, 5, 16200),
    ("DE-STR", "P1", "F", DAY_2, 4, 28800, 1800, 26000, 300, 500, 200, 900, 890, 8, 2, 24300),
    ("DE-STR", "P2", "F", DAY_2, 4, 28800, 1800, 23000, 1200, 2000, 800, 1150, 1120, 25, 5, 20700),
    ("MX-MTY", "M1", "T1", DAY_1, 13, 43200, 3600, 30000, 2400, 4800, 2400, 1400, 1330, 50, 20, 28000),
    ("MX-MTY", "M1", "T1", DAY_2, 13, 43200, 3600, 36000, 1200, 1800, 600, 1700, 1680, 15, 5, 34000),
    ("SG-SIN", "S1", "A", DAY_1, 0, 28800, 9000, 0, 0, 19800, 0, 0, 0, 0, 0, 0),
    ("SG-SIN", "S1", "A", DAY_2, 0, 28800, 1800, 25000, 600, 900, 500, 1200, 1188, 10, 2, 22800),
]
# (plant, asset, shift, date) -> share of POT covered by mapped machine states (1 elsewhere)
COVERED_SHARE = {("MX-MTY", "M1", "T1", DAY_2): 0.6}

# The KPIs whose elements the rows carry; the others of the catalog (MTBF, energy, ...) are simply not published
# here, as a network without maintenance or energy data would not publish them.
ELEMENTS = ["pot_s", "pdot_s", "pbt_s", "apt_s", "aust_s", "adet_s", "adot_s", "aupt_s", "aubt_s",
            "pq", "gq", "sq", "rq", "gp", "ip", "pri_pq_s", "covered_s"]  # fmt: skip
FIXTURE_KPIS = ["availability", "effectiveness", "quality_ratio", "oee", "nee", "allocation_efficiency",
                "utilization_efficiency", "technical_efficiency", "setup_rate", "scrap_ratio", "rework_ratio",
                "first_pass_yield"]  # fmt: skip

# grain -> (entity columns, period level, period start expression)
_GRAINS = {
    "asset_shift": (["plant_id", "line_id", "asset_id", "shift_code"], "shift", "shift_date"),
    "asset_day": (["plant_id", "line_id", "asset_id"], "day", "shift_date"),
    "plant_day": (["plant_id"], "day", "shift_date"),
    "plant_week": (["plant_id"], "week", "cast(date_trunc('week', shift_date) as date)"),
    "plant_month": (["plant_id"], "month", "cast(date_trunc('month', shift_date) as date)"),
    "enterprise_day": ([], "day", "shift_date"),
    "enterprise_month": ([], "month", "cast(date_trunc('month', shift_date) as date)"),
}
_PERIOD_END = {
    "shift": "period_start + 1",
    "day": "period_start + 1",
    "week": "period_start + 7",
    "month": "cast(period_start + interval 1 month as date)",
}
_KEY_COLUMNS = ["plant_id", "line_id", "asset_id", "shift_code"]


def asset_shift_records() -> list[dict[str, object]]:
    records = []
    for plant_id, asset, shift, day, hour, pot, pdot, apt, aust, adet, adot, pq, gq, sq, rq, pri_pq in ASSET_SHIFT_ROWS:
        pbt = pot - pdot
        assert pbt == apt + aust + adet + adot and pq == gq + sq + rq, (plant_id, asset, shift, day)
        started_at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        records.append(
            {
                "plant_id": plant_id,
                "plant_name": PLANT_NAMES[plant_id],
                "asset_id": f"{plant_id}:{asset}",
                "line_id": f"{plant_id}:L1",
                "shift_code": shift,
                "shift_date": day,
                "shift_started_at": started_at,
                "shift_ended_at": started_at + timedelta(seconds=pot),
                "pot_s": pot,
                "pdot_s": pdot,
                "pbt_s": pbt,
                "apt_s": apt,
                "aust_s": aust,
                "adet_s": adet,
                "adot_s": adot,
                "aupt_s": apt + aust,
                "aubt_s": apt + aust + adet,
                "pq": pq,
                "gq": gq,
                "sq": sq,
                "rq": rq,
                "gp": gq,  # every part is inspected, reworked parts are not good at the first pass
                "ip": pq,
                "pri_pq_s": pri_pq,
                "covered_s": pot * COVERED_SHARE.get((plant_id, asset, shift, day), 1.0),
                "freshness_at": INGESTED_AT,
                "checks_passed": True,
            }
        )
    return records


def _scaled(formula: dict, part: str) -> str:
    divisor = formula.get(f"{part}_divisor")
    return f"({formula[part]})" + (f" / {divisor}" if divisor else "")


def _kpi_sql(definitions: dict[str, dict], kpi_id: str) -> tuple[str, str, str]:
    """value, numerator and denominator of a KPI over summed element columns, from its catalog definition."""
    formula = definitions[kpi_id]["formula"]
    if formula["kind"] == "ratio":
        numerator, denominator = _scaled(formula, "numerator"), _scaled(formula, "denominator")
        return f"cast({numerator} as double) / nullif({denominator}, 0)", numerator, denominator
    # A product (docs/kpi-table.md): its factors' values multiplied once; 0 with planned busy time but no production
    # time or nothing produced, null without planned busy time; numerator value x PBT, denominator PBT.
    factors = [_kpi_sql(definitions, factor)[0] for factor in formula["factors"]]
    if "basis" in formula:
        basis = formula["basis"]
        factors.insert(0, f"cast({basis['numerator']} as double) / nullif({basis['denominator']}, 0)")
    value = f"case when pbt_s = 0 then null when apt_s = 0 or pq = 0 then 0.0 else {' * '.join(factors)} end"
    return value, f"({value}) * pbt_s", "pbt_s"


def _build_marts(warehouse: Path, *, with_losses: bool = True) -> list[str]:
    """The fixture's marts in `warehouse`; returns their names (`main_marts.<table>`)."""
    definitions = {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in KPI_CATALOG_DIR.glob("*.yaml")
    }
    with duckdb.connect(str(warehouse)) as connection:
        connection.register("records", pd.DataFrame(asset_shift_records()))
        connection.execute("create schema main_marts")
        connection.execute("create table main_marts.kpi_elements_asset_shift as select * from records")
        rollups = []
        for grain, (entities, period_level, period_start) in _GRAINS.items():
            keys = [f"{c}" if c in entities else f"null::varchar as {c}" for c in _KEY_COLUMNS]
            rollups.append(
                f"""
                select
                    '{grain}' as grain, '{grain.split("_")[0]}' as entity_level, '{period_level}' as period_level,
                    {", ".join(keys)}, period_start, {_PERIOD_END[period_level]} as period_end,
                    period_started_at, period_ended_at, freshness_at, checks_passed,
                    {", ".join(ELEMENTS)}
                from (
                    select
                        {"".join(c + ", " for c in entities)}{period_start} as period_start,
                        min(shift_started_at) as period_started_at, max(shift_ended_at) as period_ended_at,
                        max(freshness_at) as freshness_at, bool_and(checks_passed) as checks_passed,
                        {", ".join(f"sum({e})::double as {e}" for e in ELEMENTS)}
                    from records
                    group by all
                )
                """
            )
        connection.execute(f"create table rolled_up as {' union all by name '.join(rollups)}")
        branches = []
        for kpi_id in FIXTURE_KPIS:
            definition = definitions[kpi_id]
            value, numerator, denominator = _kpi_sql(definitions, kpi_id)
            coverage = definition.get("coverage") or {"numerator": "covered_s", "denominator": "pot_s"}
            branches.append(
                f"""
                select
                    '{kpi_id}' as kpi_id, '{definition["version"]}' as kpi_version, '{definition["unit"]}' as unit,
                    grain, entity_level, period_level, 'northstar' as enterprise_id,
                    plant_id, line_id, asset_id, shift_code,
                    period_start, period_end, period_started_at, period_ended_at,
                    {value} as value, cast({numerator} as double) as numerator,
                    cast({denominator} as double) as denominator,
                    {coverage["numerator"]} / nullif({coverage["denominator"]}, 0) as coverage,
                    freshness_at, checks_passed
                from rolled_up
                """
            )
        connection.execute(f"create table main_marts.kpi_values as {' union all '.join(branches)}")
        connection.execute("drop table rolled_up")
        if with_losses:
            connection.register("losses", pd.DataFrame(_loss_rows()))
            connection.execute("create table main_marts.oee_losses_asset_shift as select * from losses")
    names = ["main_marts.kpi_values", "main_marts.kpi_elements_asset_shift"]
    return names + (["main_marts.oee_losses_asset_shift"] if with_losses else [])


def _loss_rows() -> list[dict[str, object]]:
    """The six-big-losses waterfall of each asset-shift: a quarter of ADET are minor stops, the rest breakdowns."""
    rows = []
    for record in asset_shift_records():
        pri = record["pri_pq_s"] / record["pq"] if record["pq"] else 0.0
        small_stops = record["adet_s"] / 4
        steps = [
            (0, "planned_busy_time", "Planned busy time (PBT)", "start", None, record["pbt_s"]),
            (1, "breakdown", "Breakdowns", "loss", "availability", record["adet_s"] - small_stops),
            (2, "setup_adjustment", "Setup and adjustment", "loss", "availability", record["aust_s"]),
            (3, "small_stop", "Small stops", "loss", "availability", small_stops),
            (4, "idle", "Idle (starved, blocked, no order)", "loss", "availability", record["adot_s"]),
            (20, "reduced_speed", "Reduced speed", "loss", "effectiveness", record["apt_s"] - record["pri_pq_s"]),
            (21, "scrap", "Rejects: scrap", "loss", "quality_ratio", pri * record["sq"]),
            (22, "rework", "Rejects: rework", "loss", "quality_ratio", pri * record["rq"]),
            (30, "oee_time", "OEE time (PRI x GQ)", "end", None, pri * record["gq"]),
        ]
        losses = sum(seconds for _, _, _, kind, _, seconds in steps if kind == "loss")
        assert math.isclose(record["pbt_s"] - losses, steps[-1][-1], abs_tol=1e-6), record  # the waterfall closes
        for step, step_id, name, kind, factor, seconds in steps:
            rows.append(
                {
                    "plant_id": record["plant_id"],
                    "line_id": record["line_id"],
                    "asset_id": record["asset_id"],
                    "shift_code": record["shift_code"],
                    "shift_date": record["shift_date"],
                    "waterfall_step": step,
                    "step_id": step_id,
                    "step_name": name,
                    "step_kind": kind,
                    "oee_factor": factor,
                    "seconds": float(seconds),
                }
            )
    return rows


def build_published(data_root: Path, *, blocked: bool = True, with_losses: bool = True, logged: bool = True) -> Path:
    """Write `data_root/published.duckdb` (see the module docstring); returns its path.

    `blocked`: a blocked attempt follows the publication; `with_losses`: the waterfall mart is published;
    `logged`: published through `quality.publication` (False: the marts without a publication log, as a file
    published before the log existed).
    """
    data_root.mkdir(parents=True, exist_ok=True)
    published = data_root / "published.duckdb"
    if not logged:
        _build_marts(published, with_losses=with_losses)
        return published
    warehouse = data_root / "warehouse.duckdb"
    tables = _build_marts(warehouse, with_losses=with_losses)
    publish(warehouse, published, tables, run_id="run-good", built_at=DATA_AS_OF)
    if blocked:
        record_blocked(published, run_id="run-blocked", reasons=BLOCKED_REASONS)
    return published


def governed_catalog(directory: Path, *, approved: bool = True) -> Path:
    """A copy of the catalog's YAML in `directory/catalog` with a decision ledger of its own (`governance/`), in which
    `apps:config` is approved as the file is (P-1, proposed by amara, approved by bjorn and chen), or never approved.

    Point the app at it with NORTHSTAR_CATALOG_ROOT; the repository's catalog and ledger are never touched.
    """
    catalog = directory / "catalog"
    shutil.copytree(REPO_ROOT / "catalog", catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance"))
    if approved:
        governance = Governance(Workspace(catalog, catalog / "governance", directory))
        proposal, _ = governance.propose(APPS_ITEM, actor="amara", reason="the app settings of the test")
        for member in ("bjorn", "chen"):
            governance.approve(proposal.id, actor=member, reason="ok")
    return catalog


def edit_apps_config(catalog: Path, old: str, new: str) -> None:
    path = catalog / "apps.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
