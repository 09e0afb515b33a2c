"""What depends on a governed item: assets, KPIs and app pages, derived from lineage rather than from lists.

- dbt: the compiled manifest (``dbt_project/target/manifest.json``) when present. A bronze contract starts at its dbt
  source, a warehouse contract at its model, a KPI at the models whose SQL uses its generated macro (``kpi_<id>``),
  or every KPI at the models that loop over all definitions (``kpi_definitions``: the long KPI table),
  a mapping or plant profile at the seeds rendered from it (the seed's description names its catalog file); then
  every downstream model. Without a manifest only the contracts' own KPI columns are known (the output says so).
- KPIs: a KPI depends on the KPIs it is the product of (OEE on availability, ...), so a change to availability
  also reaches every consumer of OEE.
- pages: ``apps/app_pages/*.py`` read marts through functions of ``apps/data.py`` and show KPIs by id; both are
  found by parsing the code (no page list is kept here).
"""

from __future__ import annotations

import ast
import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from catalog.contracts import Contract, load_contracts


@dataclass(frozen=True)
class Dependents:
    assets: tuple[str, ...]  # asset keys, e.g. "marts/oee_plant_day"
    kpis: tuple[str, ...]
    pages: tuple[str, ...]  # e.g. "apps/app_pages/scorecard.py"
    notes: tuple[str, ...] = ()


# --- the dbt manifest -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Manifest:
    nodes: dict[str, dict[str, Any]]  # unique_id -> node (models, seeds, sources)
    children: dict[str, list[str]]
    parents: dict[str, list[str]]


def _load_manifest(path: Path) -> _Manifest | None:
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    nodes = {k: v for k, v in raw.get("nodes", {}).items() if v.get("resource_type") in ("model", "seed", "snapshot")}
    nodes.update(raw.get("sources", {}))
    return _Manifest(nodes, raw.get("child_map", {}), raw.get("parent_map", {}))


def _asset_key(node: dict[str, Any]) -> str:
    """The Dagster asset key dagster-dbt gives a node: meta.dagster.asset_key, else [schema config, name]."""
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    key = (meta.get("dagster") or {}).get("asset_key")
    if key:
        return "/".join(key)
    if node.get("resource_type") == "source":
        return f"{node['source_name']}/{node['name']}"
    schema = (node.get("config") or {}).get("schema")
    return f"{schema}/{node['name']}" if schema else node["name"]


def _walk(manifest: _Manifest, start: Iterable[str], edges: dict[str, list[str]]) -> list[str]:
    seen: list[str] = []
    frontier = list(start)
    while frontier:
        node = frontier.pop()
        if node in seen or node not in manifest.nodes:
            continue
        seen.append(node)
        frontier.extend(edges.get(node, []))
    return seen


# Generated macros that hand a model every KPI definition at once: the long KPI table loops over all of them.
_EVERY_KPI_MACROS = {"kpi_definitions", "kpi_ranges"}


def _kpi_macros(node: dict[str, Any], known: Iterable[str]) -> set[str]:
    """The KPI definitions a node's SQL uses through the generated macros (``kpi_<id>``, its ``_numerator`` and
    ``_denominator``, or every KPI through ``kpi_definitions``); other ``kpi_*`` macros name no KPI."""
    known = set(known)
    names = {m.rsplit(".", 1)[-1] for m in (node.get("depends_on") or {}).get("macros") or []}
    if names & _EVERY_KPI_MACROS:
        return known
    stems = {n.removeprefix("kpi_").removesuffix("_numerator").removesuffix("_denominator") for n in names}
    return {stem for stem in stems if stem in known}


# --- KPIs and pages -------------------------------------------------------------------------------------------------


def _kpi_factors(kpi_dir: Path) -> dict[str, set[str]]:
    factors = {}
    for path in sorted(kpi_dir.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        factors[str(document.get("id"))] = set((document.get("formula") or {}).get("factors") or [])
    return factors


def _kpis_using(kpi_ids: set[str], factors: dict[str, set[str]]) -> set[str]:
    """The KPIs plus every KPI computed from them, transitively."""
    result = set(kpi_ids)
    changed = True
    while changed:
        changed = False
        for kpi, parts in factors.items():
            if kpi not in result and parts & result:
                result.add(kpi)
                changed = True
    return result


@dataclass(frozen=True)
class _Page:
    path: str
    marts: frozenset[str]
    kpis: frozenset[str]


def _data_functions(data_module: Path, mart_names: set[str]) -> dict[str, set[str]]:
    """Functions of apps/data.py and the marts each reads (module constants or literals naming a mart)."""
    if not data_module.is_file():
        return {}
    tree = ast.parse(data_module.read_text(encoding="utf-8"))
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            marts = set()
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and constants.get(inner.id) in mart_names:
                    marts.add(constants[inner.id])
                elif isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    marts |= {m for m in mart_names if m in inner.value}
            functions[node.name] = marts
    return functions


@cache
def _pages(apps_dir: Path, mart_names: frozenset[str], kpi_ids: frozenset[str]) -> tuple[_Page, ...]:
    functions = _data_functions(apps_dir / "data.py", set(mart_names))
    pages = []
    for path in sorted((apps_dir / "app_pages").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        marts: set[str] = set()
        kpis: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "data":
                marts |= functions.get(node.attr, set())
            elif isinstance(node, ast.Constant) and node.value in kpi_ids:
                kpis.add(node.value)
        pages.append(_Page(f"{apps_dir.name}/app_pages/{path.name}", frozenset(marts), frozenset(kpis)))
    return tuple(pages)


# --- dependents of an item ------------------------------------------------------------------------------------------


class Lineage:
    """Lineage over one checkout: catalog, dbt manifest (if compiled) and the apps."""

    def __init__(self, catalog_dir: Path, repo_root: Path) -> None:
        self.catalog_dir = catalog_dir
        self.repo_root = repo_root
        self.manifest = _load_manifest(repo_root / "dbt_project" / "target" / "manifest.json")
        self.contracts: dict[str, Contract] = dict(load_contracts(catalog_dir / "contracts"))
        self.factors = _kpi_factors(catalog_dir / "kpis")
        self.warehouse = {c.table: c for c in self.contracts.values() if c.in_warehouse}

    def _start_nodes(self, item_id: str) -> list[str]:
        if self.manifest is None:
            return []
        kind, name = item_id.split(":", 1)
        nodes = self.manifest.nodes
        if kind == "contract" and name in self.contracts:
            contract = self.contracts[name]
            key = "/".join(contract.asset_key)
            if contract.in_warehouse:
                return [
                    k for k, n in nodes.items() if n.get("resource_type") == "model" and n["name"] == contract.table
                ]
            return [k for k, n in nodes.items() if n.get("resource_type") == "source" and _asset_key(n) == key]
        if kind == "kpi":
            return [k for k, n in nodes.items() if name in _kpi_macros(n, self.factors)]
        if kind in ("mapping", "plant"):
            # render.py says in each seed's description which catalog files it is generated from
            file = f"catalog/mappings/{name}.yaml" if kind == "mapping" else f"catalog/plants/{name}.yaml"
            return [
                k
                for k, n in nodes.items()
                if n.get("resource_type") == "seed"
                and any(fnmatch.fnmatchcase(file, word.rstrip(".,")) for word in str(n.get("description", "")).split())
            ]
        return []

    def dependents(self, item_id: str) -> Dependents:
        kind, name = item_id.split(":", 1)
        notes = []
        if kind == "governance":
            return Dependents((), (), (), ("every governed item: the config decides who approves what",))
        assets: set[str] = set()
        models: set[str] = set()  # dbt model names reached
        kpis: set[str] = {name} if kind == "kpi" else set()
        if kind == "contract" and name in self.contracts:
            contract = self.contracts[name]
            assets.add("/".join(contract.asset_key))
            if contract.in_warehouse:
                models.add(contract.table)
        if kind == "plant":
            # ingestion reads the plant's extracts with the dialects of its profile
            assets |= {
                "/".join(c.asset_key) for c in self.contracts.values() if c.layer == "bronze" and c.source != "sensor"
            }
        if self.manifest is None:
            notes.append("no dbt manifest (dbt_project/target/manifest.json): dbt lineage not included")
            if kind == "kpi":
                models |= {c.table for c in self.warehouse.values() if name in c.kpi_ids}
        else:
            for unique_id in _walk(self.manifest, self._start_nodes(item_id), self.manifest.children):
                node = self.manifest.nodes[unique_id]
                assets.add(_asset_key(node))
                if node.get("resource_type") == "model":
                    models.add(node["name"])
                    if kind != "kpi":  # a KPI reaches the KPIs computed from it, not every KPI of its models
                        kpis |= _kpi_macros(node, self.factors)
        assets |= {"/".join(self.warehouse[m].asset_key) for m in models if m in self.warehouse}
        if kind != "kpi":
            kpis |= {k for m in models if m in self.warehouse for k in self.warehouse[m].kpi_ids}
        kpis = _kpis_using(kpis, self.factors)
        pages = self._pages_using(models, kpis)
        return Dependents(tuple(sorted(assets)), tuple(sorted(kpis)), tuple(sorted(pages)), tuple(notes))

    def _pages_using(self, models: set[str], kpis: set[str]) -> set[str]:
        kpi_ids = frozenset(self.factors)
        pages = _pages(self.repo_root / "apps", frozenset(self.warehouse), kpi_ids)
        return {p.path for p in pages if p.marts & models or self._shown(p.kpis) & kpis}

    def _shown(self, kpis: Iterable[str]) -> set[str]:
        """The KPIs a page shows: the ones it names and everything they are computed from."""
        shown = set(kpis)
        frontier = list(shown)
        while frontier:
            for factor in self.factors.get(frontier.pop(), set()):
                if factor not in shown:
                    shown.add(factor)
                    frontier.append(factor)
        return shown

    def items_in_use(self, asset_key: Iterable[str]) -> list[str]:
        """The governed items a warehouse asset is computed from: its contract, the KPI definitions it publishes
        (and their factors), and upstream in the manifest every contract, mapping and plant profile."""
        key = "/".join(asset_key)
        items: set[str] = set()
        table = None
        for contract in self.contracts.values():
            if "/".join(contract.asset_key) == key:
                items.add(f"contract:{contract.id}")
                items |= {f"kpi:{k}" for k in self._shown(contract.kpi_ids)}
                table = contract.table if contract.in_warehouse else None
        if self.manifest is not None and table is not None:
            start = [
                k for k, n in self.manifest.nodes.items() if n.get("resource_type") == "model" and n["name"] == table
            ]
            for unique_id in _walk(self.manifest, start, self.manifest.parents):
                node = self.manifest.nodes[unique_id]
                node_key = _asset_key(node)
                items |= {f"contract:{c.id}" for c in self.contracts.values() if "/".join(c.asset_key) == node_key}
                items |= {f"kpi:{k}" for k in self._shown(_kpi_macros(node, self.factors))}
                if node.get("resource_type") == "seed":
                    items |= self._seed_items(node)
        return sorted(items)

    def _seed_items(self, node: dict[str, Any]) -> set[str]:
        words = [w.rstrip(".,") for w in str(node.get("description", "")).split() if w.startswith("catalog/")]
        items = set()
        for pattern in words:
            for path in sorted(self.catalog_dir.parent.glob(pattern)):
                if path.parent.name == "mappings":
                    items.add(f"mapping:{path.stem}")
                elif path.parent.name == "plants":
                    items.add(
                        f"plant:{(yaml.safe_load(path.read_text(encoding='utf-8')) or {}).get('plant_id', path.stem)}"
                    )
        return items
