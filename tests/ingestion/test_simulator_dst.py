"""Daylight saving time: the simulator resolves naive local time exactly as the pipeline does, so the extracts of a
period with a clock change read back (through DuckDB's `timezone()`, what dbt uses) to the instants of the truth.

The rule (ingestion/simulator/shifts.py): a repeated label (fall back) is its second occurrence, a skipped label
(spring forward) is read with the offset before the change - the later instant in both cases - and the simulator
never places a boundary in the first pass of a repeated hour.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from test_simulator_reader import read_extract, truth

from ingestion.simulator import generate_network, load_state_mappings
from ingestion.simulator.shifts import FallBackWindows, local_hour_boundaries, local_to_epoch

LABELS = [
    # (zone, naive local label): normal, repeated (fall back), skipped (spring forward), around the changes
    ("Europe/Berlin", "2026-10-25 01:59:59"),
    ("Europe/Berlin", "2026-10-25 02:00:00"),
    ("Europe/Berlin", "2026-10-25 02:30:00"),
    ("Europe/Berlin", "2026-10-25 03:00:00"),
    ("Europe/Berlin", "2026-03-29 02:30:00"),
    ("Europe/Berlin", "2026-03-29 03:00:00"),
    ("America/New_York", "2026-11-01 01:30:00"),
    ("America/New_York", "2026-03-08 02:30:00"),
    ("America/Monterrey", "2026-04-05 02:30:00"),  # no DST since 2022: an ordinary label
    ("Asia/Singapore", "2026-10-25 02:30:00"),
]


@pytest.fixture(scope="module")
def ci_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ci_dst")
    generate_network("ci", root)
    return root


def _duckdb_epoch(con: duckdb.DuckDBPyConnection, zone: str, label: str) -> int:
    return con.execute(f"select epoch(timezone('{zone}', timestamp '{label}'))::bigint").fetchone()[0]


def test_local_to_epoch_resolves_every_label_as_duckdb_does() -> None:
    con = duckdb.connect()
    for zone, label in LABELS:
        local = dt.datetime.fromisoformat(label)
        assert local_to_epoch(local, ZoneInfo(zone)) == _duckdb_epoch(con, zone, label), (zone, label)
    # The repeated 02:30 in Berlin is the second pass (CET, UTC+1): 01:30 UTC.
    assert local_to_epoch(dt.datetime(2026, 10, 25, 2, 30), ZoneInfo("Europe/Berlin")) == int(
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC).timestamp()
    )


def test_fall_back_windows_are_the_first_passes_of_repeated_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = int(dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
    windows = FallBackWindows.for_period(berlin, start, end)
    change = int(dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC).timestamp())  # 03:00 CEST -> 02:00 CET
    assert windows.windows == ((change - 3600, change),)  # the spring change repeats nothing
    assert windows.snap(change - 1) == change and windows.snap(change - 3600) == change
    assert windows.snap(change) == change and windows.snap(change - 3601) == change - 3601
    hours = local_hour_boundaries(change - 2 * 3600, change + 2 * 3600, berlin)
    labels = [dt.datetime.fromtimestamp(t, berlin).strftime("%H:%M %Z") for t in hours]
    assert labels == ["02:00 CEST", "02:00 CET", "03:00 CET"]


def test_the_october_night_shift_lasts_nine_hours_in_calendar_truth_and_counts(ci_root: Path) -> None:
    calendar = {row["shift_date"]: row for row in read_extract(ci_root, "DE-STR", "mes", "shift_calendar")
                if row["shift_local_code"] == "N"}
    night = calendar[dt.date(2026, 10, 24)]
    assert (night["started_at_local"], night["ended_at_local"]) == (
        dt.datetime(2026, 10, 24, 22, 0), dt.datetime(2026, 10, 25, 6, 0)
    )
    rows = [r for r in truth(ci_root, "asset_shift") if r["shift_code"] == "N" and r["plant_id"] == "DE-STR"]
    assert {r["shift_date"]: r["pot_s"] for r in rows} == {dt.date(2026, 10, 24): 9 * 3600.0, dt.date(2026, 10, 26): 8 * 3600.0}
    # The count interval that holds the repeated hour runs from 01:00 CEST to 02:00 CET: two hours, one label hour.
    counts = [c for c in read_extract(ci_root, "DE-STR", "mes", "production_counts")
              if c["interval_start_local"] == dt.datetime(2026, 10, 25, 1, 0)]
    assert len(counts) == 4 and all(c["interval_end_local"] == dt.datetime(2026, 10, 25, 2, 0) for c in counts)
    berlin = ZoneInfo("Europe/Berlin")
    assert {local_to_epoch(c["interval_end_local"], berlin) - local_to_epoch(c["interval_start_local"], berlin)
            for c in counts} == {7200}


def test_timelines_read_back_with_the_rule_stay_gap_free_and_ordered(ci_root: Path) -> None:
    """A boundary written in the first pass of the repeated hour would read back an hour late and break this."""
    berlin = ZoneInfo("Europe/Berlin")
    by_asset = defaultdict(list)
    for event in read_extract(ci_root, "DE-STR", "mes", "machine_states"):
        by_asset[event["asset_local_id"]].append(
            (local_to_epoch(event["started_at_local"], berlin), local_to_epoch(event["ended_at_local"], berlin))
        )
    repeated_hour_labels = 0
    for events in by_asset.values():
        assert all(start < end for start, end in events)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(events))
    for event in read_extract(ci_root, "DE-STR", "mes", "machine_states"):
        repeated_hour_labels += dt.datetime(2026, 10, 25, 2) <= event["started_at_local"] < dt.datetime(2026, 10, 25, 3)
    assert repeated_hour_labels > 0  # states do change in the repeated hour: in its second pass


def test_the_extracts_converted_with_duckdb_reproduce_the_truth_across_the_change(ci_root: Path) -> None:
    """What the dbt models do: convert every naive local time with timezone(), clip states to shifts, sum."""
    element_of = {row.local_code: row.iso_element for row in load_state_mappings() if row.plant_id == "DE-STR"}
    con = duckdb.connect()
    states = read_extract(ci_root, "DE-STR", "mes", "machine_states")
    shifts = read_extract(ci_root, "DE-STR", "mes", "shift_calendar")
    con.execute("create table states (asset varchar, s timestamp, e timestamp, code varchar)")
    con.executemany("insert into states values (?, ?, ?, ?)",
                    [(r["asset_local_id"], r["started_at_local"], r["ended_at_local"], r["state_local_code"]) for r in states])
    con.execute("create table shifts (code varchar, day date, s timestamp, e timestamp)")
    con.executemany("insert into shifts values (?, ?, ?, ?)",
                    [(r["shift_local_code"], r["shift_date"], r["started_at_local"], r["ended_at_local"]) for r in shifts])
    rows = con.execute(
        """
        with st as (select asset, code, timezone('Europe/Berlin', s) as s, timezone('Europe/Berlin', e) as e from states),
             sh as (select code, day, timezone('Europe/Berlin', s) as s, timezone('Europe/Berlin', e) as e from shifts)
        select st.asset, sh.code, sh.day, st.code,
               sum(epoch(least(st.e, sh.e)) - epoch(greatest(st.s, sh.s)))
        from st join sh on st.s < sh.e and st.e > sh.s
        group by all
        """
    ).fetchall()
    published: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for asset, shift, day, code, seconds in rows:
        published[(f"DE-STR:{asset}", shift, day)][element_of[code]] += seconds
    expected = [r for r in truth(ci_root, "asset_shift") if r["plant_id"] == "DE-STR"]
    assert len(expected) == len(published) == 4 * 6
    for row in expected:
        elements = published[(row["asset_id"], row["shift_code"], row["shift_date"])]
        for element in ("APT", "AUST", "ADET", "ADOT", "PDOT"):
            assert elements[element] == row[f"{element.lower()}_s"], (row["asset_id"], row["shift_date"], element)


def test_the_march_night_shift_lasts_seven_hours(tmp_path: Path) -> None:
    network = {
        "name": "spring", "seed": 3, "start_date": "2026-03-28", "days": 2, "sensor_interval_s": 900,
        "plants": {"DE-STR": {"assets_per_line": [1], "language": "de"}},
    }
    path = tmp_path / "spring.yaml"
    path.write_text(yaml.safe_dump(network), encoding="utf-8")
    generate_network(str(path), tmp_path / "data")
    rows = truth(tmp_path / "data", "asset_shift")
    night = [r for r in rows if r["shift_code"] == "N" and r["shift_date"] == dt.date(2026, 3, 28)]
    assert [r["pot_s"] for r in night] == [7 * 3600.0]
    assert night[0]["pbt_s"] == night[0]["apt_s"] + night[0]["aust_s"] + night[0]["adet_s"] + night[0]["adot_s"]
    counts = read_extract(tmp_path / "data", "DE-STR", "mes", "production_counts")
    skipped = [c for c in counts if c["interval_start_local"].date() == dt.date(2026, 3, 29)
               and 2 <= c["interval_start_local"].hour < 3]
    assert skipped == []  # 02:00-03:00 does not exist that night
