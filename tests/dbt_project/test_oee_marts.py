"""The dbt project end to end: bronze Delta fixtures -> `dbt build` -> published marts, checked against values
computed by hand from the fixture timelines in conftest.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from catalog.render import load_kpi_definitions

ELEMENTS = ["pot_s", "pdot_s", "pbt_s", "apt_s", "aust_s", "adet_s", "adot_s", "pq", "gq", "sq", "rq", "pri_pq_s"]

# Hand-computed per asset and shift, in the order of ELEMENTS (seconds and pieces).
EXPECTED_ELEMENTS: dict[tuple[str, str], tuple[float, ...]] = {
    # S 14-22: run 2 h + 4 h, break 30 min, setup 30 min, breakdown 21:00-22:00 (its 22:00-22:30 part is in N).
    # Counts 14-18 and 18-22: 4000 + 4200 pieces at 2.5 s.
    ("DE-STR:P1", "S"): (28800, 1800, 27000, 21600, 1800, 3600, 0, 8200, 8050, 130, 20, 20500),
    # N 22-06 over the switch to summer time: 7 h. Breakdown 30 min, run 2.5 h, starved 01:00 CET-04:00 CEST = 2 h,
    # run 04-06 (the run continues into F).
    ("DE-STR:P1", "N"): (25200, 0, 25200, 16200, 0, 1800, 7200, 6000, 5950, 50, 0, 15000),
    # F 06-14: run 30 min (from N's run), minor stop 30 min, run 3 h, break 30 min, run 3.5 h. The count interval
    # starting at 06:00 belongs to F.
    ("DE-STR:P1", "F"): (28800, 1800, 27000, 25200, 0, 1800, 0, 9600, 9500, 60, 40, 24000),
    # no order all day: every second is ADOT
    ("DE-STR:P2", "S"): (28800, 0, 28800, 0, 0, 0, 28800, 0, 0, 0, 0, 0),
    ("DE-STR:P2", "N"): (25200, 0, 25200, 0, 0, 0, 25200, 0, 0, 0, 0, 0),
    ("DE-STR:P2", "F"): (28800, 0, 28800, 0, 0, 0, 28800, 0, 0, 0, 0, 0),
    # T1 07-19: run 2 h + 2.5 h + 2.25 h + 2h40, setup 30 min, planned 45 min, minor stop 20 min, breakdown 18-19.
    # Ideal cycle time 0.25 min = 15 s.
    ("MX-MTY:E-01", "T1"): (43200, 2700, 40500, 33900, 1800, 4800, 0, 2100, 2060, 30, 10, 31500),
    # T2 19-07: breakdown 19-20 (from T1), run 3.5 h, starved 23:30-00:30, planned 30 min, run 6 h.
    ("MX-MTY:E-01", "T2"): (43200, 1800, 41400, 34200, 0, 3600, 3600, 2200, 2180, 20, 0, 33000),
    # the published worked example: 8 h, 60 min breaks, 47 min down, PRI 1 s, 19,271 pieces, 423 rejected
    ("SG-SIN:SMT-01", "A"): (28800, 3600, 25200, 22380, 0, 2820, 0, 19271, 18848, 423, 0, 19271),
}

# Ideal cycle time in seconds per asset (one material each), for the ISO identity OEE = PRI x GQ / PBT.
PRI_S = {"DE-STR:P1": 2.5, "DE-STR:P2": 2.5, "MX-MTY:E-01": 15.0, "SG-SIN:SMT-01": 1.0}

ASSET_SHIFT_COLUMNS = [
    ("plant_id", "VARCHAR"),
    ("plant_name", "VARCHAR"),
    ("asset_id", "VARCHAR"),
    ("line_id", "VARCHAR"),
    ("shift_code", "VARCHAR"),
    ("shift_date", "DATE"),
    ("shift_started_at", "TIMESTAMP WITH TIME ZONE"),
    ("shift_ended_at", "TIMESTAMP WITH TIME ZONE"),
    *((name, "BIGINT" if name in ("pq", "gq", "sq", "rq") else "DOUBLE") for name in ELEMENTS),
    ("availability", "DOUBLE"),
    ("effectiveness", "DOUBLE"),
    ("quality_ratio", "DOUBLE"),
    ("oee", "DOUBLE"),
]


def asset_shifts(warehouse) -> dict[tuple[str, str], dict[str, Any]]:
    rows = warehouse.query("select * from main_marts.oee_asset_shift")
    return {(row["asset_id"], row["shift_code"]): row for row in rows}


def test_dbt_build_passes_every_model_data_test_and_unit_test(warehouse):
    results = warehouse.results_by_node
    unit_tests = {name for name, r in results.items() if r["unique_id"].startswith("unit_test.")}
    # one generated unit test per worked example of a KPI definition, beside the hand-written ones
    examples = {
        f"int_kpis_computed_{kpi_id}_example_{n}"
        for kpi_id, kpi in load_kpi_definitions().items()
        for n, _ in enumerate(kpi.get("examples") or [], start=1)
    }

    # the fixture plants' assets (P1, P2, E-01, SMT-01) are not in catalog/mappings/assets.yaml: counted, published
    # under their derived ids, and reported as the one expected warning
    assert {name: r["status"] for name, r in results.items() if r["status"] not in ("success", "pass")} == {
        "accepted_values_int_asset_shifts_scheduled_is_asset_mapped__True": "warn"
    }
    assert examples <= unit_tests
    assert len(unit_tests - examples) >= 7


def test_oee_asset_shift_has_exactly_the_published_columns(warehouse):
    columns = warehouse.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'main_marts' and table_name = 'oee_asset_shift' order by ordinal_position"
    )

    assert [(c["column_name"], c["data_type"]) for c in columns] == ASSET_SHIFT_COLUMNS


def test_every_scheduled_asset_shift_is_published_once(warehouse):
    assert sorted(asset_shifts(warehouse)) == sorted(EXPECTED_ELEMENTS)


@pytest.mark.parametrize("key", sorted(EXPECTED_ELEMENTS), ids="/".join)
def test_time_elements_and_quantities_match_the_hand_computed_values(warehouse, key):
    row = asset_shifts(warehouse)[key]

    assert {name: row[name] for name in ELEMENTS} == pytest.approx(
        dict(zip(ELEMENTS, EXPECTED_ELEMENTS[key])), abs=1e-9
    )


@pytest.mark.parametrize("key", [k for k, v in sorted(EXPECTED_ELEMENTS.items()) if v[7] > 0], ids="/".join)
def test_kpis_of_a_producing_asset_match_the_hand_computed_ratios(warehouse, key):
    row = asset_shifts(warehouse)[key]
    expected = dict(zip(ELEMENTS, EXPECTED_ELEMENTS[key]))

    assert row["availability"] == pytest.approx(expected["apt_s"] / expected["pbt_s"], rel=1e-12)
    assert row["effectiveness"] == pytest.approx(expected["pri_pq_s"] / expected["apt_s"], rel=1e-12)
    assert row["quality_ratio"] == pytest.approx(expected["gq"] / expected["pq"], rel=1e-12)
    # ISO 22400-2: with one material, A x E x Q = PRI x GQ / PBT; a different route to the same number
    assert row["oee"] == pytest.approx(PRI_S[key[0]] * expected["gq"] / expected["pbt_s"], rel=1e-12)


@pytest.mark.parametrize("shift_code", ["S", "N", "F"])
def test_an_asset_without_an_order_has_oee_zero_and_no_effectiveness_or_quality(warehouse, shift_code):
    row = asset_shifts(warehouse)[("DE-STR:P2", shift_code)]

    assert (row["availability"], row["effectiveness"], row["quality_ratio"], row["oee"]) == (0.0, None, None, 0.0)


def test_the_published_worked_example_is_reproduced(warehouse):
    row = asset_shifts(warehouse)[("SG-SIN:SMT-01", "A")]

    assert round(row["availability"], 4) == 0.8881
    assert round(row["effectiveness"], 4) == 0.8611
    assert round(row["quality_ratio"], 4) == 0.9780
    assert row["oee"] == pytest.approx(0.748, abs=0.001)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_shift_windows_are_converted_to_utc_with_the_plant_time_zone(warehouse):
    rows = asset_shifts(warehouse)

    # Europe/Berlin: CET (+1) before 2026-03-29 02:00, CEST (+2) after, so N lasts 7 h
    assert (rows[("DE-STR:P1", "N")]["shift_started_at"], rows[("DE-STR:P1", "N")]["shift_ended_at"]) == (
        utc(2026, 3, 28, 21),
        utc(2026, 3, 29, 4),
    )
    assert rows[("DE-STR:P1", "F")]["shift_started_at"] == utc(2026, 3, 29, 4)
    # America/Monterrey (-6): the night shift crosses midnight local and keeps its production day
    assert rows[("MX-MTY:E-01", "T2")]["shift_started_at"] == utc(2026, 3, 29, 1)
    assert rows[("MX-MTY:E-01", "T2")]["shift_date"] == date(2026, 3, 28)
    # Asia/Singapore (+8): a 07:00 start is the previous day in UTC
    assert rows[("SG-SIN:SMT-01", "A")]["shift_started_at"] == utc(2026, 5, 31, 23)


def test_a_state_crossing_a_shift_boundary_is_split_between_the_shifts(warehouse):
    parts = warehouse.query(
        "select shift_code, enterprise_state, duration_s from main_intermediate.int_machine_states_clipped_to_shifts "
        "where plant_id = 'DE-STR' and asset_local_id = 'P1' and state_local_code = 'Störung Hydraulik' "
        "order by started_us"
    )

    assert parts == [
        {"shift_code": "S", "enterprise_state": "BREAKDOWN", "duration_s": 3600.0},
        {"shift_code": "N", "enterprise_state": "BREAKDOWN", "duration_s": 1800.0},
    ]


def test_ideal_cycle_time_in_minutes_is_converted_to_seconds(warehouse):
    rows = warehouse.query(
        "select distinct ideal_cycle_time_s from main_intermediate.int_production_counts_assigned_to_shifts "
        "where plant_id = 'MX-MTY'"
    )

    assert rows == [{"ideal_cycle_time_s": 15.0}]


def test_plant_day_equals_the_elementwise_recomputation_from_asset_shifts(warehouse):
    plant_days = {
        (r["plant_id"], r["shift_date"]): r for r in warehouse.query("select * from main_marts.oee_plant_day")
    }
    sums: dict[tuple[str, date], dict[str, float]] = {}
    for row in asset_shifts(warehouse).values():
        total = sums.setdefault((row["plant_id"], row["shift_date"]), dict.fromkeys(ELEMENTS, 0))
        for name in ELEMENTS:
            total[name] += row[name]

    assert sorted(plant_days) == sorted(sums)
    for key, total in sums.items():
        day = plant_days[key]
        assert {name: day[name] for name in ELEMENTS} == pytest.approx(total, rel=1e-12)
        a, e, q = total["apt_s"] / total["pbt_s"], total["pri_pq_s"] / total["apt_s"], total["gq"] / total["pq"]
        assert (day["availability"], day["effectiveness"], day["quality_ratio"], day["oee"]) == pytest.approx(
            (a, e, q, a * e * q), rel=1e-12
        )


def test_plant_day_oee_is_not_the_mean_of_the_shift_oees(warehouse):
    day = warehouse.query(
        "select oee from main_marts.oee_plant_day where plant_id = 'DE-STR' and shift_date = date '2026-03-28'"
    )[0]
    shift_oees = [
        r["oee"]
        for k, r in asset_shifts(warehouse).items()
        if r["shift_date"] == date(2026, 3, 28) and r["plant_id"] == "DE-STR"
    ]

    # hand-computed: PRI x sum(GQ) / sum(PBT) = 2.5 x 14000 / 106200
    assert day["oee"] == pytest.approx(2.5 * 14000 / 106200, rel=1e-12)
    assert day["oee"] != pytest.approx(sum(shift_oees) / len(shift_oees), rel=1e-3)


def test_sensor_readings_are_aggregated_per_utc_hour(warehouse):
    rows = warehouse.query(
        "select hour_started_at, reading_count, value_avg, value_min, value_max "
        "from main_intermediate.int_sensor_readings_hourly where tag = 'power_kw' order by hour_started_at"
    )

    assert rows == [
        {
            "hour_started_at": datetime(2026, 3, 28, 13, tzinfo=UTC),
            "reading_count": 2,
            "value_avg": 11.0,
            "value_min": 10.0,
            "value_max": 12.0,
        },
        {
            "hour_started_at": datetime(2026, 3, 28, 14, tzinfo=UTC),
            "reading_count": 1,
            "value_avg": 20.0,
            "value_min": 20.0,
            "value_max": 20.0,
        },
    ]
