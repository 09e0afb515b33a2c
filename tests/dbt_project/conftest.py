"""Bronze fixtures written as Delta tables, and one real `dbt build` over them per test session.

The fixture plants are small enough to compute every element by hand (the expected values live in the tests):

- DE-STR (Europe/Berlin, German codes): shifts S and N on 2026-03-28 and F on 2026-03-29. The N shift spans the
  switch to summer time (02:00 -> 03:00 on 2026-03-29), so it lasts 7 h. Asset P1 has a breakdown crossing S -> N,
  a production run crossing N -> F and a count interval starting exactly at 06:00 (belongs to F). Asset P2 has no
  order for the whole day. Ideal cycle time 2.5 s.
- MX-MTY (America/Monterrey, numeric codes): T1 07:00-19:00 and the night shift T2 19:00-07:00 on 2026-03-28, a
  breakdown crossing T1 -> T2, a starved state and a count interval crossing midnight. Ideal cycle time 0.25 min.
- SG-SIN (Asia/Singapore): the published worked example, one 8 h shift.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from catalog.contracts import load_contracts
from catalog.render import DBT_PROJECT_DIR, dbt_env, delta_extension_path

INGESTED_AT = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def local(text: str) -> datetime:
    """A naive plant-local wall-clock timestamp, as bronze stores `*_local` columns."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def timeline(plant_id: str, asset_local_id: str, *states: tuple[str, str]) -> list[dict[str, Any]]:
    """Consecutive states (start, code) of one asset; the last entry only marks the end of the timeline."""
    return [
        {
            "plant_id": plant_id,
            "asset_local_id": asset_local_id,
            "started_at_local": local(start),
            "ended_at_local": local(end),
            "state_local_code": code,
        }
        for (start, code), (end, _) in itertools.pairwise(states)
    ]


def count(plant_id: str, asset: str, material: str, start: str, end: str, good: int, scrap: int, rework: int):
    return {
        "plant_id": plant_id,
        "asset_local_id": asset,
        "order_id": f"{plant_id}-ORDER-1",
        "material_local_id": material,
        "interval_start_local": local(start),
        "interval_end_local": local(end),
        "produced_qty": good + scrap + rework,
        "good_qty": good,
        "scrap_qty": scrap,
        "rework_qty": rework,
    }


def reading(asset: str, tag: str, unit: str, at: str, value: float, offset: int) -> dict[str, Any]:
    """A DE-STR sensor reading as the Kafka consumer lands it."""
    return {
        "plant_id": "DE-STR",
        "asset_local_id": asset,
        "tag": tag,
        "unit": unit,
        "value": value,
        "reading_at": datetime.fromisoformat(at),
        "kafka_topic": "northstar.sensor.readings",
        "kafka_partition": 1,
        "kafka_offset": offset,
        "ingested_at": INGESTED_AT,
    }


def shift(plant_id: str, code: str, shift_date: str, start: str, end: str) -> dict[str, Any]:
    return {
        "plant_id": plant_id,
        "shift_local_code": code,
        "shift_date": date.fromisoformat(shift_date),
        "started_at_local": local(start),
        "ended_at_local": local(end),
    }


BRONZE_ROWS: dict[str, list[dict[str, Any]]] = {
    "bronze.mes.assets": [
        {"plant_id": "DE-STR", "asset_local_id": "P1", "line_local_id": "L1", "asset_name": "Presse 1"},
        {"plant_id": "DE-STR", "asset_local_id": "P2", "line_local_id": "L1", "asset_name": "Presse 2"},
        {"plant_id": "MX-MTY", "asset_local_id": "E-01", "line_local_id": "L-A", "asset_name": "Inyectora 1"},
        {"plant_id": "SG-SIN", "asset_local_id": "SMT-01", "line_local_id": "SMT", "asset_name": "SMT line 1"},
    ],
    "bronze.mes.shift_calendar": [
        shift("DE-STR", "S", "2026-03-28", "2026-03-28 14:00", "2026-03-28 22:00"),
        shift("DE-STR", "N", "2026-03-28", "2026-03-28 22:00", "2026-03-29 06:00"),
        shift("DE-STR", "F", "2026-03-29", "2026-03-29 06:00", "2026-03-29 14:00"),
        shift("MX-MTY", "T1", "2026-03-28", "2026-03-28 07:00", "2026-03-28 19:00"),
        shift("MX-MTY", "T2", "2026-03-28", "2026-03-28 19:00", "2026-03-29 07:00"),
        shift("SG-SIN", "A", "2026-06-01", "2026-06-01 07:00", "2026-06-01 15:00"),
    ],
    "bronze.mes.machine_states": [
        *timeline(
            "DE-STR",
            "P1",
            ("2026-03-28 14:00", "Produktion"),
            ("2026-03-28 16:00", "Pause"),
            ("2026-03-28 16:30", "Rüsten"),
            ("2026-03-28 17:00", "Produktion"),
            ("2026-03-28 21:00", "Störung Hydraulik"),  # crosses S -> N at 22:00
            ("2026-03-28 22:30", "Produktion"),
            ("2026-03-29 01:00", "Materialmangel"),  # 01:00 CET -> 04:00 CEST is 2 h, not 3
            ("2026-03-29 04:00", "Produktion"),  # crosses N -> F at 06:00
            ("2026-03-29 06:30", "Kurzstopp"),
            ("2026-03-29 07:00", "Produktion"),
            ("2026-03-29 10:00", "Pause"),
            ("2026-03-29 10:30", "Produktion"),
            ("2026-03-29 14:00", "end"),
        ),
        *timeline("DE-STR", "P2", ("2026-03-28 14:00", "Kein Auftrag"), ("2026-03-29 14:00", "end")),
        *timeline(
            "MX-MTY",
            "E-01",
            ("2026-03-28 07:00", "100"),
            ("2026-03-28 09:00", "210"),
            ("2026-03-28 09:30", "100"),
            ("2026-03-28 12:00", "500"),
            ("2026-03-28 12:45", "100"),
            ("2026-03-28 15:00", "330"),
            ("2026-03-28 15:20", "100"),
            ("2026-03-28 18:00", "310"),  # crosses T1 -> T2 at 19:00
            ("2026-03-28 20:00", "100"),
            ("2026-03-28 23:30", "410"),  # crosses midnight
            ("2026-03-29 00:30", "500"),
            ("2026-03-29 01:00", "100"),
            ("2026-03-29 07:00", "end"),
        ),
        *timeline(
            "SG-SIN",
            "SMT-01",
            ("2026-06-01 07:00", "RUN"),
            ("2026-06-01 09:00", "BREAK"),
            ("2026-06-01 09:30", "BRKDN"),  # 47 min down
            ("2026-06-01 10:17", "RUN"),
            ("2026-06-01 12:00", "BREAK"),
            ("2026-06-01 12:30", "RUN"),
            ("2026-06-01 15:00", "end"),
        ),
    ],
    "bronze.mes.production_counts": [
        count("DE-STR", "P1", "M-100", "2026-03-28 14:00", "2026-03-28 18:00", 3900, 80, 20),
        count("DE-STR", "P1", "M-100", "2026-03-28 18:00", "2026-03-28 22:00", 4150, 50, 0),
        count("DE-STR", "P1", "M-100", "2026-03-28 22:00", "2026-03-29 06:00", 5950, 50, 0),
        count("DE-STR", "P1", "M-100", "2026-03-29 06:00", "2026-03-29 14:00", 9500, 60, 40),
        count("MX-MTY", "E-01", "MAT-9", "2026-03-28 07:00", "2026-03-28 13:00", 990, 10, 0),
        count("MX-MTY", "E-01", "MAT-9", "2026-03-28 13:00", "2026-03-28 19:00", 1070, 20, 10),
        count("MX-MTY", "E-01", "MAT-9", "2026-03-28 19:00", "2026-03-29 01:00", 1000, 0, 0),
        count("MX-MTY", "E-01", "MAT-9", "2026-03-29 01:00", "2026-03-29 07:00", 1180, 20, 0),
        count("SG-SIN", "SMT-01", "PCB-1", "2026-06-01 07:00", "2026-06-01 15:00", 18848, 423, 0),
    ],
    "bronze.erp.materials": [
        {
            "plant_id": "DE-STR",
            "material_local_id": "M-100",
            "material_name": "Blech",
            "ideal_cycle_time": 2.5,
            "ideal_cycle_time_unit": "s",
        },
        {
            "plant_id": "MX-MTY",
            "material_local_id": "MAT-9",
            "material_name": "Carcasa",
            "ideal_cycle_time": 0.25,
            "ideal_cycle_time_unit": "min",
        },
        # 60 pieces per minute
        {
            "plant_id": "SG-SIN",
            "material_local_id": "PCB-1",
            "material_name": "Board",
            "ideal_cycle_time": 1.0,
            "ideal_cycle_time_unit": "s",
        },
    ],
    "bronze.sensor.readings": [
        *(
            reading("P1", "power_kw", "kW", at, value, offset)
            for offset, (at, value) in enumerate(
                [
                    ("2026-03-28T13:00:00+00:00", 10.0),
                    ("2026-03-28T13:30:00+00:00", 12.0),
                    ("2026-03-28T14:10:00+00:00", 20.0),
                ]
            )
        ),
        # P1's energy meter: S 13:00-21:00 UTC +200 kWh, N 21:00-04:00 UTC (7 h, DST) +140 kWh; the reading at the
        # end of F (12:00 UTC) is missing and the last one (11:40) is 20 min old, so F is not metered.
        *(
            reading("P1", "energy_kwh", "kWh", at, value, 100 + offset)
            for offset, (at, value) in enumerate(
                [
                    ("2026-03-28T12:55:00+00:00", 995.0),
                    ("2026-03-28T13:00:00+00:00", 1000.0),
                    ("2026-03-28T21:00:00+00:00", 1200.0),
                    ("2026-03-29T04:00:00+00:00", 1340.0),
                    ("2026-03-29T11:40:00+00:00", 1500.0),
                ]
            )
        ),
    ],
}


def with_file_lineage(contract_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if contract_id.startswith("bronze.sensor."):
        return rows
    table = contract_id.rsplit(".", 1)[1]
    return [
        {**row, "source_file": f"{row['plant_id']}/{table}.csv", "source_line": line, "ingested_at": INGESTED_AT}
        for line, row in enumerate(rows, start=2)
    ]


def write_bronze(data_root: Path, bronze_rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every bronze table of the contracts, with the given rows (empty where none are given: dbt reads every source)."""
    for contract in load_contracts().values():
        if contract.layer != "bronze":
            continue
        rows = with_file_lineage(contract.id, bronze_rows.get(contract.id, []))
        table = pa.Table.from_pylist(rows, schema=contract.arrow_schema())
        write_deltalake(data_root / contract.path, table, mode="append", partition_by=contract.partition_by or None)


def run_dbt(data_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    work = data_root / "dbt"
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        # Own target and log paths: the session never touches (or races on) the project's target/.
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return subprocess.run(
        command, env={**os.environ, **dbt_env(data_root)}, capture_output=True, text=True, timeout=300, check=False
    )


@dataclass(frozen=True)
class Warehouse:
    """A data root after `dbt build`, with a read-only connection to its warehouse."""

    data_root: Path
    build: subprocess.CompletedProcess[str]
    build_seconds: float
    connection: duckdb.DuckDBPyConnection

    @property
    def results_by_node(self) -> dict[str, dict[str, Any]]:
        """dbt's run results keyed by node name (model, test or unit test name)."""
        run_results = json.loads((self.data_root / "dbt" / "target" / "run_results.json").read_text())
        by_node = {}
        for result in run_results["results"]:
            # model.northstar.<name>, test.northstar.<name>.<hash>, unit_test.northstar.<model>.<name>
            parts = result["unique_id"].split(".")
            by_node[parts[-1] if parts[0] == "unit_test" else parts[2]] = result
        return by_node

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql, parameters or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Build:
    """What a prebuilt scenario leaves: its data root and its (last) dbt run."""

    data_root: Path
    build: subprocess.CompletedProcess[str]
    build_seconds: float
    details: dict[str, Any]


def build_bronze(data_root: Path, bronze_rows: dict[str, list[dict[str, Any]]], *build_args: str) -> Build:
    write_bronze(data_root, bronze_rows)
    started = time.monotonic()
    build = run_dbt(data_root, "build", *build_args)
    return Build(data_root, build, time.monotonic() - started, {})


@contextmanager
def opened(built: Build) -> Iterator[Warehouse]:
    with duckdb.connect(str(built.data_root / "warehouse.duckdb"), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        # staging and intermediate models are views over delta_scan: reading them needs the extension too
        connection.execute(f"load '{delta_extension_path()}'")
        yield Warehouse(built.data_root, built.build, built.build_seconds, connection)


# --- scenarios built concurrently ------------------------------------------------------------------------------------
# Every scenario is a real `dbt build` in a subprocess (seconds each). The session starts the builds its selected tests
# need as soon as collection ends, two at a time, so that they overlap on the machine's cores instead of queuing behind
# each other; a test module's fixture then waits for its own.

_BUILDERS: dict[str, Callable[[Path], Build]] = {}
_BUILDS: dict[str, Future[Build]] = {}
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dbt-scenario")
_SCRATCH = Path(tempfile.mkdtemp(prefix="northstar_dbt_scenarios_"))
# the main build first (the partition scenario starts from a copy of it), the partition scenario last
_ORDER = ["warehouse", "ci", "golden", "unmapped", "partitions"]


def scenario(name: str) -> Callable[[Callable[[Path], Build]], Callable[[Path], Build]]:
    """Register a builder (data root -> Build) for the fixture `name`; modules register theirs at import."""

    def register(builder: Callable[[Path], Build]) -> Callable[[Path], Build]:
        _BUILDERS[name] = builder
        return builder

    return register


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    needed = {name for item in items for name in getattr(item, "fixturenames", ()) if name in _BUILDERS}
    needed |= {name for item in items for name in _BUILDERS if name in getattr(item, "keywords", {})}
    for name in sorted(needed, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n)):
        data_root = _SCRATCH / name
        data_root.mkdir(parents=True, exist_ok=True)
        _BUILDS[name] = _EXECUTOR.submit(_BUILDERS[name], data_root)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXECUTOR.shutdown(cancel_futures=True)
    shutil.rmtree(_SCRATCH, ignore_errors=True)


def prebuilt(name: str) -> Build:
    """The finished build of scenario `name` (started at collection; built here if it was not)."""
    if name not in _BUILDS:
        data_root = _SCRATCH / name
        data_root.mkdir(parents=True, exist_ok=True)
        _BUILDS[name] = _EXECUTOR.submit(_BUILDERS[name], data_root)
    return _BUILDS[name].result()


@scenario("warehouse")
def _build_fixture_plants(data_root: Path) -> Build:
    return build_bronze(data_root, BRONZE_ROWS)


@pytest.fixture(scope="session")
def warehouse() -> Iterator[Warehouse]:
    """The fixture plants' bronze tables, built once with a real `dbt build` (seeds, models, data and unit tests)."""
    built = prebuilt("warehouse")
    if built.build.returncode != 0:
        pytest.fail(f"dbt build failed:\n{built.build.stdout[-8000:]}\n{built.build.stderr[-4000:]}")
    with opened(built) as connection:
        yield connection


def altered_fixture_plants(alter: Callable[[dict[str, list[dict[str, Any]]]], None]) -> dict[str, list[dict[str, Any]]]:
    """The fixture plants' bronze rows changed in place by `alter` (a scenario)."""
    bronze_rows = copy.deepcopy(BRONZE_ROWS)
    alter(bronze_rows)
    return bronze_rows
