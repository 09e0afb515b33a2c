"""A plant-local state code the catalog does not map stays visible: kept, counted, and blocking the shift whose time
elements it leaves open, never silently dropped."""

from __future__ import annotations

import pytest
from conftest import altered_fixture_plants, build_bronze, opened, prebuilt, scenario


def send_minor_stop_as_unknown_code(bronze_rows):
    (state,) = [s for s in bronze_rows["bronze.mes.machine_states"] if s["state_local_code"] == "Kurzstopp"]
    state["state_local_code"] = "Unbekannt"


@scenario("unmapped")
def _build_with_an_unknown_code(data_root):
    # the unit tests do not depend on the data: the session's main build runs them
    bronze_rows = altered_fixture_plants(send_minor_stop_as_unknown_code)
    # the OEE marts and their parents with their data tests (the unit tests run in the session's main build)
    return build_bronze(data_root, bronze_rows, "--select", "+oee_plant_day", "--exclude-resource-type", "unit_test")


@pytest.fixture(scope="module")
def unmapped():
    """The fixture plants again, with DE-STR P1's 30 min "Kurzstopp" in shift F sent as the unknown "Unbekannt"."""
    with opened(prebuilt("unmapped")) as warehouse:
        yield warehouse


def test_the_unmapped_state_is_kept_and_marked(unmapped):
    rows = unmapped.query(
        "select enterprise_state, iso_element, is_mapped from main_intermediate.int_machine_states_mapped "
        "where state_local_code = 'Unbekannt'"
    )

    assert rows == [{"enterprise_state": "UNMAPPED", "iso_element": "UNMAPPED", "is_mapped": False}]


def test_its_time_is_counted_on_its_shift(unmapped):
    rows = unmapped.query(
        "select unmapped_s, adet_s from main_intermediate.int_asset_shifts_summarized "
        "where asset_id = 'DE-STR:P1' and shift_code = 'F'"
    )

    assert rows == [{"unmapped_s": 1800.0, "adet_s": 0.0}]


def test_the_build_warns_about_the_code_and_fails_the_time_element_closure(unmapped):
    results = unmapped.results_by_node
    warning = results["accepted_values_int_machine_states_mapped_iso_element__APT__AUST__ADET__ADOT__PDOT"]
    closure = results["expression_is_true_oee_asset_shift_abs_pbt_s_apt_s_aust_s_adet_s_adot_s_1e_6"]

    assert unmapped.build.returncode == 1
    assert (warning["status"], warning["failures"]) == ("warn", 1)
    assert (closure["status"], closure["failures"]) == ("fail", 1)
    assert results["oee_plant_day"]["status"] == "skipped"
