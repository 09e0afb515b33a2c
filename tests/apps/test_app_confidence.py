"""When a KPI value is low confidence: coverage below the catalog threshold, stale beyond the contract SLA, or
failed row checks; and the policy read from `catalog/apps.yaml` and the contracts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from app_fixtures import APPS_CONFIG

from apps.app_config import load_app_config
from apps.confidence import ConfidencePolicy, assess, cells_by, confidence_policy, rate

POLICY = ConfidencePolicy(min_coverage=0.9, freshness_sla=timedelta(hours=24), freshness_contract="bronze.mes.x")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LAST_SHIFT_ENDED_AT = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def verdict(**row: object) -> tuple[bool, str]:
    fields = {
        "coverage": 1.0,
        "freshness_at": LAST_SHIFT_ENDED_AT + timedelta(minutes=20),
        "checks_passed": True,
        "period_ended_at": LAST_SHIFT_ENDED_AT,
    }
    assessment = assess(**(fields | row), policy=POLICY, now=NOW)
    return assessment.is_low, assessment.text


def test_the_policy_takes_the_threshold_from_the_catalog_and_the_sla_from_the_contracts() -> None:
    policy = confidence_policy(load_app_config(APPS_CONFIG))

    assert policy.min_coverage == yaml.safe_load(APPS_CONFIG.read_text())["confidence"]["min_coverage"]
    assert policy.freshness_sla == timedelta(hours=24)  # slaProperties freshness of the MES contracts
    assert policy.freshness_contract.startswith("bronze.mes.")


def test_the_strictest_sla_of_the_named_contracts_applies(tmp_path: Path) -> None:
    document = yaml.safe_load(APPS_CONFIG.read_text())
    document["confidence"]["freshness_contracts"] = ["bronze.mes.machine_states", "bronze.sensor.readings"]
    (tmp_path / "apps.yaml").write_text(yaml.safe_dump(document))

    policy = confidence_policy(load_app_config(tmp_path / "apps.yaml"))

    assert (policy.freshness_contract, policy.freshness_sla) == ("bronze.sensor.readings", timedelta(hours=1))


def test_a_contract_the_settings_name_must_exist(tmp_path: Path) -> None:
    document = yaml.safe_load(APPS_CONFIG.read_text())
    document["confidence"]["freshness_contracts"] = ["bronze.mes.nonexistent"]
    (tmp_path / "apps.yaml").write_text(yaml.safe_dump(document))

    with pytest.raises(ValueError, match="bronze.mes.nonexistent"):
        confidence_policy(load_app_config(tmp_path / "apps.yaml"))


def test_a_fresh_fully_covered_checked_value_is_confident_and_says_so() -> None:
    is_low, text = verdict()

    assert not is_low
    assert text.startswith("Confidence OK.") and "coverage 100%" in text and "row checks passed" in text


def test_coverage_below_the_threshold_is_low_confidence() -> None:
    is_low, text = verdict(coverage=0.8)

    assert is_low
    assert "coverage 80% of planned time is below the 90% minimum" in text


def test_a_value_computed_from_part_of_its_last_shift_is_stale_once_the_sla_passed() -> None:
    # ingested mid-shift; the rest of the shift's rows never arrived
    ingested_mid_shift = {"freshness_at": NOW - timedelta(hours=30), "period_ended_at": NOW - timedelta(hours=26)}
    assert verdict(freshness_at=NOW - timedelta(hours=23), period_ended_at=NOW + timedelta(hours=1))[0] is False

    is_low, text = verdict(**ingested_mid_shift)

    assert is_low
    assert "stale: its inputs were last ingested 30 h ago, before its last shift ended (freshness SLA 24 h" in text


def test_a_value_ingested_after_its_last_shift_ended_stays_fresh_however_old() -> None:
    # The demo loads history at once: a day of October ingested in November is complete, not stale.
    october = datetime(2026, 10, 24, 22, tzinfo=UTC)

    assert verdict(freshness_at=october + timedelta(days=20), period_ended_at=october)[0] is False


def test_failed_or_unknown_row_checks_are_low_confidence() -> None:
    assert "failed the row checks" in verdict(checks_passed=False)[1]
    assert "row-check status is unknown" in verdict(checks_passed=None)[1]


def test_a_value_without_coverage_is_not_judged_on_it() -> None:
    is_low, text = verdict(coverage=None)

    assert not is_low and "coverage not applicable" in text


def test_rating_adds_the_verdict_to_every_row_and_keys_cells() -> None:
    rows = pd.DataFrame(
        {
            "kpi_id": ["oee", "oee"],
            "plant_id": ["DE-STR", "MX-MTY"],
            "value": [0.74, 0.76],
            "coverage": [1.0, 0.6],
            "freshness_at": [NOW - timedelta(hours=1)] * 2,
            "checks_passed": [True, True],
            "period_ended_at": [NOW - timedelta(hours=2)] * 2,
        }
    )

    cells = cells_by(rate(rows, POLICY, now=NOW), "kpi_id", "plant_id")

    assert cells[("oee", "DE-STR")].is_low_confidence is False
    monterrey = cells[("oee", "MX-MTY")]
    assert (monterrey.value, monterrey.is_low_confidence) == (0.76, True)
    assert "coverage 60%" in monterrey.confidence
