"""The app's data module: bound parameters, hardened read-only connections, values read from the KPI table as
published (never recomputed), the publication log, and graceful answers when optional tables are missing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from app_fixtures import BLOCKED_REASONS, DATA_AS_OF, DAY_1, DAY_2, PLANT_NAMES, build_published

from apps import data
from quality.publication import read_status

INJECTED_PLANT_FILTERS = ["A' OR '1'='1", "DE-STR' OR '1'='1", "DE-STR'); select * from main_marts.kpi_values --"]
JUNE = (DAY_1, date(2026, 7, 1))  # the month as production days, end exclusive


@pytest.fixture
def warehouse(warehouse_root: Path) -> str:
    return str(warehouse_root / data.WAREHOUSE_FILE)


@pytest.fixture
def version(warehouse: str) -> str:
    return data.data_version(warehouse)


@pytest.mark.parametrize("injected", INJECTED_PLANT_FILTERS)
def test_injected_plant_filter_returns_no_rows(warehouse: str, version: str, injected: str) -> None:
    assert not data.plant_kpi_values(warehouse, version, ("DE-STR",), "month", DAY_1).empty  # the honest filter

    assert data.plant_kpi_values(warehouse, version, (injected,), "month", DAY_1).empty
    assert data.asset_kpi_values(warehouse, version, injected, "month", *JUNE, ("oee",)).empty
    assert data.loss_waterfall(warehouse, version, injected, *JUNE).empty
    assert data.periods(warehouse, version, (injected,), "month") == ()


def test_a_period_level_outside_the_kpi_table_is_refused_before_any_query(warehouse: str, version: str) -> None:
    with pytest.raises(ValueError, match="not a grain"):
        data.plant_kpi_values(warehouse, version, ("DE-STR",), "month' or '1'='1", DAY_1)


def test_connections_refuse_external_access_and_cannot_unlock_it(warehouse: str) -> None:
    with data._connect(warehouse) as connection:
        with pytest.raises(duckdb.PermissionException):
            connection.execute("select * from read_csv('/etc/hostname')")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            connection.execute("set enable_external_access = true")


def test_connections_are_read_only(warehouse: str) -> None:
    with data._connect(warehouse) as connection, pytest.raises(duckdb.InvalidInputException, match="read-only"):
        connection.execute("delete from main_marts.kpi_values")


def test_two_sessions_can_read_at_once(warehouse: str) -> None:
    # DuckDB shares one database instance per file and process, so a hardening `SET` on a second connection
    # would hit the first one's locked configuration.
    with data._connect(warehouse) as first, data._connect(warehouse) as second:
        assert first.execute("select count(*) from main_marts.kpi_values").fetchone()[0] > 0
        assert second.execute("select count(*) from main_meta.publication_log").fetchone() == (2,)


def test_plant_values_are_the_kpi_table_rows_of_the_period(warehouse: str, version: str) -> None:
    values = data.plant_kpi_values(warehouse, version, tuple(PLANT_NAMES), "month", DAY_1)

    with duckdb.connect(warehouse, read_only=True) as connection:
        published = connection.execute(
            "select plant_id, kpi_id, value, coverage from main_marts.kpi_values "
            "where grain = 'plant_month' order by plant_id, kpi_id"
        ).fetchall()
    assert list(values[["plant_id", "kpi_id", "value", "coverage"]].itertuples(index=False, name=None)) == published
    oee = values[values.kpi_id == "oee"].set_index("plant_id").value
    # Singapore: 22,800 / 46,800 x 1,188 / 1,200 = 0.4823, the ratio of sums (the mean of its daily OEEs is 0.418)
    assert oee["SG-SIN"] == pytest.approx(0.482308, abs=1e-6)
    assert set(values.period_end) == {JUNE[1]}


def test_asset_values_break_a_day_down_by_shift_and_a_month_by_day(warehouse: str, version: str) -> None:
    day = data.asset_kpi_values(warehouse, version, "DE-STR", "day", DAY_1, DAY_2, ("oee",))
    month = data.asset_kpi_values(warehouse, version, "DE-STR", "month", *JUNE, ("oee",))

    assert sorted(zip(day.asset_id, day.sub_period)) == [
        ("DE-STR:P1", "F"), ("DE-STR:P1", "S"), ("DE-STR:P2", "F"), ("DE-STR:P2", "S")
    ]  # fmt: skip
    assert month.set_index(["asset_id", "sub_period"]).value.to_dict() == pytest.approx(
        {
            ("DE-STR:P1", "Mon 01"): 0.81,  # 44,550 / 54,000 x 1,620 / 1,650
            ("DE-STR:P2", "Mon 01"): 0.603333,  # 34,200 / 54,000 x 1,810 / 1,900
            ("DE-STR:P1", "Tue 02"): 0.89,  # 24,300 / 27,000 x 890 / 900
            ("DE-STR:P2", "Tue 02"): 0.746667,  # 20,700 / 27,000 x 1,120 / 1,150
        },
        abs=1e-6,
    )


def test_periods_are_listed_latest_first_per_level(warehouse: str, version: str) -> None:
    days = data.periods(warehouse, version, ("DE-STR",), "day")
    weeks = data.periods(warehouse, version, ("DE-STR",), "week")

    assert [(p.start, p.end) for p in days] == [(DAY_2, DAY_2.replace(day=3)), (DAY_1, DAY_2)]
    assert [p.label for p in weeks] == ["Week 23 of 2026 (01 Jun to 07 Jun)"]
    assert data.periods(warehouse, version, ("DE-STR",), "month")[0].label == "June 2026"


def test_the_waterfall_is_the_sum_of_the_asset_shift_steps_and_closes(warehouse: str, version: str) -> None:
    steps = data.loss_waterfall(warehouse, version, "DE-STR", *JUNE).set_index("step_id")

    assert steps.loc["planned_busy_time", "seconds"] == 162_000  # 6 shifts x (28,800 - 1,800)
    losses = steps[steps.step_kind == "loss"].seconds.sum()
    assert steps.loc["planned_busy_time", "seconds"] - losses == pytest.approx(steps.loc["oee_time", "seconds"])
    assert list(steps.waterfall_step) == sorted(steps.waterfall_step)


def test_plant_names_come_from_the_elements_mart_and_fall_back_to_ids(tmp_path: Path, warehouse: str) -> None:
    assert dict(data.plants(warehouse, data.data_version(warehouse)).itertuples(index=False)) == PLANT_NAMES

    bare = build_published(tmp_path, with_losses=False)
    with duckdb.connect(str(bare)) as connection:
        connection.execute("drop table main_marts.kpi_elements_asset_shift")
    assert list(data.plants(str(bare), data.data_version(bare)).plant_name) == sorted(PLANT_NAMES)
    assert data.loss_waterfall(str(bare), data.data_version(bare), "DE-STR", *JUNE) is None


def test_publication_reads_the_log_as_the_pipeline_writes_it(warehouse: str) -> None:
    publication = data.publication(warehouse)
    expected = read_status(Path(warehouse))

    assert publication.is_blocked and expected.status == "blocked"
    assert publication.data_as_of == expected.data_as_of == DATA_AS_OF
    assert publication.latest_attempted_at == expected.attempted_at
    (check,) = publication.blocked_checks
    reason = BLOCKED_REASONS[0]
    assert (check.check, check.expectation, check.failing, check.column, check.suite) == (
        reason["check"], reason["expectation"], reason["failing"], reason["column"], reason["suite"]
    )  # fmt: skip


def test_publication_after_a_good_run_has_no_blocked_checks(tmp_path: Path) -> None:
    publication = data.publication(build_published(tmp_path, blocked=False))

    assert (publication.latest_status, publication.blocked_checks) == ("published", ())
    assert publication.data_as_of == DATA_AS_OF


def test_a_file_without_publication_log_has_no_as_of_time(tmp_path: Path) -> None:
    publication = data.publication(build_published(tmp_path, logged=False))

    assert publication == data.Publication(None, None, None, ())
    assert data.publication(tmp_path / "elsewhere.duckdb") is None


def test_warehouse_problem_is_none_when_the_kpi_table_is_ready(warehouse: str) -> None:
    assert data.warehouse_problem(Path(warehouse)) is None


def test_warehouse_problem_reports_a_missing_or_empty_kpi_table(tmp_path: Path) -> None:
    path = tmp_path / data.WAREHOUSE_FILE
    duckdb.connect(str(path)).close()
    assert "main_marts.kpi_values" in data.warehouse_problem(path)

    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema main_marts")
        connection.execute("create table main_marts.kpi_values (entity_level varchar)")
    assert "no plant rows" in data.warehouse_problem(path)


def test_data_root_defaults_to_the_local_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORTHSTAR_DATA_ROOT", raising=False)

    assert data.warehouse_path() == Path("data") / "published.duckdb"


def test_a_new_publication_changes_the_data_version(tmp_path: Path) -> None:
    path = build_published(tmp_path, blocked=False)
    before = data.data_version(path)

    build_published(tmp_path / "next", blocked=False).replace(path)

    assert data.data_version(path) != before
