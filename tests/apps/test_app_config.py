"""The app's settings in `catalog/apps.yaml`: valid, consistent with the KPI definitions, the board they define, and
used only as the governance body approved them (item `apps:config`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from app_fixtures import APPS_CONFIG, KPI_CATALOG_DIR, LOWER_THRESHOLD, edit_apps_config, governed_catalog

from apps.app_config import (
    APPROVED,
    LAST_APPROVED,
    NOT_GOVERNED,
    REFUSED,
    SQDCP_LETTERS,
    app_config_in_use,
    apps_config_path,
    governed_app_config,
    load_app_config,
)
from catalog.governance import Governance, Workspace
from catalog.governance.items import APPS_ITEM

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
    monkeypatch.delenv("NORTHSTAR_CATALOG_ROOT", raising=False)

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


# --- governance: the settings are used only as approved -------------------------------------------------------------


@pytest.fixture
def in_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the loader at a governed copy of the catalog (approved, or never approved); returns the copy."""
    monkeypatch.delenv("NORTHSTAR_APPS_CONFIG", raising=False)
    monkeypatch.delenv("NORTHSTAR_GOVERNANCE_DIR", raising=False)

    def point(*, approved: bool = True) -> Path:
        catalog = governed_catalog(tmp_path, approved=approved)
        monkeypatch.setenv("NORTHSTAR_CATALOG_ROOT", str(catalog))
        return catalog

    return point


def test_the_settings_file_is_the_relocated_catalogs(in_catalog) -> None:
    catalog = in_catalog()

    assert apps_config_path() == catalog / "apps.yaml"


def test_approved_settings_are_used_as_the_file_has_them_without_a_notice(in_catalog) -> None:
    catalog = in_catalog()

    in_use = governed_app_config()

    assert (in_use.mode, in_use.state, in_use.notice) == (APPROVED, "approved", "")
    assert in_use.config == load_app_config(catalog / "apps.yaml")
    assert in_use.source == str(catalog.resolve() / "apps.yaml")


def test_edited_settings_are_ignored_for_the_last_approved_version_with_a_notice_naming_the_item(in_catalog) -> None:
    catalog = in_catalog()
    edit_apps_config(catalog, *LOWER_THRESHOLD)

    in_use = governed_app_config()

    assert (in_use.mode, in_use.state) == (LAST_APPROVED, "changed since approval")
    assert load_app_config(catalog / "apps.yaml").min_coverage == 0.75  # what the file says now
    assert in_use.config.min_coverage == 0.9  # what was approved
    assert in_use.config == load_app_config(APPS_CONFIG)
    assert in_use.source.endswith("apps.yaml as approved in P-1")
    assert in_use.notice.startswith("**`apps:config` is changed since approval**: not approved: the catalog has")
    assert "uses the last approved version (P-1, " in in_use.notice and "approved by bjorn and chen" in in_use.notice
    assert '`northstar catalog propose apps:config --as <member> -m "<reason>"`' in in_use.notice
    assert "2 members holding kpi_owner (apps domain)" in in_use.notice


def test_reverting_the_edit_restores_the_approval(in_catalog) -> None:
    catalog = in_catalog()
    edit_apps_config(catalog, *LOWER_THRESHOLD)
    assert governed_app_config().mode == LAST_APPROVED

    edit_apps_config(catalog, *reversed(LOWER_THRESHOLD))

    assert governed_app_config().mode == APPROVED


def test_never_approved_settings_are_refused_with_a_notice_saying_what_to_do(in_catalog) -> None:
    in_catalog(approved=False)

    in_use = governed_app_config()

    assert (in_use.mode, in_use.state, in_use.config) == (REFUSED, "never approved", None)
    assert in_use.notice.startswith("**`apps:config` is never approved**: not approved: apps:config")
    assert "The app shows no KPIs" in in_use.notice
    assert "To fix: propose the file as it is with `northstar catalog propose apps:config" in in_use.notice


def test_a_ledger_that_fails_verification_refuses_even_approved_settings(in_catalog) -> None:
    catalog = in_catalog()
    ledger = catalog / "governance" / "ledger.jsonl"
    ledger.write_text(ledger.read_text(encoding="utf-8").replace('"actor": "bjorn"', '"actor": "hana"'), "utf-8")

    in_use = governed_app_config()

    assert (in_use.mode, in_use.state, in_use.config) == (REFUSED, "ledger fails verification", None)
    assert "no approval can be trusted" in in_use.notice and "northstar catalog verify" in in_use.notice


def test_the_override_is_used_as_it_is_and_flagged_not_governed(
    in_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_catalog(approved=False)  # the override bypasses governance: it is used even where nothing is approved
    override = write_config(tmp_path, confidence__min_coverage=0.5)
    monkeypatch.setenv("NORTHSTAR_APPS_CONFIG", str(override))

    in_use = governed_app_config()

    assert (in_use.mode, in_use.state, in_use.source) == (NOT_GOVERNED, "not governed", str(override))
    assert in_use.config.min_coverage == 0.5
    assert in_use.notice.startswith(
        f"**Not governed:** the app settings come from `{override}` (`NORTHSTAR_APPS_CONFIG`"
    )
    assert "apps:config" in in_use.notice


def test_the_cached_settings_follow_an_edit_and_an_approval(in_catalog) -> None:
    catalog = in_catalog()
    assert app_config_in_use().mode == APPROVED

    edit_apps_config(catalog, *LOWER_THRESHOLD)
    assert (app_config_in_use().mode, app_config_in_use().config.min_coverage) == (LAST_APPROVED, 0.9)

    governance = Governance(Workspace(catalog, catalog / "governance", catalog.parent))
    proposal, _ = governance.propose(APPS_ITEM, actor="bjorn", reason="trust 75 % coverage")
    for member in ("amara", "chen"):
        governance.approve(proposal.id, actor=member, reason="ok")

    assert (app_config_in_use().mode, app_config_in_use().config.min_coverage) == (APPROVED, 0.75)


def test_approved_settings_the_app_cannot_read_are_refused_not_raised(in_catalog) -> None:
    catalog = in_catalog()
    edit_apps_config(catalog, "  default_level: month\n", "  default_level: year\n")
    governance = Governance(Workspace(catalog, catalog / "governance", catalog.parent))
    proposal, _ = governance.propose(APPS_ITEM, actor="bjorn", reason="yearly view")
    for member in ("amara", "chen"):
        governance.approve(proposal.id, actor=member, reason="ok")

    in_use = governed_app_config()

    assert (in_use.mode, in_use.state, in_use.config) == (REFUSED, "approved", None)
    assert "its approved content cannot be read by the app" in in_use.notice and "'year'" in in_use.notice
