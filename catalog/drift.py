"""Drift between the data contracts and everything that must agree with them ("check against").

``catalog/render.py`` generates what can be generated (dbt sources, seeds, KPI macros) and reports a hand edit of a
generated file. Some things are written elsewhere but must still say exactly what the contract says; this module
checks them, and ``northstar catalog render --check`` (CI) fails on any finding:

- every dbt model has a contract (silver or published), and
- the dbt model YAML of every silver and published contract (generated from it by render.py, so this catches a hand
  edit by name): the model exists, a published model lists exactly the
  contract's columns with the contract's DuckDB types and has ``contract: {enforced: true}`` (so dbt holds the SQL to
  the YAML at build time, and this check holds the YAML to the contract), not-null and key tests match;
- the compiled dbt manifest (``target/manifest.json``), when present, the same way;
- KPI columns: every column a contract marks as a KPI names a catalog KPI definition whose formula columns exist;
- the Dagster bronze assets: column schema, nullability and contract version come from the contract;
- the Great Expectations suites: columns, not-null, lower bounds and key come from the contract;
- a built warehouse (``warehouse_drift``), for the pipeline or an operator: the real columns and types.

Each finding names the file or object, the model and the column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog import CATALOG_DIR
from catalog.contracts import Contract, load_contracts, normalize_duckdb_type
from catalog.render import DBT_PROJECT_DIR, REPO_ROOT


@dataclass(frozen=True)
class Drift:
    """One disagreement between a contract and something that must follow it."""

    where: str  # file or object checked, e.g. dbt_project/models/marts/_marts__models.yml
    subject: str  # e.g. "model oee_asset_shift, column oee"
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.subject}: {self.problem}"


# --- dbt model YAML -------------------------------------------------------------------------------------------------


def dbt_test_name(test: Any) -> str:
    return test if isinstance(test, str) else next(iter(test), "")


def dbt_test_arguments(test: Any) -> dict[str, Any]:
    if isinstance(test, str):
        return {}
    body = next(iter(test.values()), None) or {}
    return body.get("arguments", body)


def _is_not_null(column: dict[str, Any]) -> tuple[bool, bool]:
    """(has a not_null constraint, has a not_null data test) of a dbt YAML column."""
    constraint = any(c.get("type") == "not_null" for c in column.get("constraints") or [])
    tested = any(dbt_test_name(t) == "not_null" for t in (column.get("data_tests") or column.get("tests") or []))
    return constraint, tested


def not_null_columns(model: dict[str, Any]) -> set[str]:
    """Columns a model-level ``columns_not_null`` test covers (one scan for all required columns of a model)."""
    return {
        name
        for test in model.get("data_tests") or model.get("tests") or []
        if dbt_test_name(test).split(".")[-1] == "columns_not_null"
        for name in dbt_test_arguments(test).get("column_names", [])
    }


def _with_model_not_null(columns: dict[str, dict[str, Any]], covered: set[str]) -> dict[str, dict[str, Any]]:
    """The columns, a covered one carrying a not_null test as if declared on the column."""
    return {
        name: {**column, "data_tests": [*(column.get("data_tests") or column.get("tests") or []), "not_null"]}
        if name in covered else column
        for name, column in columns.items()
    }


def declared_keys(model: dict[str, Any]) -> list[list[str]]:
    """Keys the model's tests declare unique: compound (unique_combination_of_columns) or single (unique)."""
    keys = []
    for test in model.get("data_tests") or model.get("tests") or []:
        if dbt_test_name(test).split(".")[-1] == "unique_combination_of_columns":
            keys.append(list(dbt_test_arguments(test).get("combination_of_columns", [])))
    for column in model.get("columns") or []:
        if any(dbt_test_name(t) == "unique" for t in (column.get("data_tests") or column.get("tests") or [])):
            keys.append([column["name"]])
    return keys


def _enforced(config: dict[str, Any] | None) -> bool:
    contract = (config or {}).get("contract") or {}
    return bool(contract.get("enforced"))


def dbt_model_yaml(dbt_project_dir: Path) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    """Every model entry of the project's YAML files, by model name (a list, to catch duplicates)."""
    models: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path in sorted((dbt_project_dir / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            models.setdefault(model["name"], []).append((path, model))
    return models


def _compare_columns(
    contract: Contract,
    declared: dict[str, dict[str, Any]],
    *,
    where: str,
    model: str,
    complete: bool,
    enforced_constraints: bool,
) -> list[Drift]:
    """Columns of a dbt model (YAML or manifest) against the contract.

    ``complete``: the model must list every contract column and no other (published models); otherwise only the
    columns it lists are checked (silver models document a few columns).
    """
    drifts = []
    contract_columns = {c.name: c for c in contract.columns}
    if complete:
        for name in contract_columns:
            if name not in declared:
                drifts.append(Drift(where, f"model {model}, column {name}", f"missing; contract {contract.id} has it"))
    for name, column in declared.items():
        subject = f"model {model}, column {name}"
        expected = contract_columns.get(name)
        if expected is None:
            drifts.append(Drift(where, subject, f"not in contract {contract.id}"))
            continue
        data_type = column.get("data_type")
        if data_type is None:
            if complete:
                drifts.append(
                    Drift(where, subject, f"no data_type; contract {contract.id} says {expected.duckdb_type}")
                )
        elif normalize_duckdb_type(str(data_type)) != expected.duckdb_type:
            drifts.append(
                Drift(where, subject, f"data_type {data_type}; contract {contract.id} says {expected.duckdb_type}")
            )
        constraint, tested = _is_not_null(column)
        if expected.required and complete and not (constraint or tested):
            drifts.append(Drift(where, subject, f"no not_null constraint or test; contract {contract.id} requires it"))
        if constraint and enforced_constraints and not expected.required:
            drifts.append(Drift(where, subject, f"not_null constraint; contract {contract.id} does not require it"))
    return drifts


def dbt_model_drift(contracts: Iterable[Contract], dbt_project_dir: Path = DBT_PROJECT_DIR) -> list[Drift]:
    """The dbt model YAML of every warehouse contract against the contract."""
    models = dbt_model_yaml(dbt_project_dir)
    drifts = []
    for contract in contracts:
        if not contract.in_warehouse:
            continue
        published = contract.layer == "published"
        entries = models.get(contract.table, [])
        if not entries:
            drifts.append(
                Drift(
                    _rel(dbt_project_dir / "models"),
                    f"model {contract.table}",
                    f"no YAML declares the model of contract {contract.id}",
                )
            )
            continue
        if len(entries) > 1:
            files = ", ".join(_rel(p) for p, _ in entries)
            drifts.append(Drift(files, f"model {contract.table}", "declared in more than one YAML file"))
        path, model = entries[0]
        where = _rel(path)
        if published and not _enforced(model.get("config")):
            drifts.append(
                Drift(where, f"model {contract.table}", "published model without config: contract: {enforced: true}")
            )
        declared = _with_model_not_null({c["name"]: c for c in model.get("columns") or []}, not_null_columns(model))
        drifts += _compare_columns(
            contract, declared, where=where, model=contract.table, complete=published, enforced_constraints=published
        )
        keys = declared_keys(model)
        if contract.primary_key and (published or keys) and sorted(contract.primary_key) not in map(sorted, keys):
            drifts.append(
                Drift(
                    where,
                    f"model {contract.table}",
                    f"no uniqueness test on the contract key {contract.primary_key} (declared: {keys or 'none'})",
                )
            )
    return drifts


def uncontracted_models(contracts: Iterable[Contract], dbt_project_dir: Path = DBT_PROJECT_DIR) -> list[Drift]:
    """Every dbt model is a dataset and has a contract (draft one with `northstar catalog scaffold <model>`)."""
    contracted = {c.table for c in contracts if c.in_warehouse}
    return [
        Drift(_rel(sql), f"model {sql.stem}", f"no contract (draft it: `northstar catalog scaffold {sql.stem}`)")
        for sql in sorted((dbt_project_dir / "models").rglob("*.sql"))
        if sql.stem not in contracted
    ]


def manifest_drift(contracts: Iterable[Contract], manifest_path: Path) -> list[Drift]:
    """The compiled manifest's models against the contracts (the YAML as dbt last parsed it)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = {n["name"]: n for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model"}
    # Data tests are nodes of their own in the manifest; attach each not_null test to its model column.
    not_null_tested = set()
    for n in manifest.get("nodes", {}).values():
        metadata = n.get("test_metadata") or {}
        if n.get("resource_type") != "test":
            continue
        if metadata.get("name") == "not_null":
            not_null_tested.add((n.get("attached_node"), n.get("column_name")))
        elif metadata.get("name") == "columns_not_null":
            names = (metadata.get("kwargs") or {}).get("column_names") or []
            not_null_tested.update((n.get("attached_node"), name) for name in names)
    where = f"{_rel(manifest_path)} (run `dbt parse` if it is stale)"
    drifts = []
    for contract in contracts:
        if not contract.in_warehouse:
            continue
        node = nodes.get(contract.table)
        if node is None:
            drifts.append(Drift(where, f"model {contract.table}", f"not in the manifest (contract {contract.id})"))
            continue
        published = contract.layer == "published"
        if published and not _enforced(node.get("config")):
            drifts.append(Drift(where, f"model {contract.table}", "contract not enforced"))
        columns = {
            name: {**column, "data_tests": ["not_null"] if (node["unique_id"], name) in not_null_tested else []}
            for name, column in (node.get("columns") or {}).items()
        }
        drifts += _compare_columns(
            contract,
            columns,
            where=where,
            model=contract.table,
            complete=published,
            enforced_constraints=published,
        )
    return drifts


# --- KPI definitions ------------------------------------------------------------------------------------------------


def _kpi_formula_columns(kpi: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> set[str]:
    """Element columns a KPI is computed from: ratio terms are columns joined by '+'; products add their basis and
    their factors' columns."""
    formula = kpi.get("formula") or {}
    ratios = [formula] if formula.get("kind") == "ratio" else [formula.get("basis") or {}]
    columns: set[str] = set()
    for ratio in ratios:
        for side in ("numerator", "denominator"):
            if ratio.get(side):
                columns |= {term.strip() for term in str(ratio[side]).split("+")}
    for factor in formula.get("factors", []) if formula.get("kind") != "ratio" else []:
        if factor in kpis:
            columns |= _kpi_formula_columns(kpis[factor], kpis)
    return columns


def kpi_drift(contracts: Iterable[Contract], kpi_dir: Path) -> list[Drift]:
    """KPI columns of the contracts name existing KPI definitions, and the table has every column they use."""
    kpis = {}
    for path in sorted(kpi_dir.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        kpis[document["id"]] = document
    drifts = []
    for contract in contracts:
        where = _rel(contract.file)
        for column in contract.columns:
            if not column.kpi:
                continue
            subject = f"contract {contract.id}, column {column.name}"
            if column.kpi not in kpis:
                drifts.append(
                    Drift(where, subject, f"names KPI {column.kpi!r}, which has no definition in {_rel(kpi_dir)}")
                )
                continue
            missing = sorted(_kpi_formula_columns(kpis[column.kpi], kpis) - set(contract.column_names))
            if missing:
                drifts.append(Drift(where, subject, f"KPI {column.kpi} is computed from {missing}, not in the table"))
    return drifts


# --- Dagster bronze assets and Great Expectations suites ------------------------------------------------------------


def _schema_columns(value: Any) -> list[Any]:
    schema = getattr(value, "schema", value)  # TableSchemaMetadataValue or TableSchema
    return list(getattr(schema, "columns", []) or [])


def dagster_asset_drift(contracts: Iterable[Contract], assets: Iterable[Any] | None = None) -> list[Drift]:
    """The bronze Dagster assets' column schema, nullability and contract version against the contracts.

    ``assets`` defaults to the definitions the pipeline loads (``orchestration.defs.ingestion.bronze_assets``);
    imported here, not at module level, because the catalog itself never depends on Dagster.
    """
    if assets is None:
        from orchestration.defs.ingestion import bronze_assets

        assets = bronze_assets()
    specs = {tuple(spec.key.path): spec for asset in assets for spec in asset.specs}
    drifts = []
    bronze = [c for c in contracts if c.layer == "bronze"]
    for contract in bronze:
        key = "/".join(contract.asset_key)
        where = f"Dagster asset {key}"
        spec = specs.get(tuple(contract.asset_key))
        if spec is None:
            drifts.append(Drift(where, f"contract {contract.id}", "no asset with this key"))
            continue
        metadata = spec.metadata or {}
        version = getattr(metadata.get("contract_version"), "value", metadata.get("contract_version"))
        if version != contract.version:
            drifts.append(Drift(where, "metadata contract_version", f"{version!r}; contract says {contract.version!r}"))
        columns = _schema_columns(metadata.get("dagster/column_schema"))
        names = [c.name for c in columns]
        if names != contract.column_names:
            drifts.append(
                Drift(where, "column schema", f"columns {names}; contract {contract.id} has {contract.column_names}")
            )
            continue
        for column, expected in zip(columns, contract.columns):
            subject = f"column {column.name}"
            if column.type != str(expected.arrow_type):
                drifts.append(Drift(where, subject, f"type {column.type}; contract says {expected.arrow_type}"))
            nullable = getattr(getattr(column, "constraints", None), "nullable", True)
            if nullable == expected.required:
                drifts.append(Drift(where, subject, f"nullable={nullable}; contract required={expected.required}"))
    known = {tuple(c.asset_key) for c in bronze}
    for key in sorted(k for k in specs if k and k[0] == "bronze" and k not in known):
        drifts.append(Drift(f"Dagster asset {'/'.join(key)}", "asset", "bronze asset without a contract"))
    return drifts


def quality_suite_drift(
    contracts: Iterable[Contract], build_suite: Callable[[Contract], Any] | None = None
) -> list[Drift]:
    """The Great Expectations suite of every bronze contract expects exactly what the contract says."""
    if build_suite is None:
        from quality.suites import suite_for_contract

        build_suite = suite_for_contract
    drifts = []
    for contract in contracts:
        if contract.layer != "bronze":
            continue
        try:
            suite = build_suite(contract)
        except Exception as exc:  # noqa: BLE001 (any failure to build the suite is a finding, not a crash)
            problem = "cannot be built from the contract: " + " ".join(str(exc).split())
            drifts.append(Drift(f"GE suite of {contract.id}", "suite", problem))
            continue
        where = f"GE suite {suite.name}"
        found: dict[str, list[Any]] = {}
        for expectation in suite.expectations:
            found.setdefault(type(expectation).__name__, []).append(expectation)
        column_sets = [sorted(e.column_set) for e in found.get("ExpectTableColumnsToMatchSet", [])]
        if column_sets != [sorted(contract.column_names)]:
            drifts.append(
                Drift(where, "table columns", f"{column_sets}; contract {contract.id} has {contract.column_names}")
            )
        not_null = sorted(e.column for e in found.get("ExpectColumnValuesToNotBeNull", []))
        required = sorted(c.name for c in contract.columns if c.required)
        if not_null != required:
            drifts.append(Drift(where, "not-null columns", f"{not_null}; contract requires {required}"))
        bounds = sorted((e.column, e.min_value) for e in found.get("ExpectColumnValuesToBeBetween", []))
        minimums = sorted((c.name, c.minimum) for c in contract.columns if c.minimum is not None)
        if bounds != minimums:
            drifts.append(Drift(where, "lower bounds", f"{bounds}; contract says {minimums}"))
        keys = [list(e.column_list) for e in found.get("ExpectCompoundColumnsToBeUnique", [])]
        keys += [[e.column] for e in found.get("ExpectColumnValuesToBeUnique", [])]
        if keys != ([contract.primary_key] if contract.primary_key else []):
            drifts.append(Drift(where, "key", f"{keys}; contract key is {contract.primary_key}"))
        if not suite.name.endswith(f"v{contract.version}"):
            drifts.append(Drift(where, "suite name", f"does not carry contract version {contract.version}"))
        drifts += _quality_rule_drift(contract, where)
    return drifts


def _quality_rule_drift(contract: Contract, where: str) -> list[Drift]:
    """The contract's custom quality rules (quality/rules.py) name columns that exist, here and in master data."""
    from quality.rules import contract_rules

    try:
        rules = contract_rules(contract)
    except (KeyError, ValueError) as exc:
        return [Drift(where, "quality rule", " ".join(str(exc).split()))]
    contracts = load_contracts()
    drifts = []
    for rule in rules:
        named = [rule.column] + [c for k in ("per", "day", "code", "asset", "start") if k in rule.params
                                 for c in ([rule.params[k]] if isinstance(rule.params[k], str) else rule.params[k])]
        named += list(rule.params.get("where") or {})
        drifts += [Drift(where, f"quality rule {rule.name}", f"column {c!r} is not in contract {contract.id}")
                   for c in named if c is not None and c not in contract.column_names]
        if "references" in rule.params:
            target, _, column = str(rule.params["references"]).rpartition(".")
            if target not in contracts or column not in contracts[target].column_names:
                drifts.append(Drift(where, f"quality rule {rule.name}", f"references {rule.params['references']!r}, "
                                    "which is no contract column"))
    return drifts


# --- a built warehouse ----------------------------------------------------------------------------------------------


def warehouse_drift(connection: Any, contracts: Iterable[Contract]) -> list[Drift]:
    """The tables and views dbt built (DuckDB ``information_schema``) against the warehouse contracts."""
    drifts = []
    for contract in contracts:
        if not contract.in_warehouse:
            continue
        schema, table = contract.path.split(".", 1)
        rows = connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        where = f"warehouse {contract.path}"
        if not rows:
            drifts.append(Drift(where, f"model {contract.table}", "not built"))
            continue
        built = {name: normalize_duckdb_type(data_type) for name, data_type in rows}
        for column in contract.columns:
            if column.name not in built:
                drifts.append(Drift(where, f"column {column.name}", f"missing; contract {contract.id} has it"))
            elif built[column.name] != column.duckdb_type:
                drifts.append(
                    Drift(
                        where, f"column {column.name}", f"type {built[column.name]}; contract says {column.duckdb_type}"
                    )
                )
        for name in built.keys() - set(contract.column_names):
            drifts.append(Drift(where, f"column {name}", f"not in contract {contract.id}"))
    return drifts


# --- everything -----------------------------------------------------------------------------------------------------


def check_all(
    *,
    catalog_dir: Path = CATALOG_DIR,
    dbt_project_dir: Path = DBT_PROJECT_DIR,
    include_pipeline: bool = True,
) -> list[Drift]:
    """Every drift check that needs no data: dbt YAML, manifest (if compiled), KPI references, and with
    ``include_pipeline`` the Dagster bronze assets and GE suites built from the contracts in ``catalog_dir``."""
    contracts = list(load_contracts(catalog_dir / "contracts").values())
    drifts = dbt_model_drift(contracts, dbt_project_dir) + uncontracted_models(contracts, dbt_project_dir)
    manifest = dbt_project_dir / "target" / "manifest.json"
    if manifest.is_file():
        drifts += manifest_drift(contracts, manifest)
    drifts += kpi_drift(contracts, catalog_dir / "kpis")
    if include_pipeline:
        drifts += dagster_asset_drift(contracts)
        drifts += quality_suite_drift(contracts)
    return drifts


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
