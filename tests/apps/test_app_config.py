"""The app's settings in `catalog/apps.yaml`: valid, consistent with the KPI definitions, and the board they define."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from app_fixtures import APPS_CONFIG, KPI_CATALOG_DIR

from apps.app_config import SQDCP_LETTERS, apps_config_path, load_app_config

CONFIG = load_app_config(APPS_CONFIG)
DEFINITIONS = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in KPI_CATALOG_DIR.glob("*.yaml")}


def write_config(directory: Path, **overrides: object) -> Path:
    document = yaml.safe_load(APPS_CONFIG.read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        document[section][key] = value
    path = directory / "apps.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_default_settings_are_the_repositorys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORTHSTAR_APPS_CONFIG", raising=False)

    assert apps_config_path() == APPS_CONFIG


def test_every_kpi_on_the_board_is_a_catalog_definition_and_appears_once() -> None:
    on_board = [kpi_id for group in CONFIG.board for kpi_id in group.kpi_ids]

    assert set(on_board) <= set(DEFINITIONS)
    assert len(on_board) == len(set(on_board))


def test_a_kpi_whose_definition_serves_an_sqdcp_letter_is_in_that_letters_group() -> None:
    letter_of_group = {kpi_id: group.letter for group in CONFIG.board for kpi_id in group.kpi_ids}
    for kpi_id, definition in DEFINITIONS.items():
        served = re.search(r"(\w+) letter of the SQDCP board", str(definition.get("usage", "")))
        if served:
            letter = next(letter for letter, name in SQDCP_LETTERS.items() if name == served.group(1))
            assert letter_of_group.get(kpi_id) == letter, kpi_id


def test_the_board_leaves_out_the_headline_and_kpis_without_values_and_shows_the_rest() -> None:
    groups = CONFIG.board_groups(
        available=["oee", "availability", "scrap_ratio", "first_pass_yield", "brand_new_kpi"],
        shown_above=["oee", "availability"],
    )

    assert [(group.title, group.kpi_ids) for group in groups] == [
        ("Q · Quality", ("first_pass_yield", "scrap_ratio")),
        ("Other governed KPIs", ("brand_new_kpi",)),
    ]


def test_every_sqdcp_letter_has_governed_kpis() -> None:
    assert CONFIG.sqdcp_letters_without_kpis() == []


def test_letters_without_a_governed_kpi_are_named(tmp_path: Path) -> None:
    document = yaml.safe_load(APPS_CONFIG.read_text(encoding="utf-8"))
    document["scorecard"]["board"] = [g for g in document["scorecard"]["board"] if g.get("letter") not in ("S", "P")]
    path = tmp_path / "apps.yaml"
    path.write_text(yaml.safe_dump(document))

    assert load_app_config(path).sqdcp_letters_without_kpis() == ["Safety", "People"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"confidence__min_coverage": 1.5}, "min_coverage"),
        ({"periods__default_level": "year"}, "levels"),
        ({"periods__levels": ["shift", "day", "month"]}, "shift codes are plant-local"),
    ],
)
def test_invalid_settings_name_their_file(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        load_app_config(write_config(tmp_path, **overrides))

    assert "apps.yaml" in str(error.value)
