"""Master-data mappings (plants, lines, assets, materials, units, machine states, sensor tags): effective-dated, and
codes that no mapping covers are counted and queued from bronze, never lost."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from catalog import CATALOG_DIR
from catalog.cli import main as catalog_main
from catalog.contracts import get_contract, load_contracts
from catalog.masterdata import (
    CODE_SOURCES,
    MAPPING_KINDS,
    MappingError,
    draft_entries,
    load_mappings,
    parse_mapping_file,
    resolve,
    unmapped_queue,
)

INGESTED_AT = dt.datetime(2026, 6, 3, 6, 0, tzinfo=dt.UTC)


def test_every_mapping_file_loads_with_its_enterprise_vocabulary():
    mappings = load_mappings()

    assert set(mappings) == set(MAPPING_KINDS)
    assert all(mappings[kind] for kind in ("plant", "line", "asset", "material", "machine_state", "unit"))
    asset = resolve("asset", "DE-STR", "A101", dt.date(2026, 6, 1))
    assert asset and asset.target == {"enterprise_asset_id": "DE-STR:A101", "asset_class": "PRESS"}
    assert resolve("unit", "MX-MTY", "min", dt.date(2026, 6, 1)).target == {"to_unit": "s", "factor": 60}


def test_every_code_source_is_a_column_of_its_contract():
    contracts = load_contracts()
    for source in CODE_SOURCES:
        names = contracts[source.contract_id].column_names
        assert source.column in names and source.seen_at in names, source


def test_a_mapping_applies_from_its_valid_from_day_without_rewriting_history(tmp_path):
    (tmp_path / "lines.yaml").write_text(
        "mappings:\n"
        '  - {plant_id: DE-STR, local_code: "L1", enterprise_line_id: "DE-STR:PRESS-1", valid_from: "2020-01-01"}\n'
        '  - {plant_id: DE-STR, local_code: "L1", enterprise_line_id: "DE-STR:PRESS-A", valid_from: "2026-07-01"}\n'
    )

    def line(day: str) -> str | None:
        entry = resolve("line", "DE-STR", "L1", dt.date.fromisoformat(day), directory=tmp_path)
        return entry.target["enterprise_line_id"] if entry else None

    assert line("2019-12-31") is None
    assert line("2026-06-30") == "DE-STR:PRESS-1"
    assert line("2026-07-01") == "DE-STR:PRESS-A"
    assert resolve("line", "MX-MTY", "L1", dt.date(2026, 7, 1), directory=tmp_path) is None  # per plant


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{plant_id: DE-STR, local_code: "A1", asset_class: PRESS, valid_from: "2020-01-01"}',
         "missing enterprise_asset_id"),
        ('{plant_id: DE-STR, local_code: "A1", enterprise_asset_id: x, asset_class: ROBOT, valid_from: "2020-01-01"}',
         "asset_class 'ROBOT' is not in enterprise_asset_classes"),
        ('{local_code: "A1", enterprise_asset_id: x, asset_class: PRESS, valid_from: "2020-01-01"}',
         "missing plant_id"),
        ('{plant_id: DE-STR, local_code: "A1", enterprise_asset_id: x, asset_class: PRESS, valid_from: "soon"}',
         "valid_from 'soon' is not a date"),
    ],
)
def test_an_invalid_mapping_entry_is_refused_naming_file_and_entry(tmp_path, entry, message):
    path = tmp_path / "assets.yaml"
    path.write_text(f"enterprise_asset_classes: {{PRESS: {{}}}}\nmappings:\n  - {entry}\n")

    with pytest.raises(MappingError, match=rf"assets.yaml: mappings\[0\]: {message}"):
        parse_mapping_file(MAPPING_KINDS["asset"], path)


def test_a_second_entry_for_the_same_code_and_day_is_refused(tmp_path):
    path = tmp_path / "lines.yaml"
    line = '  - {plant_id: DE-STR, local_code: "L1", enterprise_line_id: x, valid_from: "2020-01-01"}\n'
    path.write_text("mappings:\n" + line + line)

    with pytest.raises(MappingError, match=r"mappings\[1\]: a second entry"):
        parse_mapping_file(MAPPING_KINDS["line"], path)


# --- the unmapped queue ---------------------------------------------------------------------------------------------


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def write_bronze(data_root: Path, contract_id: str, rows: list[dict]) -> None:
    contract = get_contract(contract_id)
    rows = [{"source_file": f"{r['plant_id']}/x.csv", "source_line": i + 2, "ingested_at": INGESTED_AT, **r}
            for i, r in enumerate(rows)]
    write_deltalake(data_root / contract.path, pa.Table.from_pylist(rows, schema=contract.arrow_schema()))


def state(code: str, start: str, end: str, asset: str = "A101") -> dict:
    return {"plant_id": "DE-STR", "asset_local_id": asset, "started_at_local": local(start),
            "ended_at_local": local(end), "state_local_code": code}


@pytest.fixture
def bronze(tmp_path: Path) -> Path:
    """DE-STR machine states: mapped codes, an unknown code twice, and an asset the asset mapping does not know."""
    write_bronze(tmp_path, "bronze.mes.machine_states", [
        state("Produktion", "2026-06-01 06:00", "2026-06-01 07:00"),
        state("Unbekannt", "2026-06-01 07:00", "2026-06-01 07:30"),
        state("Produktion", "2026-06-01 07:30", "2026-06-02 06:00"),
        state("Unbekannt", "2026-06-02 06:00", "2026-06-02 06:10"),
        state("Pause", "2026-06-02 06:10", "2026-06-02 07:00", asset="A999"),
    ])
    return tmp_path


def test_unmapped_codes_are_listed_per_plant_with_counts_and_first_and_last_seen(bronze):
    queue = unmapped_queue(bronze, kinds={"machine_state", "asset"})

    assert [(c.kind, c.plant_id, c.local_code, c.source, c.rows, c.first_seen, c.last_seen) for c in queue.codes] == [
        ("asset", "DE-STR", "A999", "bronze.mes.machine_states.asset_local_id", 1,
         local("2026-06-02 06:10"), local("2026-06-02 06:10")),
        ("machine_state", "DE-STR", "Unbekannt", "bronze.mes.machine_states.state_local_code", 2,
         local("2026-06-01 07:00"), local("2026-06-02 06:00")),
    ]
    assert "bronze/mes/production_counts" in " ".join(queue.missing_tables)


def test_the_unmapped_share_per_plant_is_a_governed_metric(bronze):
    queue = unmapped_queue(bronze, kinds={"machine_state"})

    (coverage,) = queue.coverage
    assert (coverage.plant_id, coverage.rows, coverage.unmapped_rows) == ("DE-STR", 5, 2)
    assert coverage.unmapped_share == pytest.approx(0.4)


def test_a_code_counts_as_mapped_only_from_the_day_its_mapping_applies(bronze, tmp_path):
    mappings = tmp_path / "mappings"
    shutil.copytree(CATALOG_DIR / "mappings", mappings)
    path = mappings / "machine_states.yaml"
    path.write_text(path.read_text(encoding="utf-8") +
                    '  - {plant_id: DE-STR, local_code: "Unbekannt", enterprise_state: MINOR_STOP, '
                    'valid_from: "2026-06-02"}\n', encoding="utf-8")

    (code,) = unmapped_queue(bronze, mappings_dir=mappings, kinds={"machine_state"}).codes
    assert (code.local_code, code.rows, code.last_seen) == ("Unbekannt", 1, local("2026-06-01 07:00"))


def test_queued_codes_become_draft_entries_to_complete_and_propose(bronze):
    drafts = draft_entries(unmapped_queue(bronze).codes)

    assert drafts["catalog/mappings/machine_states.yaml"] == [
        "  - {plant_id: DE-STR, local_code: Unbekannt, enterprise_state: null, valid_from: '2026-06-01'}"
    ]
    assert drafts["catalog/mappings/assets.yaml"] == [
        ("  - {plant_id: DE-STR, local_code: A999, enterprise_asset_id: null, asset_class: null, "
        "valid_from: '2026-06-02'}")
    ]


def test_the_cli_prints_the_queue_and_the_drafts(bronze, capsys):
    assert catalog_main(["unmapped", "--data-root", str(bronze), "--kind", "machine_state", "--draft"]) == 0

    out = capsys.readouterr().out
    assert "machine_state  DE-STR     Unbekannt" in out and "2026-06-01 07:00:00  2026-06-02 06:00:00" in out
    assert "DE-STR     machine_state   40.00% of 5 rows" in out
    assert "northstar catalog propose mapping:machine_states" in out
