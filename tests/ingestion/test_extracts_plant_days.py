"""The plant-day is the unit an extract delivery replaces, on real Delta tables.

A delivery is the set of new files and new file versions one run reads for a plant. Every day it holds (the contract's
``businessDate`` column) is replaced atomically; other days of the plant and other plants are untouched, and running
again with the same landing area changes nothing. Tables without a business date (master data) are replaced per plant.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow.compute as pc
from deltalake import DeltaTable

from catalog.contracts import get_contract
from catalog.plants import load_plants
from ingestion.extracts import business_days, ingest_table

PLANTS = {k: v for k, v in load_plants().items() if k in ("DE-STR", "MX-MTY")}
COUNTS = get_contract("bronze.mes.production_counts")  # business date: interval_start_local (a local timestamp)
CALENDAR = get_contract("bronze.mes.shift_calendar")  # business date: shift_date (a date)
MATERIALS = get_contract("bronze.erp.materials")  # master data: no business date

STR_HEADER = "Anlage;Auftrag;Material;Von;Bis;Menge;Gutmenge;Ausschuss;Nacharbeit\n"
MTY_HEADER = "equipo,orden,material,inicio,fin,producido,buenas,desecho,retrabajo\n"


def _str_counts(day: date, n: int, produced: int, first_hour: int = 6) -> str:
    """n hourly DE-STR count rows on `day` (German dialect), each producing `produced` pieces."""
    d = day.strftime("%d.%m.%Y")
    return "".join(
        f"M{i:02d};A1;MAT-1;{d} {first_hour + i:02d}:00:00;{d} {first_hour + i:02d}:59:59;{produced};{produced};0;0\n"
        for i in range(n)
    )


def _mty_counts(day: date, n: int, produced: int) -> str:
    return "".join(
        f"PR-{i:02d},OT-1,M-10,{day} {6 + i:02d}:00:00,{day} {6 + i:02d}:59:59,{produced},{produced},0,0\n"
        for i in range(n)
    )


def _write(landing: Path, rel: str, text: str, encoding: str = "cp1252") -> None:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def _table(lake: Path, contract=COUNTS) -> DeltaTable:
    return DeltaTable(str(lake / "bronze" / contract.source / contract.table))


def _plant_day(lake: Path, plant: str, day: date, contract=COUNTS) -> list[dict]:
    """The rows of one plant-day, in a stable order, with every column (ingested_at included)."""
    table = _table(lake, contract).to_pyarrow_table()
    on_day = pc.equal(pc.cast(table[contract.business_date], "date32", safe=False), day)
    rows = table.filter(pc.and_(pc.equal(table["plant_id"], plant), on_day)).to_pylist()
    return sorted(rows, key=lambda r: (r["source_file"], r["source_line"]))


D1, D2, D3 = date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)


def test_a_corrected_file_for_one_day_replaces_exactly_that_plant_day(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    _write(landing, "DE-STR/mes/mengen_2026-06-01.csv", STR_HEADER + _str_counts(D1, 4, 100))
    _write(landing, "DE-STR/mes/mengen_2026-06-02.csv", STR_HEADER + _str_counts(D2, 5, 100))
    _write(landing, "MX-MTY/mes/produccion_2026-06-02.csv", MTY_HEADER + _mty_counts(D2, 3, 50), "utf-8")
    ingest_table(COUNTS, PLANTS, landing, lake)
    d1_before = _plant_day(lake, "DE-STR", D1)
    mty_before = _plant_day(lake, "MX-MTY", D2)
    assert (len(d1_before), len(_plant_day(lake, "DE-STR", D2)), len(mty_before)) == (4, 5, 3)

    # The plant re-sends day 2 with corrected quantities and two rows fewer.
    _write(landing, "DE-STR/mes/mengen_2026-06-02.csv", STR_HEADER + _str_counts(D2, 3, 120))
    result = ingest_table(COUNTS, PLANTS, landing, lake)

    assert [(f.source_file, f.status) for f in result.plants["DE-STR"].files] == [
        ("DE-STR/mes/mengen_2026-06-02.csv", "new_version")
    ]
    assert result.plants["DE-STR"].rows_loaded == 3
    assert result.plants["MX-MTY"].skipped_unchanged
    day2 = _plant_day(lake, "DE-STR", D2)
    assert [(r["asset_local_id"], r["produced_qty"], r["source_line"]) for r in day2] == [
        ("M00", 120, 2), ("M01", 120, 3), ("M02", 120, 4)
    ]
    assert _plant_day(lake, "DE-STR", D1) == d1_before  # same rows, same ingested_at: not rewritten
    assert _plant_day(lake, "MX-MTY", D2) == mty_before  # the other plant's same day is untouched
    assert _table(lake).to_pyarrow_table().num_rows == 4 + 3 + 3

    # Running again with the same landing area is a no-op: no new Delta version, same rows.
    version = _table(lake).version()
    again = ingest_table(COUNTS, PLANTS, landing, lake)
    assert again.plants["DE-STR"].skipped_unchanged and again.plants["MX-MTY"].skipped_unchanged
    assert _table(lake).version() == version
    assert _table(lake).to_pyarrow_table().num_rows == 10
    ledger = DeltaTable(str(lake / "_meta/file_ledger")).to_pyarrow_table().sort_by("recorded_at").to_pylist()
    day2_versions = [r for r in ledger if r["source_file"] == "DE-STR/mes/mengen_2026-06-02.csv"]
    assert [(r["status"], r["rows_loaded"]) for r in day2_versions] == [("loaded", 5), ("new_version", 3)]
    assert day2_versions[1]["previous_sha256"] == day2_versions[0]["sha256"]


def test_a_redelivered_day_under_a_new_name_replaces_that_day_of_a_multi_day_file(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    history = _str_counts(D1, 2, 100) + _str_counts(D2, 2, 100) + _str_counts(D3, 2, 100)
    _write(landing, "DE-STR/mes/mengen_2026-06.csv", STR_HEADER + history)
    ingest_table(COUNTS, PLANTS, landing, lake)
    d1_before, d3_before = _plant_day(lake, "DE-STR", D1), _plant_day(lake, "DE-STR", D3)

    _write(landing, "DE-STR/mes/mengen_2026-06-02_korrektur.csv", STR_HEADER + _str_counts(D2, 3, 90))
    result = ingest_table(COUNTS, PLANTS, landing, lake)

    assert {f.source_file: f.status for f in result.plants["DE-STR"].files} == {
        "DE-STR/mes/mengen_2026-06-02_korrektur.csv": "loaded"
    }
    day2 = _plant_day(lake, "DE-STR", D2)
    assert {r["source_file"] for r in day2} == {"DE-STR/mes/mengen_2026-06-02_korrektur.csv"}
    assert [r["produced_qty"] for r in day2] == [90, 90, 90]
    assert _plant_day(lake, "DE-STR", D1) == d1_before and _plant_day(lake, "DE-STR", D3) == d3_before
    assert _table(lake).to_pyarrow_table().num_rows == 2 + 3 + 2


def test_a_file_spanning_two_days_replaces_both_days_and_no_other(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    for day in (D1, D2, D3):
        _write(landing, f"DE-STR/mes/mengen_{day}.csv", STR_HEADER + _str_counts(day, 3, 100))
    ingest_table(COUNTS, PLANTS, landing, lake)
    d3_before = _plant_day(lake, "DE-STR", D3)

    # A night-shift extract: day 1 from 22:00 to 23:59 and day 2 from 00:00; the day is the local start day.
    spanning = _str_counts(D1, 2, 70, first_hour=22) + _str_counts(D2, 1, 80, first_hour=0)
    _write(landing, "DE-STR/mes/mengen_nacht.csv", STR_HEADER + spanning)
    result = ingest_table(COUNTS, PLANTS, landing, lake)

    assert result.plants["DE-STR"].rows_loaded == 3
    assert [(r["interval_start_local"], r["produced_qty"]) for r in _plant_day(lake, "DE-STR", D1)] == [
        (datetime(2026, 6, 1, 22), 70), (datetime(2026, 6, 1, 23), 70)
    ]
    assert [(r["interval_start_local"], r["produced_qty"]) for r in _plant_day(lake, "DE-STR", D2)] == [
        (datetime(2026, 6, 2, 0), 80)
    ]
    assert _plant_day(lake, "DE-STR", D3) == d3_before
    assert business_days(COUNTS, _table(lake).to_pyarrow_table()) == [D1, D2, D3]


def test_a_date_typed_business_date_replaces_its_days(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    header = "turno,fecha,inicio,fin\n"

    def shifts(day: date, code: str) -> str:
        return f"{code},{day},{day} 06:00:00,{day} 14:00:00\n"

    _write(landing, "MX-MTY/mes/turnos_2026-06.csv", header + shifts(D1, "T1") + shifts(D2, "T1") + shifts(D3, "T1"),
           "utf-8")
    _write(landing, "DE-STR/mes/schichtplan_2026-06.csv",
           "Schicht;Datum;Beginn;Ende\nF;02.06.2026;02.06.2026 06:00:00;02.06.2026 14:00:00\n")
    ingest_table(CALENDAR, PLANTS, landing, lake)
    _write(landing, "MX-MTY/mes/turnos_2026-06-02.csv", header + shifts(D2, "A") + shifts(D2, "B"), "utf-8")
    ingest_table(CALENDAR, PLANTS, landing, lake)

    table = _table(lake, CALENDAR).to_pyarrow_table().sort_by([("plant_id", "ascending"), ("shift_date", "ascending"),
                                                             ("shift_local_code", "ascending")])
    assert list(zip(table["plant_id"].to_pylist(), table["shift_date"].to_pylist(),
                    table["shift_local_code"].to_pylist())) == [
        ("DE-STR", D2, "F"), ("MX-MTY", D1, "T1"), ("MX-MTY", D2, "A"), ("MX-MTY", D2, "B"), ("MX-MTY", D3, "T1")
    ]


def test_master_data_without_a_business_date_is_replaced_per_plant(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    header = "material,descripcion,tiempo_ciclo,unidad\n"
    _write(landing, "MX-MTY/erp/materiales_2026-06-01.csv", header + "M-10,Carcasa,12.5,s\nM-11,Brida,3,s\n", "utf-8")
    _write(landing, "DE-STR/erp/materialstamm_2026-06-01.csv",
           "Materialnummer;Kurztext;Sollzykluszeit;Einheit\nMAT-1;Gehäuse;12,5;s\n")
    ingest_table(MATERIALS, PLANTS, landing, lake)
    str_before = _table(lake, MATERIALS).to_pyarrow_table().filter(pc.field("plant_id") == "DE-STR").to_pylist()

    _write(landing, "MX-MTY/erp/materiales_2026-06-02.csv", header + "M-10,Carcasa nueva,11,s\n", "utf-8")
    result = ingest_table(MATERIALS, PLANTS, landing, lake)

    assert result.plants["MX-MTY"].rows_loaded == 1 and result.plants["DE-STR"].skipped_unchanged
    table = _table(lake, MATERIALS).to_pyarrow_table()
    mty = table.filter(pc.field("plant_id") == "MX-MTY").to_pylist()
    assert [(r["material_local_id"], r["material_name"], r["ideal_cycle_time"]) for r in mty] == [
        ("M-10", "Carcasa nueva", 11.0)
    ]
    assert table.filter(pc.field("plant_id") == "DE-STR").to_pylist() == str_before
