"""Tests of the factory-network simulator (ingestion/simulator).

The extracts are read back here with a small independent reader driven only by the catalog's plant profiles, so the
tests check the files a real reader will see, not the simulator's in-memory objects. No Kafka broker is started:
publishing is covered by the lead's broker integration tests.
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

from ingestion.simulator import generate_network, iter_sensor_readings, load_plant_profiles, load_state_mappings
from ingestion.simulator.__main__ import main as cli_main
from ingestion.simulator.ground_truth import compute_kpis
from ingestion.simulator.profiles import PlantProfile

ALL_PLANTS_NETWORK = {
    "name": "all-plants",
    "seed": 7,
    "start_date": "2026-06-15",
    "days": 2,
    "sensor_interval_s": 1800,
    "plants": {
        "DE-STR": {"assets_per_line": [2], "language": "de"},
        "MX-MTY": {"assets_per_line": [1, 1], "language": "es", "cycle_time_unit": "min"},
        "SG-SIN": {"assets_per_line": [2]},
        "US-OHI": {"assets_per_line": [2]},
    },
}


@pytest.fixture(scope="module")
def ci_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ci")
    generate_network("ci", root)
    return root


@pytest.fixture(scope="module")
def all_plants_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("all_plants")
    config = root / "all_plants.yaml"
    config.write_text(yaml.safe_dump(ALL_PLANTS_NETWORK), encoding="utf-8")
    generate_network(str(config), root / "data")
    return root / "data"


@pytest.fixture(scope="module")
def profiles() -> dict[str, PlantProfile]:
    return load_plant_profiles()


# --- an independent reader of the landing files, driven by the plant profiles -------------------------------------


def read_extract(root: Path, profile: PlantProfile, source: str, table: str) -> list[dict]:
    """Rows of the plant's single file for `table`, keyed by contract column, timestamps and numbers parsed."""
    dialect = profile.extracts[source]
    spec = dialect.tables[table]
    files = sorted((root / "landing" / profile.plant_id / source).glob(spec.file_glob))
    assert len(files) == 1, files
    text = files[0].read_bytes().decode(dialect.encoding)
    if dialect.format == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=dialect.delimiter)
        records = list(reader)
    assert all(list(record) == list(spec.columns.values()) for record in records)
    rows = []
    for record in records:
        row = {contract: record[local] for contract, local in spec.columns.items()}
        for name, value in row.items():
            if name.endswith("_local"):
                row[name] = dt.datetime.strptime(value, dialect.timestamp_format)
            elif name == "shift_date":
                row[name] = dt.datetime.strptime(value, dialect.date_format).date()
            elif name.endswith("_qty"):
                row[name] = int(value)
            elif name == "ideal_cycle_time":
                row[name] = float(str(value).replace(dialect.decimal, "."))
        rows.append(row)
    return rows


def plant_ids(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "landing").iterdir())


def all_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def asset_shift(root: Path) -> list[dict]:
    return pq.read_table(root / "simulator" / "ground_truth" / "asset_shift.parquet").to_pylist()


# --- determinism ------------------------------------------------------------------------------------------------


def test_two_runs_with_the_same_seed_write_byte_identical_files(ci_root: Path, tmp_path: Path) -> None:
    generate_network("ci", tmp_path)
    first, second = all_files(ci_root), all_files(tmp_path)
    assert len(first) == 13  # 2 plants x 5 extracts + 2 ground-truth files + the manifest
    assert first == second


def test_rerun_into_the_same_root_leaves_unchanged_files_untouched(tmp_path: Path) -> None:
    generate_network("ci", tmp_path)
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if path.is_file()}
    generate_network("ci", tmp_path)
    after = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if path.is_file()}
    assert before == after


def test_switching_networks_removes_only_the_previous_runs_landing_files(tmp_path: Path) -> None:
    root = tmp_path / "data"
    config = tmp_path / "all_plants.yaml"
    config.write_text(yaml.safe_dump(ALL_PLANTS_NETWORK), encoding="utf-8")
    generate_network(str(config), root)
    foreign = root / "landing" / "SG-SIN" / "mes" / "dropped_by_a_person.jsonl"
    foreign.write_text("{}\n", encoding="utf-8")
    summary = generate_network("ci", root)
    landing = sorted(path for path in (root / "landing").rglob("*") if path.is_file())
    assert landing == sorted([*(extract.path for extract in summary.extracts), foreign])
    manifest = json.loads((root / "simulator" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["network"] == "ci" and len(manifest["files"]) == 10


def test_another_seed_gives_other_data_with_the_same_shape(ci_root: Path, tmp_path: Path) -> None:
    summary = generate_network("ci", tmp_path, seed=1)
    assert summary.seed == 1
    original, reseeded = all_files(ci_root), all_files(tmp_path)
    assert original.keys() == reseeded.keys()
    assert (
        original["landing/DE-STR/mes/zustaende_2026-06-01.csv"]
        != reseeded["landing/DE-STR/mes/zustaende_2026-06-01.csv"]
    )
    assert (
        original["landing/DE-STR/mes/schichtplan_2026-06-01.csv"]
        == reseeded["landing/DE-STR/mes/schichtplan_2026-06-01.csv"]
    )


# --- summary and file layout ------------------------------------------------------------------------------------


def test_summary_counts_match_the_files_written(tmp_path: Path, profiles: dict[str, PlantProfile]) -> None:
    summary = generate_network("ci", tmp_path)
    assert summary.plants == ("DE-STR", "MX-MTY")
    assert {plant: len(assets) for plant, assets in summary.assets.items()} == {"DE-STR": 4, "MX-MTY": 4}
    for extract in summary.extracts:
        assert extract.path.is_file()
        assert extract.rows == len(read_extract(tmp_path, profiles[extract.plant_id], extract.source, extract.table))
    assert summary.row_counts["mes/shift_calendar"] == 2 * 3 + 2 * 2  # DE-STR 3 shifts/day, MX-MTY 2, two days
    assert summary.asset_shift_rows == 4 * 6 + 4 * 4
    assert summary.sensor_readings == pq.read_metadata(summary.ground_truth["sensor_readings"]).num_rows
    # 2 days x 86400 s / 300 s samples x 4 tags x 8 assets
    assert summary.sensor_readings == 2 * 288 * 4 * 8


def test_cli_generate_writes_the_network_and_reports_progress(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["generate", "--network", "ci", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "DE-STR: 4 assets" in printed and "sensor readings" in printed
    assert (tmp_path / "landing" / "MX-MTY" / "mes" / "paros_2026-06-01.csv").is_file()


# --- dialects ---------------------------------------------------------------------------------------------------


def test_de_str_extracts_are_cp1252_with_semicolons_and_decimal_commas(ci_root: Path) -> None:
    states = (ci_root / "landing/DE-STR/mes/zustaende_2026-06-01.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        states.decode("utf-8")  # "Rüsten"/"Störung" are single cp1252 bytes, not UTF-8
    assert states.decode("cp1252").splitlines()[0] == "Anlage;Beginn;Ende;Grund"
    materials = (ci_root / "landing/DE-STR/erp/materialstamm_2026-06-01.csv").read_bytes().decode("cp1252")
    rows = list(csv.reader(io.StringIO(materials), delimiter=";"))
    assert rows[0] == ["Materialnummer", "Kurztext", "Sollzykluszeit", "Einheit"]
    cycle_times = [row[2] for row in rows[1:]]
    assert all("." not in value and "," in value for value in cycle_times)
    assert any(float(value.replace(",", ".")) % 1 for value in cycle_times)  # a fractional one, e.g. 22,5
    assert {row[3] for row in rows[1:]} == {"s"}
    first_start = states.decode("cp1252").splitlines()[1].split(";")[1]
    assert dt.datetime.strptime(first_start, "%d.%m.%Y %H:%M:%S") == dt.datetime(2026, 6, 1, 6, 0)


def test_mx_mty_reports_cycle_times_in_exact_minutes(ci_root: Path, profiles: dict[str, PlantProfile]) -> None:
    materials = read_extract(ci_root, profiles["MX-MTY"], "erp", "materials")
    assert {row["ideal_cycle_time_unit"] for row in materials} == {"min"}
    assert all((row["ideal_cycle_time"] * 4) % 1 == 0 for row in materials)  # quarters of a minute: exact floats


def test_sg_sin_extracts_are_json_lines_with_local_keys(
    all_plants_root: Path, profiles: dict[str, PlantProfile]
) -> None:
    profile = profiles["SG-SIN"]
    for table, spec in profile.extracts["mes"].tables.items():
        [path] = (all_plants_root / "landing/SG-SIN/mes").glob(spec.file_glob)
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines, table
        for line in lines:
            record = json.loads(line)
            assert list(record) == list(spec.columns.values())
    first_count = json.loads(
        (all_plants_root / "landing/SG-SIN/mes/output_2026-06-15.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert isinstance(first_count["totalCount"], int)
    assert first_count["startTime"] == "2026-06-15T07:00:00"  # shift A, naive local time


def test_every_emitted_state_code_is_in_the_governed_mapping(
    all_plants_root: Path, profiles: dict[str, PlantProfile]
) -> None:
    mapping = defaultdict(dict)
    for row in load_state_mappings():
        mapping[row.plant_id][row.local_code] = row.enterprise_state
    for plant_id in plant_ids(all_plants_root):
        codes = {
            row["state_local_code"]
            for row in read_extract(all_plants_root, profiles[plant_id], "mes", "machine_states")
        }
        assert codes <= set(mapping[plant_id]), plant_id
        states = {mapping[plant_id][code] for code in codes}
        assert {"RUNNING", "PLANNED_DOWN", "MINOR_STOP"} <= states, plant_id


# --- timeline, calendar and counts ------------------------------------------------------------------------------


def _shift_windows(root: Path, profile: PlantProfile) -> list[dict]:
    return sorted(read_extract(root, profile, "mes", "shift_calendar"), key=lambda row: row["started_at_local"])


def test_state_timelines_are_gap_free_and_cover_every_shift(
    all_plants_root: Path, profiles: dict[str, PlantProfile]
) -> None:
    for plant_id in plant_ids(all_plants_root):
        shifts = _shift_windows(all_plants_root, profiles[plant_id])
        by_asset = defaultdict(list)
        for row in read_extract(all_plants_root, profiles[plant_id], "mes", "machine_states"):
            by_asset[row["asset_local_id"]].append(row)
        assert len(by_asset) == 2
        for events in by_asset.values():
            assert all(event["started_at_local"] < event["ended_at_local"] for event in events)
            assert all(
                before["ended_at_local"] == after["started_at_local"] for before, after in itertools.pairwise(events)
            )
            assert events[0]["started_at_local"] <= shifts[0]["started_at_local"]
            assert events[-1]["ended_at_local"] >= shifts[-1]["ended_at_local"]


def test_night_shifts_crossing_midnight_last_their_full_length(
    all_plants_root: Path, profiles: dict[str, PlantProfile]
) -> None:
    expected_hours = {("DE-STR", "N"): 8, ("MX-MTY", "T2"): 12, ("SG-SIN", "C"): 8}
    for (plant_id, code), hours in expected_hours.items():
        night = [row for row in _shift_windows(all_plants_root, profiles[plant_id]) if row["shift_local_code"] == code]
        assert len(night) == 2
        for row in night:
            assert row["ended_at_local"].date() == row["shift_date"] + dt.timedelta(days=1)
            assert row["ended_at_local"] - row["started_at_local"] == dt.timedelta(hours=hours)
        truth = [
            row for row in asset_shift(all_plants_root) if row["plant_id"] == plant_id and row["shift_code"] == code
        ]
        assert truth and all(row["pot_s"] == hours * 3600 for row in truth)
        assert all(row["shift_ended_at"] - row["shift_started_at"] == dt.timedelta(hours=hours) for row in truth)


def test_count_intervals_never_cross_a_shift_boundary(all_plants_root: Path, profiles: dict[str, PlantProfile]) -> None:
    for plant_id in plant_ids(all_plants_root):
        shifts = _shift_windows(all_plants_root, profiles[plant_id])
        intervals = read_extract(all_plants_root, profiles[plant_id], "mes", "production_counts")
        assert intervals
        for interval in intervals:
            [shift] = [
                s for s in shifts if s["started_at_local"] <= interval["interval_start_local"] < s["ended_at_local"]
            ]
            assert interval["interval_start_local"] < interval["interval_end_local"] <= shift["ended_at_local"]


def test_produced_equals_good_plus_scrap_plus_rework(all_plants_root: Path, profiles: dict[str, PlantProfile]) -> None:
    for plant_id in plant_ids(all_plants_root):
        rows = read_extract(all_plants_root, profiles[plant_id], "mes", "production_counts")
        assert sum(row["produced_qty"] for row in rows) > 0
        for row in rows:
            assert row["produced_qty"] == row["good_qty"] + row["scrap_qty"] + row["rework_qty"]
            assert min(row["good_qty"], row["scrap_qty"], row["rework_qty"]) >= 0


# --- ground truth -------------------------------------------------------------------------------------------------


def test_time_elements_close_for_every_asset_shift(all_plants_root: Path) -> None:
    rows = asset_shift(all_plants_root)
    assert len(rows) == 2 * 2 * (3 + 2 + 3 + 2)  # 2 assets, 2 days, shifts per day per plant
    for row in rows:
        assert row["pbt_s"] == row["apt_s"] + row["aust_s"] + row["adet_s"] + row["adot_s"]
        assert row["pot_s"] == row["pbt_s"] + row["pdot_s"]
        assert row["pot_s"] == (row["shift_ended_at"] - row["shift_started_at"]).total_seconds()
        assert row["pdot_s"] >= 1800  # at least one 30 min break per shift


def test_ground_truth_oee_is_the_product_of_its_factors_and_within_bounds(ci_root: Path) -> None:
    rows = asset_shift(ci_root)
    for row in rows:
        factors = (row["availability"], row["effectiveness"], row["quality_ratio"])
        assert all(factor is not None and 0 <= factor <= 1 for factor in factors)
        assert row["oee"] == pytest.approx(math.prod(factors), rel=1e-12)
        assert 0 <= row["oee"] <= 1
        assert row["availability"] == row["apt_s"] / row["pbt_s"]
        assert row["quality_ratio"] == row["gq"] / row["pq"]
        assert row["pq"] == row["gq"] + row["sq"] + row["rq"]
        assert 0.75 <= row["effectiveness"] <= 0.98


def test_kpi_rules_for_empty_denominators() -> None:
    idle = compute_kpis(pbt_s=3600.0, apt_s=0.0, pri_pq_s=0.0, pq=0, gq=0)
    assert (idle.availability, idle.effectiveness, idle.quality_ratio, idle.oee) == (0.0, None, None, 0.0)
    ran_but_nothing_out = compute_kpis(pbt_s=3600.0, apt_s=600.0, pri_pq_s=0.0, pq=0, gq=0)
    assert ran_but_nothing_out.effectiveness == 0.0 and ran_but_nothing_out.quality_ratio is None
    assert ran_but_nothing_out.oee == 0.0
    not_planned = compute_kpis(pbt_s=0.0, apt_s=0.0, pri_pq_s=0.0, pq=0, gq=0)
    assert (not_planned.availability, not_planned.oee) == (None, None)


def test_extracts_reproduce_the_ground_truth(all_plants_root: Path, profiles: dict[str, PlantProfile]) -> None:
    """Recompute every element and quantity from the landing files alone, as the pipeline will."""
    element_of = {(row.plant_id, row.local_code): row.iso_element for row in load_state_mappings()}
    truth = {(row["asset_id"], row["shift_code"], row["shift_date"]): row for row in asset_shift(all_plants_root)}
    checked = 0
    for plant_id in plant_ids(all_plants_root):
        profile = profiles[plant_id]
        seconds_per_unit = {"s": 1, "min": 60}
        pri = {
            row["material_local_id"]: row["ideal_cycle_time"] * seconds_per_unit[row["ideal_cycle_time_unit"]]
            for row in read_extract(all_plants_root, profile, "erp", "materials")
        }
        events = read_extract(all_plants_root, profile, "mes", "machine_states")
        counts = read_extract(all_plants_root, profile, "mes", "production_counts")
        for asset in read_extract(all_plants_root, profile, "mes", "assets"):
            asset_id = asset["asset_local_id"]
            for shift in _shift_windows(all_plants_root, profile):
                begin, end = shift["started_at_local"], shift["ended_at_local"]
                elements = defaultdict(float)
                for event in events:
                    if event["asset_local_id"] == asset_id:
                        overlap = min(event["ended_at_local"], end) - max(event["started_at_local"], begin)
                        if overlap > dt.timedelta(0):
                            elements[element_of[plant_id, event["state_local_code"]]] += overlap.total_seconds()
                mine = [
                    c for c in counts if c["asset_local_id"] == asset_id and begin <= c["interval_start_local"] < end
                ]
                expected = truth[f"{plant_id}:{asset_id}", shift["shift_local_code"], shift["shift_date"]]
                assert expected["line_id"] == f"{plant_id}:{asset['line_local_id']}"
                for element in ("APT", "AUST", "ADET", "ADOT", "PDOT"):
                    assert elements[element] == expected[f"{element.lower()}_s"], (asset_id, shift, element)
                assert sum(c["produced_qty"] for c in mine) == expected["pq"]
                assert sum(c["good_qty"] for c in mine) == expected["gq"]
                assert sum(c["scrap_qty"] for c in mine) == expected["sq"]
                assert sum(c["rework_qty"] for c in mine) == expected["rq"]
                assert sum(pri[c["material_local_id"]] * c["produced_qty"] for c in mine) == expected["pri_pq_s"]
                checked += 1
    assert checked == len(truth)


def test_us_ohi_time_between_shifts_is_outside_every_shift(
    all_plants_root: Path, profiles: dict[str, PlantProfile]
) -> None:
    shifts = _shift_windows(all_plants_root, profiles["US-OHI"])
    assert [row["ended_at_local"] - row["started_at_local"] for row in shifts] == [dt.timedelta(hours=8.5)] * 4
    night = [
        row
        for row in read_extract(all_plants_root, profiles["US-OHI"], "mes", "machine_states")
        if row["started_at_local"] == dt.datetime(2026, 6, 15, 23, 0)
    ]
    assert {row["state_local_code"] for row in night} == {"No operator"}
    assert all(row["ended_at_local"] == dt.datetime(2026, 6, 16, 6, 0) for row in night)


# --- sensors ----------------------------------------------------------------------------------------------------


def test_sensor_stream_equals_the_sensor_ground_truth(ci_root: Path) -> None:
    truth = pq.read_table(ci_root / "simulator/ground_truth/sensor_readings.parquet").to_pylist()
    streamed = list(iter_sensor_readings("ci"))
    assert len(streamed) == len(truth)
    assert [(r.plant_id, r.asset_local_id, r.tag, r.ts, r.value) for r in streamed] == [
        (t["plant_id"], t["asset_local_id"], t["tag"], t["ts"], t["value"]) for t in truth
    ]
    assert len({(r.plant_id, r.asset_local_id, r.tag, r.ts) for r in streamed}) == len(streamed)


def test_sensor_messages_follow_the_documented_format() -> None:
    reading = next(iter_sensor_readings("ci"))
    assert reading.kafka_key() == f"{reading.plant_id}/{reading.asset_local_id}".encode()
    message = json.loads(reading.kafka_value())
    assert list(message) == ["plant_id", "asset_id", "tag", "ts", "value", "unit"]
    assert message["ts"] == "2026-06-01T04:00:00Z"  # DE-STR's F shift at 06:00 CEST
    assert message["asset_id"] == reading.asset_local_id and message["value"] == reading.value


def test_sensor_tags_have_units_and_energy_counters_never_decrease() -> None:
    units, last_energy = {}, {}
    for reading in iter_sensor_readings("ci"):
        units.setdefault(reading.tag, set()).add(reading.unit)
        if reading.tag == "energy_kwh":
            key = (reading.plant_id, reading.asset_local_id)
            assert reading.value >= last_energy.get(key, 0.0)
            last_energy[key] = reading.value
        elif reading.tag == "power_kw":
            assert reading.value >= 0
    assert units == {"temperature_c": {"degC"}, "vibration_mm_s": {"mm/s"}, "power_kw": {"kW"}, "energy_kwh": {"kWh"}}
    assert len(last_energy) == 8


# --- configuration guards -----------------------------------------------------------------------------------------


def test_a_period_with_a_dst_transition_is_refused(tmp_path: Path) -> None:
    config = dict(ALL_PLANTS_NETWORK, start_date="2026-03-28", plants={"DE-STR": {"assets_per_line": [1]}})
    path = tmp_path / "dst.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(NotImplementedError, match="DST"):
        generate_network(str(path), tmp_path / "data")


def test_profiles_load_every_catalog_plant(profiles: dict[str, PlantProfile]) -> None:
    assert sorted(profiles) == ["DE-STR", "MX-MTY", "SG-SIN", "US-OHI"]
    night = {shift.code: shift.crosses_midnight for shift in profiles["DE-STR"].shifts}
    assert night == {"F": False, "S": False, "N": True}
    assert profiles["DE-STR"].table("mes", "machine_states").columns["state_local_code"] == "Grund"
