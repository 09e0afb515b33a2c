"""Write-audit-publish: the published layer changes only when every blocking check on its inputs passed.

dbt writes into the working warehouse (``warehouse.duckdb``); the apps and BI tools read only the published file
(``published.duckdb``). Publishing copies the published marts into a new file next to it and renames it over the old
one, so a reader sees either the previous publication or the new one, never a mix, and is never blocked by dbt.
Every attempt, published or blocked, is a row of ``main_meta.publication_log`` in the published file, so the apps can
say "data as of <time>" and, when the latest run was blocked, why (suite, expectation, failing count).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

LOG_TABLE = "main_meta.publication_log"
_LOG_DDL = f"""
create table if not exists {LOG_TABLE} (
    run_id varchar not null,
    attempted_at timestamptz not null,
    status varchar not null,            -- published | blocked
    data_as_of timestamptz,             -- when the published data was built (the last good run)
    tables varchar[],
    row_counts json,
    reasons json                        -- blocked: [{{"check": ..., "expectation": ..., "failing": ...}}]
)
"""


@dataclass(frozen=True)
class PublicationStatus:
    status: str  # published | blocked | never
    data_as_of: datetime | None
    attempted_at: datetime | None
    reasons: list[dict[str, Any]]
    run_id: str | None


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


@contextmanager
def _next_publication(published: Path, *, replacing: frozenset[str] = frozenset()) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new published file holding the current log and every current table except ``replacing``;
    on success the new file replaces the old one in one rename, so readers see the old or the new, never a mix."""
    tmp = published.with_name(published.name + ".next")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        if stale.exists():
            stale.unlink()
    con = duckdb.connect(str(tmp))
    try:
        con.execute("create schema if not exists main_meta")
        con.execute(_LOG_DDL)
        if published.exists():
            con.execute(f"attach '{_quote(published)}' as previous (read_only)")
            carried = con.execute(
                "select table_schema, table_name from information_schema.tables where table_catalog = 'previous'"
            ).fetchall()
            for schema, table in carried:
                if f"{schema}.{table}" == LOG_TABLE:
                    con.execute(f"insert into {LOG_TABLE} select * from previous.{LOG_TABLE}")
                elif f"{schema}.{table}" not in replacing:
                    con.execute(f"create schema if not exists {schema}")
                    con.execute(f"create table {schema}.{table} as select * from previous.{schema}.{table}")
        yield con
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(tmp, published)


def publish(
    warehouse: Path, published: Path, tables: list[str], *, run_id: str, built_at: datetime | None = None
) -> dict[str, int]:
    """Copy ``tables`` (``schema.table`` in the warehouse) into a new published file and swap it in atomically.

    Tables already published but not in ``tables`` are carried over unchanged. Returns row counts per table.
    """
    built_at = built_at or datetime.now(timezone.utc)
    counts: dict[str, int] = {}
    with _next_publication(published, replacing=frozenset(tables)) as con:
        # Attached under its own name: dbt views in the warehouse refer to their tables as <file stem>.<schema>.<table>.
        alias = warehouse.stem
        con.execute(f"attach '{_quote(warehouse)}' as {alias} (read_only)")
        for name in tables:
            schema, table = name.split(".")
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} as select * from {alias}.{schema}.{table}")
            counts[name] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
        con.execute(
            f"insert into {LOG_TABLE} values (?, ?, 'published', ?, ?, ?, null)",
            [run_id, datetime.now(timezone.utc), built_at, tables, json.dumps(counts)],
        )
    return counts


def record_blocked(published: Path, *, run_id: str, reasons: list[dict[str, Any]]) -> None:
    """Log a blocked publication; the published tables stay exactly as they were."""
    with _next_publication(published) as con:
        last_as_of = con.execute(f"select max(data_as_of) from {LOG_TABLE} where status = 'published'").fetchone()[0]
        # One row per blocked run: a second failing step of the same run adds its reasons to the first.
        earlier = con.execute(
            f"select reasons from {LOG_TABLE} where run_id = ? and status = 'blocked'", [run_id]
        ).fetchone()
        merged = (json.loads(earlier[0]) if earlier and earlier[0] else []) + list(reasons)
        unique = list({json.dumps(r, sort_keys=True): r for r in merged}.values())
        con.execute(f"delete from {LOG_TABLE} where run_id = ? and status = 'blocked'", [run_id])
        con.execute(
            f"insert into {LOG_TABLE} values (?, ?, 'blocked', ?, null, null, ?)",
            [run_id, datetime.now(timezone.utc), last_as_of, json.dumps(unique)],
        )


def read_status(published: Path) -> PublicationStatus:
    """The latest attempt and the time of the data currently published."""
    if not published.exists():
        return PublicationStatus("never", None, None, [], None)
    with duckdb.connect(str(published), read_only=True) as con:
        try:
            row = con.execute(
                f"select run_id, attempted_at, status, reasons from {LOG_TABLE} order by attempted_at desc limit 1"
            ).fetchone()
            as_of = con.execute(f"select max(data_as_of) from {LOG_TABLE} where status = 'published'").fetchone()[0]
        except duckdb.CatalogException:
            return PublicationStatus("never", None, None, [], None)
    if row is None:
        return PublicationStatus("never", None, None, [], None)
    run_id, attempted_at, status, reasons = row
    return PublicationStatus(status, as_of, attempted_at, json.loads(reasons) if reasons else [], run_id)
