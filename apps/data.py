"""Read access to the published OEE marts (`main_marts` in `$NORTHSTAR_DATA_ROOT/published.duckdb`) for the app.

- Every query opens its own read-only DuckDB connection and closes it: a long-lived handle would keep the file
  open and block `dbt build` from rebuilding the warehouse.
- Connections refuse external access (no files, URLs or ATTACH from SQL) and lock that configuration.
- User input reaches SQL only as bound parameters (`?`).
- Cached results are shared by all sessions, so every cached function takes the scope it reads (warehouse, plants,
  period) as arguments: the cache key always contains what a user is allowed to see.
- KPIs over a period are ratios of sums of the ISO 22400 elements, never averages of daily or shift ratios.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

DATA_ROOT_ENV = "NORTHSTAR_DATA_ROOT"
WAREHOUSE_FILE = "published.duckdb"  # the write-audit-publish output; dbt works in warehouse.duckdb
MARTS_SCHEMA = "main_marts"
PLANT_DAY_MART = "oee_plant_day"
ASSET_SHIFT_MART = "oee_asset_shift"

# The hardening is passed when the connection is created rather than with `SET` afterwards: DuckDB shares one
# database instance between all connections to a file in a process, so with `SET` a second session connecting
# while the first is open would fail on the already locked configuration (and a connection could briefly exist
# unhardened). Passed at creation, every connection is born with external access off and the setting locked.
_HARDENED = {"enable_external_access": False, "lock_configuration": True}

# The marts are rebuilt by batch runs; five minutes keeps the app close to the warehouse without reopening it
# on every widget change. Each entry is one (warehouse, scope, period) combination, bounded so that many users'
# filter choices cannot grow memory without limit.
_TTL = "5m"
_MAX_ENTRIES = 256

# The four KPIs recomputed from summed elements over the grain of the enclosing query (docs/design.md, "KPI
# rules"; the columns are named by catalog KPI id). A zero denominator gives null, except OEE, which is 0 when the
# unit had planned busy time but produced nothing. A trusted constant, never built from input.
_KPIS_FROM_TOTALS = """
        apt_s / nullif(pbt_s, 0) as availability,
        pri_pq_s / nullif(apt_s, 0) as effectiveness,
        gq / nullif(pq, 0) as quality_ratio,
        case
            when pbt_s = 0 then null
            when apt_s = 0 or pq = 0 then 0
            else (apt_s / pbt_s) * (pri_pq_s / apt_s) * (gq / pq)
        end as oee"""

_SUMMED_ELEMENTS = """
            sum(pbt_s) as pbt_s,
            sum(apt_s) as apt_s,
            sum(pri_pq_s) as pri_pq_s,
            sum(pq)::bigint as pq,
            sum(gq)::bigint as gq"""


def warehouse_path() -> Path:
    """The warehouse file under `NORTHSTAR_DATA_ROOT` (default `./data`)."""
    return Path(os.environ.get(DATA_ROOT_ENV) or "./data") / WAREHOUSE_FILE


@contextmanager
def _connect(warehouse: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(warehouse), read_only=True, config=_HARDENED)
    try:
        yield connection
    finally:
        connection.close()


def _query(warehouse: str, sql: str, parameters: list[object] | None = None) -> pd.DataFrame:
    with _connect(warehouse) as connection:
        # Through Arrow: DuckDB's direct `.df()` uses pandas API that pandas 3.1 deprecates.
        return connection.execute(sql, parameters or []).to_arrow_table().to_pandas()


def warehouse_problem(warehouse: Path) -> str | None:
    """Why the app cannot show OEE yet, as a message for the user; None when the marts are ready.

    Not cached: after `make demo` finishes, the next page load must see the new warehouse.
    """
    build_hint = (
        f"Build the demo warehouse with `make demo`, or point `{DATA_ROOT_ENV}` at a data root that has one, "
        "then reload this page."
    )
    if not warehouse.is_file():
        return f"**No warehouse yet.** There is no `{WAREHOUSE_FILE}` at `{warehouse.absolute()}`. {build_hint}"
    try:
        with _connect(warehouse) as connection:
            present = {
                name
                for (name,) in connection.execute(
                    "select table_name from information_schema.tables where table_schema = ? and table_name in (?, ?)",
                    [MARTS_SCHEMA, PLANT_DAY_MART, ASSET_SHIFT_MART],
                ).fetchall()
            }
            missing = sorted({PLANT_DAY_MART, ASSET_SHIFT_MART} - present)
            if missing:
                names = ", ".join(f"`{MARTS_SCHEMA}.{name}`" for name in missing)
                return f"**The OEE marts are not built yet.** `{warehouse}` has no {names}. {build_hint}"
            (has_rows,) = connection.execute(
                f"select exists (select 1 from {MARTS_SCHEMA}.{PLANT_DAY_MART})"
            ).fetchone()
            if not has_rows:
                return f"**No OEE data yet.** `{MARTS_SCHEMA}.{PLANT_DAY_MART}` is empty. {build_hint}"
    except duckdb.IOException as error:
        # Raised while `dbt build` holds the write lock, or when the file is not a DuckDB database.
        return f"**The warehouse cannot be read right now.** `{warehouse}`: {error}. Try again in a minute."
    return None


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def plants(warehouse: str) -> pd.DataFrame:
    """Plants that have OEE data: `plant_id`, `plant_name`, ordered by name."""
    return _query(
        warehouse,
        f"""
        select distinct plant_id, plant_name
        from {MARTS_SCHEMA}.{PLANT_DAY_MART}
        order by plant_name, plant_id
        """,
    )


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def shift_date_range(warehouse: str) -> tuple[date, date]:
    """First and last shift date with OEE data."""
    with _connect(warehouse) as connection:
        first, last = connection.execute(
            f"select min(shift_date), max(shift_date) from {MARTS_SCHEMA}.{PLANT_DAY_MART}"
        ).fetchone()
    return first, last


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def plant_kpis(warehouse: str, plant_ids: tuple[str, ...], start: date, end: date) -> pd.DataFrame:
    """One row per plant in `plant_ids` with data between `start` and `end` (shift dates, inclusive).

    Columns: `plant_id`, `plant_name`, the summed elements `pbt_s`, `apt_s`, `pri_pq_s`, `pq`, `gq`, and the KPIs
    `availability`, `effectiveness`, `quality_ratio`, `oee` as ratios of those sums.
    """
    return _query(
        warehouse,
        f"""
        with totals as (
            select
                plant_id,
                plant_name,{_SUMMED_ELEMENTS}
            from {MARTS_SCHEMA}.{PLANT_DAY_MART}
            where list_contains(?::varchar[], plant_id)
                and shift_date between ? and ?
            group by plant_id, plant_name
        )

        select
            plant_id,
            plant_name,
            pbt_s,
            apt_s,
            pri_pq_s,
            pq,
            gq,{_KPIS_FROM_TOTALS}
        from totals
        order by plant_name, plant_id
        """,
        [list(plant_ids), start, end],
    )


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def asset_shift_kpis(warehouse: str, plant_id: str, start: date, end: date) -> pd.DataFrame:
    """One row per asset and shift code of one plant, rolled up over the shift dates `start`..`end`.

    Columns: `line_id`, `asset_id`, `shift_code`, `first_started_at` (the shift's earliest start in the period, to
    order shifts as they run through the day rather than by code), the summed elements and the four KPIs, as in
    `plant_kpis`.
    """
    return _query(
        warehouse,
        f"""
        with totals as (
            select
                line_id,
                asset_id,
                shift_code,
                min(shift_started_at) as first_started_at,{_SUMMED_ELEMENTS}
            from {MARTS_SCHEMA}.{ASSET_SHIFT_MART}
            where plant_id = ?
                and shift_date between ? and ?
            group by line_id, asset_id, shift_code
        )

        select
            line_id,
            asset_id,
            shift_code,
            first_started_at,
            pbt_s,
            apt_s,
            pri_pq_s,
            pq,
            gq,{_KPIS_FROM_TOTALS}
        from totals
        order by line_id, asset_id, first_started_at
        """,
        [plant_id, start, end],
    )
