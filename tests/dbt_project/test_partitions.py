"""Partition-aware builds: a Dagster partition (plant, production day) reaches dbt as vars min_date, max_date and
plant_ids; each incremental model replaces exactly that window, the rollups of the week and month around it follow,
and late data for a past day is published when its partition runs again (and only then)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from time import monotonic
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from conftest import (
    BRONZE_ROWS,
    Build,
    opened,
    prebuilt,
    run_dbt,
    scenario,
    timeline,
    with_file_lineage,
    write_bronze,
)
from deltalake import write_deltalake

from catalog.contracts import get_contract

DAY_1, DAY_2 = date(2026, 3, 28), date(2026, 3, 29)

# DE-STR P2 had no order all day; the corrected extract says it ran 16:00-18:00 on day 1 (shift S) and 08:00-09:00 on
# day 2 (shift F).
CORRECTED_P2 = timeline(
    "DE-STR",
    "P2",
    ("2026-03-28 14:00", "Kein Auftrag"),
    ("2026-03-28 16:00", "Produktion"),
    ("2026-03-28 18:00", "Kein Auftrag"),
    ("2026-03-29 08:00", "Produktion"),
    ("2026-03-29 09:00", "Kein Auftrag"),
    ("2026-03-29 14:00", "end"),
)


def partition(day: date, plant_id: str) -> list[str]:
    return ["--vars", json.dumps({"min_date": str(day), "max_date": str(day), "plant_ids": [plant_id]})]


def snapshot(data_root) -> dict[str, Any]:
    with duckdb.connect(str(data_root / "warehouse.duckdb"), read_only=True) as connection:
        apt = {
            (asset, str(day), shift): value
            for asset, day, shift, value in connection.execute(
                "select asset_id, shift_date, shift_code, apt_s from main_marts.kpi_elements_asset_shift"
            ).fetchall()
        }
        plant_days = connection.execute("select plant_id, shift_date from main_marts.oee_plant_day").fetchall()
        grains = connection.execute(
            "select grain, plant_id, period_start, value from main_marts.kpi_values "
            "where kpi_id = 'availability' and entity_level in ('plant', 'enterprise') and period_level != 'shift'"
        ).fetchall()
    return {"apt": apt, "plant_days": sorted(plant_days), "availability": sorted(grains, key=str)}


@scenario("partitions")
def _rerun_a_partition_after_a_correction(data_root) -> Build:
    # The session's main scenario built all history of the same bronze rows: start from a copy of it (a whole dbt
    # build saved), then correct the bronze rows and run one partition.
    built = prebuilt("warehouse")
    shutil.copytree(built.data_root / "lake", data_root / "lake")
    shutil.copy(built.data_root / "warehouse.duckdb", data_root / "warehouse.duckdb")
    steps: dict[str, Any] = {"all history": snapshot(data_root)}

    # A corrected extract replaces DE-STR's machine states for both days (re-ingestion rewrites the plant's rows);
    # only day 1's partition runs again.
    states = [s for s in BRONZE_ROWS["bronze.mes.machine_states"] if s["asset_local_id"] != "P2"] + CORRECTED_P2
    contract = get_contract("bronze.mes.machine_states")
    table = pa.Table.from_pylist(with_file_lineage(contract.id, states), schema=contract.arrow_schema())
    write_deltalake(data_root / contract.path, table, mode="overwrite", partition_by=contract.partition_by or None)

    started = monotonic()
    rerun = run_dbt(
        data_root, "build", "--selector", "kpi_library", "--exclude-resource-type", "test", "unit_test",
        *partition(DAY_1, "DE-STR"),
    )
    steps["day 1 again"] = snapshot(data_root) if rerun.returncode == 0 else rerun.stdout[-4000:]
    return Build(data_root, rerun, monotonic() - started, steps)


@pytest.fixture(scope="module")
def steps() -> dict[str, Any]:
    built = prebuilt("partitions")
    for name, step in built.details.items():
        assert isinstance(step, dict), f"{name}: {step}"
    return built.details


def test_late_data_is_published_when_its_partition_runs_again(steps):
    assert steps["all history"]["apt"][("DE-STR:P2", "2026-03-28", "S")] == 0.0
    assert steps["day 1 again"]["apt"][("DE-STR:P2", "2026-03-28", "S")] == 7200.0


def test_a_partition_run_replaces_only_its_plant_and_day(steps):
    before, after = steps["all history"], steps["day 1 again"]
    outside = {k for k in before["apt"] if not (k[0].startswith("DE-STR:") and k[1] == "2026-03-28")}

    # day 2's correction is not published until day 2's partition runs; other plants are untouched
    assert after["apt"][("DE-STR:P2", "2026-03-29", "F")] == 0.0
    assert {k: after["apt"][k] for k in outside} == {k: before["apt"][k] for k in outside}
    assert after["plant_days"] == before["plant_days"]


def test_the_rollups_around_a_rerun_window_are_ratios_of_the_current_elements(steps):
    after = steps["day 1 again"]
    rows = {(grain, plant, str(start)): value for grain, plant, start, value in after["availability"]}
    pbt = {("DE-STR:P1", "S"): 27000, ("DE-STR:P1", "N"): 25200, ("DE-STR:P1", "F"): 27000,
           ("DE-STR:P2", "S"): 28800, ("DE-STR:P2", "N"): 25200, ("DE-STR:P2", "F"): 28800}
    apt = {(asset, shift): value for (asset, _, shift), value in after["apt"].items() if asset.startswith("DE-STR")}
    week = sum(apt.values()) / sum(pbt.values())

    # the week of 2026-03-23 and the month of March hold both days: recomputed from day 1's new and day 2's elements
    assert rows[("plant_day", "DE-STR", "2026-03-28")] == pytest.approx(
        (21600 + 16200 + 7200) / (27000 + 25200 + 28800 + 25200), rel=1e-12
    )
    assert rows[("plant_week", "DE-STR", "2026-03-23")] == pytest.approx(week, rel=1e-12)
    assert rows[("plant_month", "DE-STR", "2026-03-01")] == pytest.approx(week, rel=1e-12)


def test_a_partition_run_with_a_reversed_window_is_refused(tmp_path):
    write_bronze(tmp_path, {})
    run = run_dbt(tmp_path, "parse", "--vars", json.dumps({"min_date": "2026-03-29", "max_date": "2026-03-28"}))

    assert run.returncode != 0
    assert "is before min_date" in run.stdout


def test_the_published_tables_are_readable_after_partition_runs(steps):
    with opened(prebuilt("partitions")) as warehouse:
        closes = warehouse.query(
            "select count(*) as n from main_marts.oee_losses_asset_shift where step_kind = 'start'"
        )

    assert closes == [{"n": 9}]


# --- through Dagster: a (plant, day) partition of the KPI library assets becomes the dbt vars ------------------------


def test_dbt_args_omit_vars_for_a_run_without_partitions():
    from orchestration.defs.dbt import dbt_build_args, partition_vars

    assert partition_vars([]) is None
    assert dbt_build_args(vars=None) == ["build", "--exclude-resource-type", "unit_test"]


def test_dbt_args_carry_the_window_and_plants_of_the_partitions():
    import dagster as dg

    from orchestration.defs.dbt import dbt_build_args, partition_vars

    keys = [dg.MultiPartitionKey({"day": day, "plant": plant})
            for day in ("2026-03-29", "2026-03-28") for plant in ("MX-MTY", "DE-STR")]

    window = partition_vars(keys)
    assert window == {"min_date": "2026-03-28", "max_date": "2026-03-29", "plant_ids": ["DE-STR", "MX-MTY"]}
    assert dbt_build_args(vars=window, selector="kpi_library", exclude_marts=True) == [
        "build", "--selector", "kpi_library", "--vars", json.dumps(window), "--exclude-resource-type", "unit_test",
        "--exclude", "path:models/marts",
    ]


def test_running_one_partition_through_dagster_rebuilds_only_that_plant_and_day(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.dbt import defs, kpi_library_partitions, northstar_dbt_models
    from orchestration.resources import NorthstarSettings

    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(tmp_path))
    write_bronze(tmp_path, BRONZE_ROWS)
    resources = {"dbt": defs.resources["dbt"], "northstar": NorthstarSettings()}

    # the main job's way: no partition, all history of every model
    full = dg.materialize([northstar_dbt_models], resources=resources, raise_on_error=False)
    assert full.success, [e.message for e in full.all_events if e.is_failure]
    before = snapshot(tmp_path)

    # the corrected extract of DE-STR's machine states for both days; only day 1's partition runs
    states = [s for s in BRONZE_ROWS["bronze.mes.machine_states"] if s["asset_local_id"] != "P2"] + CORRECTED_P2
    contract = get_contract("bronze.mes.machine_states")
    table = pa.Table.from_pylist(with_file_lineage(contract.id, states), schema=contract.arrow_schema())
    write_deltalake(tmp_path / contract.path, table, mode="overwrite", partition_by=contract.partition_by or None)
    key = dg.MultiPartitionKey({"day": str(DAY_1), "plant": "DE-STR"})
    run = kpi_library_partitions.execute_in_process(
        partition_key=key, resources=resources, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert run.success, [e.message for e in run.all_events if e.is_failure]
    after = snapshot(tmp_path)

    changed = {k: (before["apt"][k], after["apt"][k]) for k in before["apt"] if before["apt"][k] != after["apt"][k]}
    assert changed == {("DE-STR:P2", "2026-03-28", "S"): (0.0, 7200.0)}
    assert len(after["apt"]) == len(before["apt"]) == 9  # every asset-shift is still there, once
    assert after["apt"][("DE-STR:P2", "2026-03-29", "F")] == 0.0  # day 2 waits for its own partition
    assert after["plant_days"] == before["plant_days"]
    # the run names its partition, and reports the rebuilt models as asset materializations
    assert run.dagster_run.tags["dagster/partition"] == str(key)
    materialized = {m.asset_key for m in run.asset_materializations_for_node("kpi_library_partition_build")}
    assert dg.AssetKey(["intermediate", "int_asset_shift_elements"]) in materialized


# --- bounded tests: a partition run tests the rows it wrote (macros/test_window.sql) ---------------------------------


def test_a_partition_runs_tests_check_its_window_and_a_full_build_checks_everything(tmp_path):
    built = prebuilt("warehouse")
    shutil.copytree(built.data_root / "lake", tmp_path / "lake")
    shutil.copy(built.data_root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    # a duplicated asset-shift on DE-STR's second day
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute(
            "insert into main_intermediate.int_asset_shift_elements select * from "
            "main_intermediate.int_asset_shift_elements where plant_id = 'DE-STR' and shift_date = ? limit 1", [DAY_2])

    def key_test(*args: str) -> str:
        run = run_dbt(tmp_path, "test", "--select", "int_asset_shift_elements,test_name:unique_combination_of_columns",
                      *args)
        assert "1 of 1" in run.stdout, run.stdout[-3000:]
        return "FAIL 1" if "FAIL 1 " in run.stdout else "PASS" if run.returncode == 0 else run.stdout[-3000:]

    assert key_test(*partition(DAY_1, "DE-STR")) == "PASS"  # the run's own rows are unique
    assert key_test(*partition(DAY_2, "MX-MTY")) == "PASS"  # another plant's window
    assert key_test(*partition(DAY_2, "DE-STR")) == "FAIL 1"
    assert key_test() == "FAIL 1"  # a build of all history tests all of it
