"""The Dagster definitions: load cleanly, and the graph runs from Kafka and the extracts to the published mart."""

from __future__ import annotations

import warnings

import dagster as dg

from catalog.contracts import load_contracts


def _load():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from orchestration.definitions import defs

        repo = defs.get_repository_def()
    # Pydantic's own deprecations raised inside dagster's code (they appear when GE loaded pydantic first) are about the
    # library, not about our definitions; every other warning from dagster or our code fails the test.
    relevant = [
        w for w in caught
        if ("dagster" in str(w.filename) or "orchestration" in str(w.filename))
        and not w.category.__name__.startswith("Pydantic")
    ]
    return defs, repo, relevant


def test_definitions_load_without_warnings():
    _, repo, caught = _load()
    assert not caught, [str(w.message) for w in caught]
    assert repo.get_job("northstar_main")


def test_every_bronze_contract_is_an_asset_with_a_blocking_ge_check():
    _, repo, _ = _load()
    graph = repo.asset_graph
    for contract in load_contracts().values():
        if contract.layer != "bronze":
            continue  # silver and published contracts describe dbt models, checked by catalog/drift.py
        key = dg.AssetKey(contract.asset_key)
        assert graph.has(key), key
        checks = [c for c in graph.asset_check_keys if c.asset_key == key and c.name == "contract_suite"]
        assert checks, key
        assert graph.get_check_spec(checks[0]).blocking


def test_published_mart_depends_on_the_sensor_stream_and_the_extracts():
    _, repo, _ = _load()
    graph = repo.asset_graph
    mart = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "oee_asset_shift")
    upstream = graph.get(mart).parent_keys
    seen, frontier = set(), list(upstream)
    while frontier:
        key = frontier.pop()
        if key in seen:
            continue
        seen.add(key)
        frontier.extend(graph.get(key).parent_keys)
    for path in (["bronze", "mes", "machine_states"], ["bronze", "mes", "production_counts"],
                 ["bronze", "mes", "shift_calendar"], ["bronze", "erp", "materials"]):
        assert dg.AssetKey(path) in seen, path
    sensor_mart = [k for k in graph.get_all_asset_keys() if "sensor" in k.path[-1] and k.path[0] != "bronze"]
    assert sensor_mart and dg.AssetKey(["bronze", "sensor", "readings"]) in graph.get(sensor_mart[0]).parent_keys | {
        p for k in graph.get(sensor_mart[0]).parent_keys for p in graph.get(k).parent_keys
    }


def test_asset_graph_snapshot():
    """The graph must not change by accident: update this list deliberately when adding assets."""
    _, repo, _ = _load()
    keys = sorted("/".join(k.path) for k in repo.asset_graph.get_all_asset_keys())
    bronze = [k for k in keys if k.startswith("bronze/")]
    assert bronze == ["bronze/ehs/incidents", "bronze/erp/materials", "bronze/erp/shipments", "bronze/erp/standard_costs",
                      "bronze/erp/supplier_quality", "bronze/erp/work_orders", "bronze/hr/attendance",
                      "bronze/hr/training", "bronze/mes/assets", "bronze/mes/local_oee_report",
                      "bronze/mes/machine_states", "bronze/mes/production_counts", "bronze/mes/shift_calendar",
                      "bronze/sensor/readings"]
    assert [k for k in keys if k.startswith("marts/")] == [
        "marts/kpi_elements_asset_shift", "marts/kpi_values", "marts/oee_asset_shift", "marts/oee_losses_asset_shift",
        "marts/oee_plant_day", "marts/oee_reconciliation_asset_shift", "marts/oee_reconciliation_plant_day",
        "marts/sqdcp_board_day", "marts/supplier_quality_plant_year"]
    assert "published/marts" in keys
    assert "oee_asset_shift" in {k.split("/")[-1] for k in keys}
    assert "oee_plant_day" in {k.split("/")[-1] for k in keys}
