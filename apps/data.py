"""Read access to the published layer (`$NORTHSTAR_DATA_ROOT/published.duckdb`) for the app.

What the app reads (docs/kpi-table.md):
- `main_marts.kpi_values`, the KPI table: every value shown is one of its rows, computed by dbt from the catalog
  formulas as a ratio of sums at that grain, with its numerator, denominator, coverage, freshness and check status.
  The app never recomputes a KPI (no formula lives here), so it cannot drift from the catalog.
- `main_marts.oee_losses_asset_shift`: the six-big-losses waterfall per asset-shift; its steps are additive, so a
  plant's waterfall over a period is the sum of its rows (optional: a publication without it shows no waterfall).
- `main_marts.kpi_elements_asset_shift`: plant names only (optional: without it plants are shown by id).
- `main_meta.publication_log`: when the published data was built and why the latest attempt was blocked, if it was
  (`quality/publication.py` writes it).

How it reads:
- Every query opens its own read-only DuckDB connection and closes it: a long-lived handle would keep the file open.
- Connections refuse external access (no files, URLs or ATTACH from SQL) and lock that configuration.
- User input reaches SQL only as bound parameters (`?`).
- Cached results are shared by all sessions, so every cached function takes the scope it reads (file, its version,
  plants, period) as arguments: the cache key always contains what a user is allowed to see, and a new publication
  (a new file version) is never answered from the previous one's cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

DATA_ROOT_ENV = "NORTHSTAR_DATA_ROOT"
WAREHOUSE_FILE = "published.duckdb"  # the write-audit-publish output; dbt works in warehouse.duckdb
MARTS_SCHEMA = "main_marts"
KPI_TABLE = "kpi_values"
LOSSES_MART = "oee_losses_asset_shift"
ELEMENTS_MART = "kpi_elements_asset_shift"
META_SCHEMA = "main_meta"
PUBLICATION_LOG = "publication_log"

# The hardening is passed when the connection is created rather than with `SET` afterwards: DuckDB shares one
# database instance between all connections to a file in a process, so with `SET` a second session connecting
# while the first is open would fail on the already locked configuration (and a connection could briefly exist
# unhardened). Passed at creation, every connection is born with external access off and the setting locked.
_HARDENED = {"enable_external_access": False, "lock_configuration": True}

# The file version is part of every cache key, so a new publication is read at once; the TTL only bounds how long
# an unused entry holds memory. Each entry is one (file version, scope, period) combination, bounded so that many
# users' filter choices cannot grow memory without limit.
_TTL = "1h"
_MAX_ENTRIES = 256

_ENTITY_LEVELS = ("asset", "line", "plant", "enterprise")
_PERIOD_LEVELS = ("shift", "day", "week", "month")
# A day is detailed by its shifts, a week or a month by its production days (kpi_values grains asset_<level>).
_DETAIL_LEVEL = {"day": "shift", "week": "day", "month": "day"}


def warehouse_path() -> Path:
    """The published file under `NORTHSTAR_DATA_ROOT` (default `./data`)."""
    return Path(os.environ.get(DATA_ROOT_ENV) or "./data") / WAREHOUSE_FILE


def data_version(warehouse: str | Path) -> str:
    """Identifies one publication of the file: publishing replaces the file, which changes this."""
    try:
        stat = Path(warehouse).stat()
    except FileNotFoundError:
        return "missing"
    return f"{stat.st_mtime_ns}:{stat.st_size}"


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


def _has_table(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (count,) = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return count > 0


# --- the publication log --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockedCheck:
    """One reason a publication was blocked, as `quality.publication.record_blocked` logged it."""

    check: str
    expectation: str | None
    failing: int | None
    suite: str | None = None
    column: str | None = None
    error: str | None = None

    @classmethod
    def from_reason(cls, reason: dict[str, Any]) -> BlockedCheck:
        failing = reason.get("failing")
        return cls(
            check=str(reason.get("check") or "unnamed check"),
            expectation=None if reason.get("expectation") is None else str(reason["expectation"]),
            failing=int(failing) if isinstance(failing, (int, float)) else None,
            suite=reason.get("suite"),
            column=reason.get("column"),
            error=reason.get("error"),
        )


@dataclass(frozen=True)
class Publication:
    """The published file's log: when its data was built, and how the latest publication attempt ended."""

    data_as_of: datetime | None  # when the published data was built (the last good run); None: never published
    latest_status: str | None  # published | blocked; None: the file has no publication log
    latest_attempted_at: datetime | None
    blocked_checks: tuple[BlockedCheck, ...]

    @property
    def is_blocked(self) -> bool:
        return self.latest_status == "blocked"


def _as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def publication(warehouse: str | Path) -> Publication | None:
    """The publication log of `warehouse`; None when there is no file.

    Not cached: it is one small query, and a page must never say "as of" a publication it is not showing.
    """
    if not Path(warehouse).is_file():
        return None
    with _connect(warehouse) as connection:
        if not _has_table(connection, META_SCHEMA, PUBLICATION_LOG):
            return Publication(None, None, None, ())
        latest = connection.execute(
            f"""
            select
                status,
                attempted_at,
                reasons,
                (select max(data_as_of) from {META_SCHEMA}.{PUBLICATION_LOG} where status = 'published')
            from {META_SCHEMA}.{PUBLICATION_LOG}
            order by attempted_at desc
            limit 1
            """
        ).fetchone()
    if latest is None:
        return Publication(None, None, None, ())
    status, attempted_at, reasons, data_as_of = latest
    checks = tuple(BlockedCheck.from_reason(r) for r in (json.loads(reasons) if reasons else []))
    return Publication(_as_utc(data_as_of), status, _as_utc(attempted_at), checks if status == "blocked" else ())


# --- readiness ------------------------------------------------------------------------------------------------------


def warehouse_problem(warehouse: Path) -> str | None:
    """Why the app cannot show KPIs yet, as a message for the user; None when the KPI table is ready.

    Not cached: after `make demo` finishes, the next page load must see the new publication.
    """
    build_hint = (
        f"Build and publish the demo with `make demo`, or point `{DATA_ROOT_ENV}` at a data root that has a "
        "publication, then reload this page."
    )
    if not warehouse.is_file():
        return f"**Nothing published yet.** There is no `{WAREHOUSE_FILE}` at `{warehouse.absolute()}`. {build_hint}"
    try:
        with _connect(warehouse) as connection:
            if not _has_table(connection, MARTS_SCHEMA, KPI_TABLE):
                return (
                    f"**The KPI table is not published yet.** `{warehouse}` has no `{MARTS_SCHEMA}.{KPI_TABLE}`. "
                    + build_hint
                )
            (has_rows,) = connection.execute(
                f"select exists (select 1 from {MARTS_SCHEMA}.{KPI_TABLE} where entity_level = 'plant')"
            ).fetchone()
            if not has_rows:
                return f"**No KPI values yet.** `{MARTS_SCHEMA}.{KPI_TABLE}` has no plant rows. {build_hint}"
    except duckdb.IOException as error:
        # Raised when the file is not a DuckDB database, or is being replaced by an old DuckDB without atomic rename.
        return f"**The published data cannot be read right now.** `{warehouse}`: {error}. Try again in a minute."
    return None


# --- periods --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One period of the KPI table: production days `start` up to `end` (exclusive) at `level` day, week or month."""

    level: str
    start: date
    end: date

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.level == "day":
            return f"{self.start:%a %d %b %Y}"
        if self.level == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year} ({self.start:%d %b} to {last:%d %b})"
        if self.level == "month":
            return f"{self.start:%B %Y}"
        return f"{self.start:%d %b %Y} to {last:%d %b %Y}"

    @property
    def detail_level(self) -> str:
        """The period level an asset is broken down by within this period: shifts of a day, days of a longer one."""
        return _DETAIL_LEVEL[self.level]


def _grain(entity_level: str, period_level: str) -> str:
    grain = f"{entity_level}_{period_level}"
    if entity_level not in _ENTITY_LEVELS or period_level not in _PERIOD_LEVELS:
        raise ValueError(f"{grain!r} is not a grain of {MARTS_SCHEMA}.{KPI_TABLE}")
    return grain


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def plants(warehouse: str, version: str) -> pd.DataFrame:
    """Plants with KPI values: `plant_id`, `plant_name` (the id when no name is published), ordered by name."""
    with _connect(warehouse) as connection:
        named = _has_table(connection, MARTS_SCHEMA, ELEMENTS_MART)
        names = (
            f"select plant_id, any_value(plant_name) as plant_name from {MARTS_SCHEMA}.{ELEMENTS_MART} group by all"
            if named
            else "select null::varchar as plant_id, null::varchar as plant_name where false"
        )
        return (
            connection.execute(
                f"""
                with plant_ids as (
                    select distinct plant_id
                    from {MARTS_SCHEMA}.{KPI_TABLE}
                    where grain = 'plant_day'
                ),

                names as ({names})

                select plant_ids.plant_id, coalesce(names.plant_name, plant_ids.plant_id) as plant_name
                from plant_ids
                left join names using (plant_id)
                order by plant_name, plant_id
                """
            )
            .to_arrow_table()
            .to_pandas()
        )


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def periods(warehouse: str, version: str, plant_ids: tuple[str, ...], period_level: str) -> tuple[Period, ...]:
    """The periods at `period_level` with values for any of `plant_ids`, latest first."""
    rows = _query(
        warehouse,
        f"""
        select distinct period_start, period_end
        from {MARTS_SCHEMA}.{KPI_TABLE}
        where grain = ? and list_contains(?::varchar[], plant_id)
        order by period_start desc
        """,
        [_grain("plant", period_level), list(plant_ids)],
    )
    return tuple(Period(period_level, row.period_start, row.period_end) for row in rows.itertuples())


# --- KPI values -----------------------------------------------------------------------------------------------------

_VALUE_COLUMNS = """
            kpi_id,
            kpi_version,
            unit,
            value,
            numerator,
            denominator,
            coverage,
            freshness_at,
            checks_passed,
            period_start,
            period_end,
            period_started_at,
            period_ended_at"""


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def plant_kpi_values(
    warehouse: str, version: str, plant_ids: tuple[str, ...], period_level: str, period_start: date
) -> pd.DataFrame:
    """Every KPI of every plant in `plant_ids` for one period: the kpi_values rows of grain `plant_<period_level>`.

    Columns: `plant_id`, `kpi_id`, `kpi_version`, `unit`, `value`, `numerator`, `denominator`, `coverage`,
    `freshness_at`, `checks_passed`, `period_start`, `period_end`, `period_started_at`, `period_ended_at`.
    """
    return _query(
        warehouse,
        f"""
        select
            plant_id,{_VALUE_COLUMNS}
        from {MARTS_SCHEMA}.{KPI_TABLE}
        where grain = ?
            and period_start = ?
            and list_contains(?::varchar[], plant_id)
        order by plant_id, kpi_id
        """,
        [_grain("plant", period_level), period_start, list(plant_ids)],
    )


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def asset_kpi_values(
    warehouse: str,
    version: str,
    plant_id: str,
    period_level: str,
    period_start: date,
    period_end: date,
    kpi_ids: tuple[str, ...],
) -> pd.DataFrame:
    """`kpi_ids` for every asset of one plant, broken down within one period: by shift for a day, by production
    day for a week or a month (kpi_values grain `asset_shift` or `asset_day`).

    Columns: `line_id`, `asset_id`, `sub_period` (the shift code, or the day as `Mon 01`), the columns of
    `plant_kpi_values`; ordered by line, asset and start.
    """
    detail_grain = _grain("asset", _DETAIL_LEVEL[period_level])
    return _query(
        warehouse,
        f"""
        select
            line_id,
            asset_id,
            case when period_level = 'shift' then shift_code else strftime(period_start, '%a %d') end as sub_period,
            {_VALUE_COLUMNS}
        from {MARTS_SCHEMA}.{KPI_TABLE}
        where grain = ?
            and plant_id = ?
            and period_start >= ? and period_start < ?
            and list_contains(?::varchar[], kpi_id)
        order by line_id, asset_id, period_started_at, kpi_id
        """,
        [detail_grain, plant_id, period_start, period_end, list(kpi_ids)],
    )


@st.cache_data(ttl=_TTL, max_entries=_MAX_ENTRIES, show_spinner=False)
def loss_waterfall(
    warehouse: str, version: str, plant_id: str, period_start: date, period_end: date
) -> pd.DataFrame | None:
    """One plant's six-big-losses waterfall over production days `period_start` up to `period_end` (exclusive).

    One row per step (`waterfall_step`, `step_id`, `step_name`, `step_kind` start | loss | end, `oee_factor`,
    `seconds`), the sum of the asset-shift rows: the steps are additive, so the sums still close. None when the
    publication has no `oee_losses_asset_shift`.
    """
    with _connect(warehouse) as connection:
        if not _has_table(connection, MARTS_SCHEMA, LOSSES_MART):
            return None
        return (
            connection.execute(
                f"""
                select
                    waterfall_step,
                    step_id,
                    any_value(step_name) as step_name,
                    any_value(step_kind) as step_kind,
                    any_value(oee_factor) as oee_factor,
                    sum(seconds) as seconds
                from {MARTS_SCHEMA}.{LOSSES_MART}
                where plant_id = ? and shift_date >= ? and shift_date < ?
                group by waterfall_step, step_id
                order by waterfall_step
                """,
                [plant_id, period_start, period_end],
            )
            .to_arrow_table()
            .to_pandas()
        )
