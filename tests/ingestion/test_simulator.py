"""Tests of the factory-network simulator (ingestion/simulator): determinism, layout, dialects, calendar, timelines,
counts, ground truth and sensors.

The extracts are read back with an independent reader driven only by the catalog (test_simulator_reader.py), so the
tests check the files a real reader sees. No Kafka broker is started here (test_simulator_faults.py does).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from test_simulator_reader import all_files, extract_file, plant_ids, read_extract, truth

from catalog.plants import load_plants
from ingestion.simulator import generate_network, iter_sensor_readings, load_plant_profiles, load_state_mappings
from ingestion.simulator.__main__ import main as cli_main
from ingestion.simulator.config import load_network_config
from ingestion.simulator.ground_truth import compute_kpis
from ingestion.simulator.profiles import PlantProfile

ALL_PLANTS_NETWORK = {
    "name": "all-plants",
    "seed": 7,
    "start_date": "2026-06-15",  # a Monday: every plant works, no DST change, no holiday
    "days": 2,
    "sensor_interval_s": 1800,
    "plants": {
        "DE-STR": {"assets_per_line": [2], "language": "de"},
        "MX-MTY": {"assets_per_line": [1, 1], "language": "es"},
        "SG-SIN": {"assets_per_line": [2]},
        "US-OHI": {"assets_per_line": [2]},
    },
}
CI_FILES = 3 * 13 + 6 + 1  # 3 plants x 13 extracts, 6 ground-truth files, the manifest


def write_network(path: Path, document: dict) -> str:
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def ci_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ci")
    generate_network("ci", root)
    return root


@pytest.fixture(scope="module")
def all_plants_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("all_plants")
    generate_network(write_network(root / "all_plants.yaml", ALL_PLANTS_NETWORK), root / "data")
    return root / "data"


@pytest.fixture(scope="module")
def profiles() -> dict[str, PlantProfile]:
    return load_plant_profiles()


# --- determinism ------------------------------------------------------------------------------------------------


def test_two_runs_with_the_same_seed_write_byte_identical_files(ci_root: Path, tmp_path: Path) -> None:
    generate_network("ci", tmp_path)
    first, second = all_files(ci_root), all_files(tmp_path)
    assert len(first) == CI_FILES
    assert first == second
    assert "landing/US-OHI/hr/timecards_2026-10-24.xlsx" in first  # Excel included: fixed zip timestamps


def test_the_published_stream_is_identical_for_the_same_seed() -> None:
    first = [(r.kafka_key(), r.kafka_value()) for r in iter_sensor_readings("ci")]
    second = [(r.kafka_key(), r.kafka_value()) for r in iter_sensor_readings("ci")]
    # 4 assets x 4 tags per plant, every 300 s from the first shift start to the last shift end:
    # DE-STR Sat 06:00 CEST - Tue 06:00 CET (73 h), MX-MTY Sat 07:00 - Tue 07:00 (72 h), US-OHI Mon 06:00-23:00 (17 h)
    assert len(first) == 16 * 12 * (73 + 72 + 17)
    assert first == second


def test_plants_generated_in_parallel_processes_give_the_same_files(ci_root: Path, tmp_path: Path) -> None:
    generate_network("ci", tmp_path, workers=2)  # the bench default on two cores
    assert all_files(tmp_path) == all_files(ci_root)


def test_rerun_into_the_same_root_leaves_unchanged_files_untouched(tmp_path: Path) -> None:
    generate_network("ci", tmp_path)
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if path.is_file()}
    generate_network("ci", tmp_path)
    after = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if path.is_file()}
    assert before == after


def test_switching_networks_removes_only_the_previous_runs_landing_files(tmp_path: Path) -> None:
    root = tmp_path / "data"
    generate_network(write_network(tmp_path / "all_plants.yaml", ALL_PLANTS_NETWORK), root)
    foreign = root / "landing" / "SG-SIN" / "mes" / "dropped_by_a_person.jsonl"
    foreign.write_text("{}\n", encoding="utf-8")
    summary = generate_network("ci", root)
    landing = sorted(path for path in (root / "landing").rglob("*") if path.is_file())
    assert landing == sorted([*(extract.path for extract in summary.extracts), foreign])
    manifest = json.loads((root / "simulator" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["network"] == "ci" and len(manifest["files"]) == 39
    assert manifest["fault_counts"] == {}


def test_another_seed_gives_other_data_with_the_same_shape(ci_root: Path, tmp_path: Path) -> None:
    summary = generate_network("ci", tmp_path, seed=1)
    assert summary.seed == 1
    original, reseeded = all_files(ci_root), all_files(tmp_path)
    assert original.keys() == reseeded.keys()
    states = "landing/DE-STR/mes/zustaende_2026-10-24.csv"
    calendar = "landing/DE-STR/mes/schichtplan_2026-10-24.csv"
    assert original[states] != reseeded[states]
    assert original[calendar] == reseeded[calendar]  # the calendar comes from the profile, not from chance


# --- summary, layout and command line ---------------------------------------------------------------------------


def test_summary_counts_match_the_files_written(tmp_path: Path) -> None:
    summary = generate_network("ci", tmp_path)
    assert summary.plants == ("DE-STR", "MX-MTY", "US-OHI")
    assert {plant: len(assets) for plant, assets in summary.assets.items()} == {"DE-STR": 4, "MX-MTY": 4, "US-OHI": 4}
    for extract in summary.extracts:
        assert extract.path.is_file()
        assert extract.rows == len(read_extract(tmp_path, extract.plant_id, extract.source, extract.table))
    # Sat 24 Oct: DE-STR F S N, MX-MTY T1 T2; Sun 25 Oct: nothing; Mon 26 Oct: all three plants (Ohio 1ST 2ND)
    assert summary.row_counts["mes/shift_calendar"] == 6 + 4 + 2
    assert summary.asset_shift_rows == 4 * 6 + 4 * 4 + 4 * 2
    assert summary.sensor_readings == pq.read_metadata(summary.ground_truth["sensor_readings"]).num_rows
    assert set(summary.ground_truth) == {
        "asset_shift", "local_oee", "plant_day", "asset_shift_energy", "sensor_readings", "fault_ledger"
    }


def test_cli_generate_reports_progress_time_and_peak_memory(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["generate", "--network", "ci", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "DE-STR: 4 assets, 6 shifts" in printed and "sensor readings" in printed
    assert "peak RSS" in printed and "extract files" in printed
    assert (tmp_path / "landing" / "MX-MTY" / "mes" / "paros_2026-10-24.csv").is_file()


def test_the_packaged_networks_have_the_documented_scales() -> None:
    demo = load_network_config("demo")
    assert len(demo.plants) == 4
    assert all(2 <= len(p.assets_per_line) <= 4 and all(3 <= n <= 10 for n in p.assets_per_line) for p in demo.plants)
    demo_assets = sum(sum(p.assets_per_line) for p in demo.plants)
    assert demo_assets * 4 * demo.days * 86_400 // demo.sensor_interval_s <= 600_000  # the demo's sensor budget
    bench = load_network_config("bench")
    assert len(bench.plants) == 12 and {sum(p.assets_per_line) for p in bench.plants} == {40}
    assert (bench.days, bench.sensor_window_days, bench.sensor_interval_s) == (365, 30, 1)
    assert demo.sensor_window_days is None  # the demo's sensors cover every plant's whole period
    assert load_network_config("public").public == ("supplier_quality", "steel_energy", "mes_sample")


# --- the plant profiles: one loader -----------------------------------------------------------------------------


def test_the_simulator_reads_dialects_through_the_ingestion_loader(profiles: dict[str, PlantProfile]) -> None:
    ingestion_view = load_plants()
    assert set(profiles) == set(ingestion_view)
    for plant_id, profile in profiles.items():
        assert profile.catalog.dialects == ingestion_view[plant_id].dialects
        assert (profile.name, profile.timezone) == (ingestion_view[plant_id].name, ingestion_view[plant_id].timezone)
    night = {shift.code: shift.crosses_midnight for shift in profiles["DE-STR"].shifts}
    assert night == {"F": False, "S": False, "N": True}
    assert profiles["DE-STR"].dialect("mes", "machine_states").columns["state_local_code"] == "Grund"
    assert profiles["US-OHI"].dialect("hr", "attendance").format == "xlsx"


# --- dialects ---------------------------------------------------------------------------------------------------


def test_de_str_extracts_are_cp1252_with_semicolons_and_decimal_commas(ci_root: Path) -> None:
    states = extract_file(ci_root, "DE-STR", "mes", "machine_states").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        states.decode("utf-8")  # "Rüsten"/"Störung" are single cp1252 bytes, not UTF-8
    assert states.decode("cp1252").splitlines()[0] == "Anlage;Beginn;Ende;Grund"
    materials = extract_file(ci_root, "DE-STR", "erp", "materials").read_bytes().decode("cp1252")
    rows = list(csv.reader(io.StringIO(materials), delimiter=";"))
    assert rows[0] == ["Materialnummer", "Kurztext", "Sollzykluszeit", "Einheit"]
    assert all("." not in row[2] and "," in row[2] for row in rows[1:])
    first_start = states.decode("cp1252").splitlines()[1].split(";")[1]
    assert dt.datetime.strptime(first_start, "%d.%m.%Y %H:%M:%S") == dt.datetime(2026, 10, 24, 6, 0)
    report = extract_file(ci_root, "DE-STR", "mes", "local_oee_report").read_bytes().decode("cp1252")
    assert report.splitlines()[0] == "Anlage;Datum;Schicht;Verfügbarkeit;Leistungsgrad;Qualitätsrate;OEE"


def test_units_differ_by_plant_as_their_profiles_say(ci_root: Path) -> None:
    assert {r["ideal_cycle_time_unit"] for r in read_extract(ci_root, "MX-MTY", "erp", "materials")} == {"min"}
    assert all((r["ideal_cycle_time"] * 4) % 1 == 0 for r in read_extract(ci_root, "MX-MTY", "erp", "materials"))
    assert {r["weight_unit"] for r in read_extract(ci_root, "US-OHI", "erp", "shipments")} == {"lb"}
    assert {r["weight_unit"] for r in read_extract(ci_root, "DE-STR", "erp", "shipments")} == {"kg"}
    assert {r["time_unit"] for r in read_extract(ci_root, "DE-STR", "hr", "attendance")} == {"min"}
    assert {r["time_unit"] for r in read_extract(ci_root, "MX-MTY", "hr", "attendance")} == {"h"}
    costs = read_extract(ci_root, "DE-STR", "erp", "standard_costs")
    assert {(r["price_unit"], r["currency"]) for r in costs} == {(100, "EUR")}
    assert {r["currency"] for r in read_extract(ci_root, "MX-MTY", "erp", "standard_costs")} == {"MXN"}


def test_sg_sin_extracts_are_json_lines_with_local_keys(all_plants_root: Path) -> None:
    spec = load_plants()["SG-SIN"].dialects
    for (source, table), dialect in spec.items():
        lines = extract_file(all_plants_root, "SG-SIN", source, table).read_text(encoding="utf-8").splitlines()
        for line in lines:
            assert list(json.loads(line)) == list(dialect.columns.values()), table
    first_count = json.loads(extract_file(all_plants_root, "SG-SIN", "mes", "production_counts").read_text().splitlines()[0])
    assert isinstance(first_count["totalCount"], int)
    assert first_count["startTime"] == "2026-06-15T07:00:00"  # shift A, naive local time


def test_us_ohi_exports_its_timecards_as_excel_with_typed_cells(ci_root: Path) -> None:
    import openpyxl

    path = extract_file(ci_root, "US-OHI", "hr", "attendance")
    assert path.read_bytes()[:2] == b"PK"
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Employee", "Date", "Shift", "Scheduled Hrs", "Worked Hrs", "Direct Hrs", "Unit", "Absence Code"
    )
    assert len(rows) - 1 == 2 * 6  # Monday's two shifts x a crew of 6 (4 assets x 1.5 people)
    assert isinstance(rows[1][1], dt.datetime) and rows[1][1].date() == dt.date(2026, 10, 26)
    assert rows[1][3] == 8.5 and rows[1][6] == "h"
    # direct hours (booked on orders, ISO APWT) lie within the worked (attended) hours, short of them
    assert all(0 <= row[5] < row[4] or row[4] == row[5] == 0 for row in rows[1:])


def test_every_emitted_state_code_is_in_the_governed_mapping(all_plants_root: Path) -> None:
    mapping = defaultdict(dict)
    for row in load_state_mappings():
        mapping[row.plant_id][row.local_code] = row.enterprise_state
    for plant_id in plant_ids(all_plants_root):
        codes = {row["state_local_code"] for row in read_extract(all_plants_root, plant_id, "mes", "machine_states")}
        assert codes <= set(mapping[plant_id]), plant_id
        assert {"RUNNING", "PLANNED_DOWN", "MINOR_STOP"} <= {mapping[plant_id][code] for code in codes}, plant_id


# --- calendar: shift patterns, holidays, night shifts -----------------------------------------------------------


def _calendar(root: Path, plant_id: str) -> list[dict]:
    return sorted(read_extract(root, plant_id, "mes", "shift_calendar"), key=lambda row: row["started_at_local"])


def test_weekly_shift_patterns_and_holidays_shape_the_demo_calendar(tmp_path: Path) -> None:
    generate_network("demo", tmp_path)
    by_plant = {plant: _calendar(tmp_path, plant) for plant in ("DE-STR", "MX-MTY", "SG-SIN", "US-OHI")}
    days = {plant: {row["shift_date"] for row in rows} for plant, rows in by_plant.items()}
    period = [dt.date(2026, 10, 24) + dt.timedelta(days=n) for n in range(10)]
    sundays = {day for day in period if day.weekday() == 6}
    # DE-STR: Monday-Saturday, not on its plant holiday (Sat 31 Oct) nor All Saints (Sun 1 Nov)
    assert days["DE-STR"] == set(period) - sundays - {dt.date(2026, 10, 31)}
    # MX-MTY: Monday-Saturday, not on Día de Muertos (Mon 2 Nov)
    assert days["MX-MTY"] == set(period) - sundays - {dt.date(2026, 11, 2)}
    assert days["SG-SIN"] == set(period)  # 24/7
    us = by_plant["US-OHI"]
    assert {row["shift_date"] for row in us} == {day for day in period if day.weekday() < 5}
    assert not [row for row in us if row["shift_local_code"] == "2ND" and row["shift_date"].weekday() == 4]
    assert len(us) == 6 * 2 - 1  # Mon 26 - Fri 30 Oct and Mon 2 Nov, no Friday second shift


def test_night_shifts_crossing_midnight_last_their_full_length(all_plants_root: Path) -> None:
    expected_hours = {("DE-STR", "N"): 8, ("MX-MTY", "T2"): 12, ("SG-SIN", "C"): 8}
    asset_shift = truth(all_plants_root, "asset_shift")
    for (plant_id, code), hours in expected_hours.items():
        night = [row for row in _calendar(all_plants_root, plant_id) if row["shift_local_code"] == code]
        assert len(night) == 2
        for row in night:
            assert row["ended_at_local"].date() == row["shift_date"] + dt.timedelta(days=1)
            assert row["ended_at_local"] - row["started_at_local"] == dt.timedelta(hours=hours)
        rows = [row for row in asset_shift if row["plant_id"] == plant_id and row["shift_code"] == code]
        assert rows and all(row["pot_s"] == hours * 3600 for row in rows)


def test_us_ohi_time_between_shifts_is_outside_every_shift(all_plants_root: Path) -> None:
    shifts = _calendar(all_plants_root, "US-OHI")
    assert [row["ended_at_local"] - row["started_at_local"] for row in shifts] == [dt.timedelta(hours=8.5)] * 4
    night = [
        row for row in read_extract(all_plants_root, "US-OHI", "mes", "machine_states")
        if row["started_at_local"] == dt.datetime(2026, 6, 15, 23, 0)
    ]
    assert {row["state_local_code"] for row in night} == {"No operator"}
    assert all(row["ended_at_local"] == dt.datetime(2026, 6, 16, 6, 0) for row in night)


# --- timelines and counts ---------------------------------------------------------------------------------------


def test_state_timelines_are_gap_free_and_cover_every_shift(all_plants_root: Path) -> None:
    for plant_id in plant_ids(all_plants_root):
        shifts = _calendar(all_plants_root, plant_id)
        by_asset = defaultdict(list)
        for row in read_extract(all_plants_root, plant_id, "mes", "machine_states"):
            by_asset[row["asset_local_id"]].append(row)
        assert len(by_asset) == 2
        for events in by_asset.values():
            assert all(event["started_at_local"] < event["ended_at_local"] for event in events)
            assert all(a["ended_at_local"] == b["started_at_local"] for a, b in itertools.pairwise(events))
            assert events[0]["started_at_local"] <= shifts[0]["started_at_local"]
            assert events[-1]["ended_at_local"] >= shifts[-1]["ended_at_local"]


def test_count_intervals_never_cross_a_shift_boundary(all_plants_root: Path) -> None:
    for plant_id in plant_ids(all_plants_root):
        shifts = _calendar(all_plants_root, plant_id)
        intervals = read_extract(all_plants_root, plant_id, "mes", "production_counts")
        assert intervals
        for interval in intervals:
            [shift] = [s for s in shifts if s["started_at_local"] <= interval["interval_start_local"] < s["ended_at_local"]]
            assert interval["interval_start_local"] < interval["interval_end_local"] <= shift["ended_at_local"]
            assert interval["produced_qty"] == interval["good_qty"] + interval["scrap_qty"] + interval["rework_qty"]
            assert min(interval["good_qty"], interval["scrap_qty"], interval["rework_qty"]) >= 0


# --- ground truth -------------------------------------------------------------------------------------------------


def test_time_elements_close_for_every_asset_shift(all_plants_root: Path) -> None:
    rows = truth(all_plants_root, "asset_shift")
    assert len(rows) == 2 * 2 * (3 + 2 + 3 + 2)  # 2 assets, 2 days, shifts per day per plant
    for row in rows:
        assert row["pbt_s"] == row["apt_s"] + row["aust_s"] + row["adet_s"] + row["adot_s"]
        assert row["pot_s"] == row["pbt_s"] + row["pdot_s"]
        assert row["pot_s"] == (row["shift_ended_at"] - row["shift_started_at"]).total_seconds()
        assert row["aupt_s"] == row["apt_s"] + row["aust_s"] and row["aubt_s"] == row["aupt_s"] + row["adet_s"]
        assert row["adet_s"] == row["breakdown_s"] + row["minor_stop_s"]
        assert row["pdot_s"] >= 1800  # at least one 30 min break per shift


def test_ground_truth_kpis_follow_their_definitions(ci_root: Path) -> None:
    for row in truth(ci_root, "asset_shift"):
        factors = (row["availability"], row["effectiveness"], row["quality_ratio"])
        assert all(factor is not None and 0 <= factor <= 1 for factor in factors)
        assert row["oee"] == pytest.approx(math.prod(factors), rel=1e-12)
        assert row["pri_gq_s"] + row["pri_sq_s"] + row["pri_rq_s"] == pytest.approx(row["pri_pq_s"], rel=1e-12)
        assert row["availability"] == row["apt_s"] / row["pbt_s"]
        assert row["nee"] == pytest.approx(row["aupt_s"] / row["pbt_s"] * row["effectiveness"] * row["quality_ratio"])
        assert row["technical_efficiency"] == row["apt_s"] / (row["apt_s"] + row["adet_s"])
        assert row["setup_rate"] == row["aust_s"] / row["aupt_s"]
        assert row["scrap_ratio"] == row["sq"] / row["pq"] and row["first_pass_yield"] == row["gq"] / row["pq"]
        assert 0.75 <= row["effectiveness"] <= 0.98


def test_kpi_rules_for_empty_denominators() -> None:
    idle = compute_kpis(pbt_s=3600.0, apt_s=0.0, pri_pq_s=0.0, pq=0, gq=0)
    assert (idle.availability, idle.effectiveness, idle.quality_ratio, idle.oee) == (0.0, None, None, 0.0)
    ran_but_nothing_out = compute_kpis(pbt_s=3600.0, apt_s=600.0, pri_pq_s=0.0, pq=0, gq=0)
    assert ran_but_nothing_out.effectiveness == 0.0 and ran_but_nothing_out.quality_ratio is None
    assert ran_but_nothing_out.oee == 0.0
    not_planned = compute_kpis(pbt_s=0.0, apt_s=0.0, pri_pq_s=0.0, pq=0, gq=0)
    assert (not_planned.availability, not_planned.oee) == (None, None)


def test_extracts_reproduce_the_ground_truth(all_plants_root: Path) -> None:
    """Recompute every element and quantity from the landing files alone, as the pipeline will."""
    element_of = {(row.plant_id, row.local_code): row.iso_element for row in load_state_mappings()}
    state_of = {(row.plant_id, row.local_code): row.enterprise_state for row in load_state_mappings()}
    rows = {(row["asset_id"], row["shift_code"], row["shift_date"]): row for row in truth(all_plants_root, "asset_shift")}
    checked = 0
    for plant_id in plant_ids(all_plants_root):
        seconds_per_unit = {"s": 1, "min": 60}
        pri = {
            row["material_local_id"]: row["ideal_cycle_time"] * seconds_per_unit[row["ideal_cycle_time_unit"]]
            for row in read_extract(all_plants_root, plant_id, "erp", "materials")
        }
        events = read_extract(all_plants_root, plant_id, "mes", "machine_states")
        counts = read_extract(all_plants_root, plant_id, "mes", "production_counts")
        for asset in read_extract(all_plants_root, plant_id, "mes", "assets"):
            asset_id = asset["asset_local_id"]
            for shift in _calendar(all_plants_root, plant_id):
                begin, end = shift["started_at_local"], shift["ended_at_local"]
                elements, states = defaultdict(float), defaultdict(float)
                for event in (e for e in events if e["asset_local_id"] == asset_id):
                    overlap = (min(event["ended_at_local"], end) - max(event["started_at_local"], begin)).total_seconds()
                    if overlap > 0:
                        elements[element_of[plant_id, event["state_local_code"]]] += overlap
                        states[state_of[plant_id, event["state_local_code"]]] += overlap
                mine = [c for c in counts if c["asset_local_id"] == asset_id and begin <= c["interval_start_local"] < end]
                expected = rows[f"{plant_id}:{asset_id}", shift["shift_local_code"], shift["shift_date"]]
                assert expected["line_id"] == f"{plant_id}:{asset['line_local_id']}"
                for element in ("APT", "AUST", "ADET", "ADOT", "PDOT"):
                    assert elements[element] == expected[f"{element.lower()}_s"], (asset_id, shift, element)
                assert states["BREAKDOWN"] == expected["breakdown_s"]
                for column, quantity in (("pq", "produced_qty"), ("gq", "good_qty"), ("sq", "scrap_qty"), ("rq", "rework_qty")):
                    assert sum(c[quantity] for c in mine) == expected[column]
                assert sum(pri[c["material_local_id"]] * c["produced_qty"] for c in mine) == expected["pri_pq_s"]
                assert sum(pri[c["material_local_id"]] * c["good_qty"] for c in mine) == expected["pri_gq_s"]
                checked += 1
    assert checked == len(rows)


# --- sensors ----------------------------------------------------------------------------------------------------


def test_sensor_stream_equals_the_sensor_ground_truth(ci_root: Path) -> None:
    rows = truth(ci_root, "sensor_readings")
    streamed = list(iter_sensor_readings("ci"))
    assert len(streamed) == len(rows) > 0
    assert [(r.plant_id, r.asset_local_id, r.tag, r.ts, r.value) for r in streamed] == [
        (t["plant_id"], t["asset_local_id"], t["tag"], t["ts"], t["value"]) for t in rows
    ]
    assert len({(r.plant_id, r.asset_local_id, r.tag, r.ts) for r in streamed}) == len(streamed)
    assert [r.ts for r in streamed] == sorted(r.ts for r in streamed)  # published in time order


def test_sensor_messages_follow_the_documented_format() -> None:
    reading = next(iter_sensor_readings("ci"))
    assert reading.kafka_key() == f"{reading.plant_id}/{reading.asset_local_id}".encode()
    message = json.loads(reading.kafka_value())
    assert list(message) == ["plant_id", "asset_id", "tag", "ts", "value", "unit"]
    assert message["ts"] == "2026-10-24T04:00:00Z"  # DE-STR's F shift at 06:00 CEST
    assert message["asset_id"] == reading.asset_local_id and message["value"] == reading.value


def test_sensor_tags_and_units_are_each_plants_own_and_meters_never_decrease() -> None:
    units, last_energy, temperatures = defaultdict(set), {}, defaultdict(list)
    for reading in iter_sensor_readings("ci"):
        units[reading.plant_id].add((reading.tag, reading.unit))
        if reading.tag == "energy_kwh":
            key = (reading.plant_id, reading.asset_local_id)
            assert reading.value >= last_energy.get(key, 0.0)
            last_energy[key] = reading.value
        elif reading.tag == "power_kw":
            assert reading.value >= 0
        elif reading.tag.startswith("temperature"):
            temperatures[reading.plant_id].append(reading.value)
    celsius = {("temperature_c", "degC"), ("vibration_mm_s", "mm/s"), ("power_kw", "kW"), ("energy_kwh", "kWh")}
    assert units["DE-STR"] == units["MX-MTY"] == celsius
    assert units["US-OHI"] == celsius - {("temperature_c", "degC")} | {("temperature_f", "degF")}
    assert len(last_energy) == 12
    assert 65 < min(temperatures["US-OHI"]) and max(temperatures["DE-STR"]) < 75  # Fahrenheit vs Celsius ranges


# --- configuration guards -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"faults": {"duplicates": 0.1}}, "unknown fault knobs"),
        ({"faults": {"duplicate_messages": 0.9}}, "between 0 and 0.5"),
        ({"public": ["weather"]}, "unknown public datasets"),
        ({"plants": {"US-OHI": {"assets_per_line": [1]}}, "start_date": "2026-06-13"}, "no shift runs"),
        ({"plants": {"XX-NEW": {"assets_per_line": [1]}}}, "names no catalog profile"),
    ],
)
def test_bad_networks_are_refused_with_the_reason(tmp_path: Path, change: dict, message: str) -> None:
    path = write_network(tmp_path / "bad.yaml", {**ALL_PLANTS_NETWORK, **change})
    with pytest.raises(ValueError, match=message):
        generate_network(path, tmp_path / "data")
