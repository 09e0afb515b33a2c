"""The KPI library on the fixture plants (conftest.py): the elements beyond OEE, the long KPI table, rollups as ratios
of sums (recomputed here from the published elements and the catalog definitions), the loss waterfall and energy."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from catalog.render import load_kpi_definitions

KPIS = load_kpi_definitions()
GRAINS = [
    f"{entity}_{period}"
    for entity in ("asset", "line", "plant", "enterprise")
    for period in ("shift", "day", "week", "month")
    if (entity, period) != ("enterprise", "shift")
]


def published_at(kpi: dict[str, Any], grain: str) -> bool:
    """The definition publishes the KPI at this grain (SQDCP facts are per plant; a KPI in plant currency is not
    summed across plants)."""
    entity, period = grain.split("_")
    return entity in kpi.get("levels", [entity]) and period in kpi.get("periods", [period])


def elements(warehouse) -> dict[tuple[str, str], dict[str, Any]]:
    rows = warehouse.query("select * from main_marts.kpi_elements_asset_shift")
    return {(row["asset_id"], row["shift_code"]): row for row in rows}


def kpi(warehouse, kpi_id: str, grain: str, **entity: Any) -> dict[str, Any]:
    conditions = " and ".join(f"{column} = ?" for column in entity)
    (row,) = warehouse.query(
        f"select * from main_marts.kpi_values where kpi_id = ? and grain = ? and {conditions}",
        [kpi_id, grain, *entity.values()],
    )
    return row


# --- elements ---------------------------------------------------------------------------------------------------------


def test_the_elements_beyond_oee_match_the_hand_computed_values(warehouse):
    # DE-STR P1, shift S 14-22: run 2 h + 4 h, break 30 min, setup 30 min, breakdown 21:00-22:30 (its S part 1 h,
    # starting in S: one failure). Counts 14-18 (3900 good, 80 scrap, 20 rework) and 18-22 (4150 good, 50 scrap).
    row = elements(warehouse)[("DE-STR:P1", "S")]

    assert {k: row[k] for k in ("aupt_s", "aubt_s", "aoet_s", "cmt_s", "pmt_s", "failure_events")} == {
        "aupt_s": 23400.0,
        "aubt_s": 27000.0,
        "aoet_s": 28800.0,
        "cmt_s": 3600.0,
        "pmt_s": 0.0,
        "failure_events": 1,
    }
    assert {k: row[k] for k in ("pri_gq_s", "pri_sq_s", "pri_rq_s", "gp", "ip")} == {
        "pri_gq_s": 2.5 * 8050,
        "pri_sq_s": 2.5 * 130,
        "pri_rq_s": 2.5 * 20,
        "gp": 8050,
        "ip": 8200,
    }
    assert {k: row[k] for k in row if k.startswith("loss_")} == {
        "loss_setup_adjustment_s": 1800.0,
        "loss_breakdown_s": 3600.0,
        "loss_small_stop_s": 0.0,
        "loss_idle_s": 0.0,
        "loss_unmapped_s": 0.0,
    }
    assert row["checks_passed"] is True


def test_a_breakdown_counts_as_one_failure_where_it_starts_and_its_time_where_it_lies(warehouse):
    night = elements(warehouse)[("DE-STR:P1", "N")]

    # the breakdown from S runs on until 22:30: 30 min of N's CMT, but no failure of N
    assert (night["cmt_s"], night["failure_events"]) == (1800.0, 0)
    assert kpi(warehouse, "mttr", "asset_shift", asset_id="DE-STR:P1", shift_code="N")["value"] is None
    # over the day: 1 failure, 90 min of repair, 6 h + 4.5 h of production
    day = {"asset_id": "DE-STR:P1", "period_start": date(2026, 3, 28)}
    assert kpi(warehouse, "mttr", "asset_day", **day)["value"] == 90.0
    assert kpi(warehouse, "mtbf", "asset_day", **day)["value"] == 10.5


def test_the_order_execution_time_of_a_dst_night_shift_is_its_real_length(warehouse):
    # N 22:00-06:00 over the switch to summer time: one count interval of 8 wall-clock hours lasts 7 h
    assert elements(warehouse)[("DE-STR:P1", "N")]["aoet_s"] == 25200.0


def test_energy_is_the_meter_difference_over_each_shift_when_both_readings_are_recent(warehouse):
    rows = elements(warehouse)

    assert (rows[("DE-STR:P1", "S")]["energy_kwh"], rows[("DE-STR:P1", "S")]["metered_gq"]) == (200.0, 8050)
    assert (rows[("DE-STR:P1", "N")]["energy_kwh"], rows[("DE-STR:P1", "N")]["metered_pot_s"]) == (140.0, 25200.0)
    # F: the last reading before its end is 20 min old: not metered, left out of numerator and denominator
    assert (rows[("DE-STR:P1", "F")]["energy_kwh"], rows[("DE-STR:P1", "F")]["metered_gq"]) == (0.0, 0)


def test_energy_per_good_unit_says_how_much_of_the_period_was_metered(warehouse):
    # DE-STR on 2026-03-28: P1's S and N metered (340 kWh for 8050 + 5950 good parts), P2 has no meter readings
    row = kpi(warehouse, "energy_per_good_unit", "plant_day", plant_id="DE-STR", period_start=date(2026, 3, 28))

    assert row["value"] == pytest.approx(340 / 14000, rel=1e-12)
    assert (row["numerator"], row["denominator"]) == (340.0, 14000.0)
    assert row["coverage"] == pytest.approx((28800 + 25200) / (2 * (28800 + 25200)), rel=1e-12)


# --- the KPI table ---------------------------------------------------------------------------------------------------


def test_every_catalog_kpi_is_published_at_every_grain_with_its_definition_version(warehouse):
    rows = warehouse.query("select distinct kpi_id, kpi_version, unit, grain from main_marts.kpi_values")

    assert {(r["kpi_id"], r["grain"]) for r in rows} == {(k, g) for k, d in KPIS.items() for g in GRAINS
                                                         if published_at(d, g)}
    assert {(r["kpi_id"], r["kpi_version"], r["unit"]) for r in rows} == {
        (k, str(d["version"]), d["unit"]) for k, d in KPIS.items()
    }


def test_every_value_is_its_numerator_over_its_denominator(warehouse):
    rows = warehouse.query("select kpi_id, value, numerator, denominator from main_marts.kpi_values")

    for row in rows:
        if row["value"] is None:
            assert not row["denominator"], row
        else:
            assert row["value"] == pytest.approx(row["numerator"] / row["denominator"], rel=1e-12), row


def test_the_confidence_fields_say_what_the_value_stands_on(warehouse):
    row = kpi(warehouse, "oee", "plant_day", plant_id="DE-STR", period_start=date(2026, 3, 28))

    assert row["coverage"] == 1.0
    assert row["checks_passed"] is True
    assert row["freshness_at"].isoformat() == "2026-03-30T06:00:00+00:00"
    assert (row["period_started_at"].isoformat(), row["period_ended_at"].isoformat()) == (
        "2026-03-28T13:00:00+00:00",
        "2026-03-29T04:00:00+00:00",
    )


def test_asset_kpis_match_the_hand_computed_ratios(warehouse):
    def value(kpi_id: str) -> float | None:
        return kpi(warehouse, kpi_id, "asset_shift", asset_id="DE-STR:P1", shift_code="S")["value"]

    assert value("technical_efficiency") == pytest.approx(21600 / (21600 + 3600), rel=1e-12)
    assert value("setup_rate") == pytest.approx(1800 / 23400, rel=1e-12)
    assert value("allocation_efficiency") == 1.0
    assert value("utilization_efficiency") == pytest.approx(0.8, rel=1e-12)
    assert value("throughput_rate") == pytest.approx(8200 / 8, rel=1e-12)
    assert value("production_process_ratio") == pytest.approx(0.75, rel=1e-12)
    assert value("mtbf") == 6.0 and value("mttr") == 60.0
    assert value("corrective_maintenance_ratio") == 1.0
    assert value("scrap_ratio") == pytest.approx(130 / 8200, rel=1e-12)
    assert value("nee") == pytest.approx(23400 / 27000 * 20500 / 21600 * 8050 / 8200, rel=1e-12)
    assert value("energy_per_good_unit") == pytest.approx(200 / 8050, rel=1e-12)


# --- rollups: ratios of sums, proven against an element-wise recomputation ------------------------------------------


def _period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _evaluate(definition: dict[str, Any], sums: dict[str, float]) -> float | None:
    """A catalog definition on summed elements: ratio (null on a zero denominator) or product (OEE's zero rule)."""

    def side(spec: dict[str, Any], name: str) -> float:
        return sum(sums[c.strip()] for c in str(spec[name]).split("+")) / spec.get(f"{name}_divisor", 1)

    def ratio(spec: dict[str, Any]) -> float | None:
        denominator = side(spec, "denominator")
        return side(spec, "numerator") / denominator if denominator else None

    formula = definition["formula"]
    if formula["kind"] == "ratio":
        return ratio(formula)
    factors = [KPIS[f]["formula"] for f in formula["factors"]]
    basis = formula.get("basis", factors[0])
    later = factors if "basis" in formula else factors[1:]
    if not side(basis, "denominator"):
        return None
    if any(not side(f, "denominator") for f in later):
        return 0.0
    value = ratio(basis) if "basis" in formula else 1.0
    for factor in factors:
        value *= ratio(factor)
    return value


@pytest.mark.parametrize("grain", [g for g in GRAINS if g != "asset_shift"])
def test_every_rollup_equals_the_kpis_recomputed_from_summed_asset_shift_elements(warehouse, grain):
    entity, period = grain.split("_")
    entity_columns = {"asset": ["plant_id", "line_id", "asset_id"], "line": ["plant_id", "line_id"],
                      "plant": ["plant_id"], "enterprise": []}[entity]
    sums: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in elements(warehouse).values():
        key = (*(row[c] for c in entity_columns), row["shift_code"] if period == "shift" else None,
               _period_start(row["shift_date"], period))
        for column, value in row.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                sums[key][column] += value
    asset_kpis = {k for k, d in KPIS.items() if d.get("basis", "asset_shift") == "asset_shift" and published_at(d, grain)}
    published = warehouse.query(
        "select * from main_marts.kpi_values where grain = ? and kpi_id in (select unnest(?))", [grain, sorted(asset_kpis)]
    )

    assert len(published) == len(sums) * len(asset_kpis)
    for row in published:
        key = (*(row[c] for c in entity_columns), row["shift_code"], row["period_start"])
        expected = _evaluate(KPIS[row["kpi_id"]], sums[key])
        assert row["value"] == (None if expected is None else pytest.approx(expected, rel=1e-12)), (row, expected)


def test_kpis_of_plant_day_facts_have_no_value_where_nothing_was_reported(warehouse):
    # the fixture plants send no safety, order or people extracts: the SQDCP counts are null, not 0
    rows = warehouse.query(
        "select distinct kpi_id, value, denominator from main_marts.kpi_values "
        "where kpi_id in ('recordable_incidents', 'on_time_in_full', 'attendance_rate')"
    )

    assert {(r["kpi_id"], r["value"], r["denominator"]) for r in rows} == {
        ("recordable_incidents", None, None),
        ("on_time_in_full", None, None),
        ("attendance_rate", None, None),
    }


def test_a_plant_day_oee_is_not_the_mean_of_its_asset_shift_oees(warehouse):
    day = kpi(warehouse, "oee", "plant_day", plant_id="DE-STR", period_start=date(2026, 3, 28))["value"]
    shifts = warehouse.query(
        "select value from main_marts.kpi_values where kpi_id = 'oee' and grain = 'asset_shift' "
        "and plant_id = 'DE-STR' and period_start = date '2026-03-28'"
    )

    assert day == pytest.approx(2.5 * 14000 / 106200, rel=1e-12)
    assert day != pytest.approx(sum(r["value"] for r in shifts) / len(shifts), rel=1e-3)


def test_the_kpi_table_agrees_with_the_published_oee_marts(warehouse):
    marts = warehouse.query("select plant_id, shift_date, oee from main_marts.oee_plant_day")

    for mart in marts:
        row = kpi(warehouse, "oee", "plant_day", plant_id=mart["plant_id"], period_start=mart["shift_date"])
        assert row["value"] == pytest.approx(mart["oee"], rel=1e-12)


# --- the six big losses ----------------------------------------------------------------------------------------------


def test_the_loss_waterfall_closes_exactly_for_every_asset_shift(warehouse):
    rows = warehouse.query("select * from main_marts.oee_losses_asset_shift")
    steps: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in rows:
        steps[(row["asset_id"], row["shift_date"], row["shift_code"])][row["step_id"]] = row["seconds"]

    assert len(steps) == len(elements(warehouse))
    for key, step in steps.items():
        losses = sum(v for k, v in step.items() if k not in ("planned_busy_time", "oee_time"))
        assert step["planned_busy_time"] - losses == pytest.approx(step["oee_time"], abs=1e-6), key


def test_the_waterfall_of_an_asset_shift_shows_each_loss(warehouse):
    rows = warehouse.query(
        "select step_id, step_kind, oee_factor, seconds from main_marts.oee_losses_asset_shift "
        "where asset_id = 'DE-STR:P1' and shift_code = 'S' order by waterfall_step"
    )

    assert [(r["step_id"], r["seconds"]) for r in rows] == [
        ("planned_busy_time", 27000.0),
        ("breakdown", 3600.0),
        ("setup_adjustment", 1800.0),
        ("small_stop", 0.0),
        ("idle", 0.0),
        ("unmapped", 0.0),
        ("reduced_speed", 21600.0 - 20500.0),
        ("scrap", 325.0),
        ("rework", 50.0),
        ("oee_time", 20125.0),
    ]
    assert {r["step_id"]: r["oee_factor"] for r in rows if r["step_kind"] == "loss"}["reduced_speed"] == "effectiveness"


def test_the_waterfall_closes_for_a_plant_day_by_summing_its_rows(warehouse):
    (row,) = warehouse.query(
        "select sum(seconds) filter (where step_kind = 'start') as pbt, "
        "sum(seconds) filter (where step_kind = 'loss') as losses, sum(seconds) filter (where step_kind = 'end') as oee "
        "from main_marts.oee_losses_asset_shift where plant_id = 'DE-STR' and shift_date = date '2026-03-28'"
    )

    assert row["pbt"] - row["losses"] == pytest.approx(row["oee"], abs=1e-6)
    assert row["pbt"] == 106200.0
