"""Catalog rules: the expectations a contract's columns alone cannot state, derived from the rest of the catalog.

Nothing here names a table or a column. Each rule comes from one governed place:

- allowed codes: every bronze column that carries a plant-local code (``catalog.masterdata.CODE_SOURCES``, the same
  list the unmapped queue reads) must hold codes of the governed mapping of its plant;
- the contracts' ODCS ``quality:`` sections, entries ``type: custom, engine: great-expectations``, whose
  ``implementation.rule`` is one of
  ``references`` (referential integrity: each (plant, value) exists in the named master-data column),
  ``quantiles_per`` (distribution drift: per value of a column, e.g. per sensor tag, the batch's quantiles stay in
  the governed reference ranges),
  ``expected_shifts`` (volume: on each production day of the batch, every shift the plant profile schedules), ``expected_assets`` (volume: every asset of the plant's master data has rows) and
  ``clock_offset_vs_peers`` (clock skew: per asset, the phase of its reading times against its plant's peers).

Allowed codes, master data and quantiles are expectations on the batch itself ((plant, code) pairs in the allowed
set; one quantile expectation per tag, with a row condition). Volume and clock skew are validated on frames derived
from the batch: the shifts the plant profiles expect, and the per-asset clock offsets. Every result is a GE result
with a failing count and the failing plants, assets, codes or shifts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from great_expectations.expectations.row_conditions import Column as GxColumn

from catalog.contracts import Contract, get_contract
from catalog.masterdata import CODE_SOURCES, MAPPING_KINDS, load_mappings
from catalog.plants import PlantProfile, load_plants

ENGINE = "great-expectations"
RULE_KINDS = ("references", "quantiles_per", "expected_shifts", "expected_assets", "clock_offset_vs_peers")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Rule:
    """One custom quality entry of a contract (``quality: [{type: custom, engine: great-expectations, ...}]``)."""

    contract_id: str
    column: str | None  # None: a table-level rule
    name: str
    kind: str  # implementation.rule
    params: dict[str, Any]
    description: str = ""


def contract_rules(contract: Contract) -> list[Rule]:
    """The custom Great Expectations rules of a contract, table-level and per column, in file order."""
    table = contract.raw["schema"][0]
    scoped = [(None, q) for q in table.get("quality") or []]
    scoped += [(prop["name"], q) for prop in table.get("properties", []) for q in prop.get("quality") or []]
    rules = []
    for column, entry in scoped:
        if entry.get("type") != "custom" or entry.get("engine") != ENGINE:
            continue
        implementation = dict(entry["implementation"])
        kind = implementation.pop("rule")
        if kind not in RULE_KINDS:
            raise ValueError(f"{contract.file}: quality rule {kind!r} is not one of {sorted(RULE_KINDS)}")
        rules.append(Rule(contract.id, column, entry.get("name", kind), kind, implementation, entry.get("description", "")))
    return rules


@dataclass
class References:
    """The master data and mappings the rules compare a batch with. ``lake_root`` None: no master data (every
    reference set empty), enough to build a suite's shape (the drift check) but not to validate real data."""

    lake_root: Path | None = None
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    _cache: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def master_pairs(self, contract_id: str, column: str) -> list[tuple[str, str]]:
        """Distinct (plant_id, value) of a master-data column (a bronze table, read whole: master data is small)."""
        key = (contract_id, column)
        if key not in self._cache:
            table = self._table(contract_id)
            pairs: set[tuple[str, str]] = set()
            if table is not None:
                rows = DeltaTable(str(table)).to_pyarrow_table(columns=["plant_id", column])
                pairs = {(p, str(v)) for p, v in zip(rows["plant_id"].to_pylist(), rows[column].to_pylist()) if v is not None}
            self._cache[key] = sorted(pairs)
        return self._cache[key]

    def _table(self, contract_id: str) -> Path | None:
        """The contract's Delta table under the lake, if it has been written."""
        if self.lake_root is None:
            return None
        table = self.lake_root.parent / get_contract(contract_id).path
        return table if (table / "_delta_log").is_dir() else None

    def readings_in_window(self, contract_id: str, batch: pa.Table, time_column: str) -> pa.Table:
        """The stored rows of the batch's plants between its first and last ``time_column`` (the batch included,
        as it is written before it is validated); the batch alone without a lake."""
        table = self._table(contract_id)
        if table is None:
            return batch
        times = pc.min_max(batch[time_column])
        plants = pc.unique(batch["plant_id"]).to_pylist()
        stored = DeltaTable(str(table)).to_pyarrow_table(
            columns=batch.column_names,
            filters=[("plant_id", "in", plants), (time_column, ">=", times["min"].as_py()),
                     (time_column, "<=", times["max"].as_py())])
        return pa.concat_tables([stored.cast(batch.schema), batch])

    def mapped_codes(self, kind: str) -> list[tuple[str | None, str]]:
        """(plant_id or None for every plant, local code) of the mapping entries already in force."""
        return sorted({(e.plant_id, e.local_code) for e in load_mappings()[kind] if e.valid_from <= self.today},
                      key=lambda p: (p[0] or "", p[1]))


# --- expectations on the batch ------------------------------------------------------------------------------------


def _quantiles_per(rule: Rule, batch: pa.Table | None) -> list[gxe.Expectation]:
    """One quantile expectation per governed value of ``per`` (per tag), for the values the batch has (all of them
    when no batch is given): a batch without a tag has no distribution to judge."""
    per, quantiles = rule.params["per"], list(rule.params["quantiles"])
    present = None if batch is None else set(pc.unique(batch[per]).to_pylist())
    return [
        gxe.ExpectColumnQuantileValuesToBeBetween(
            column=rule.column, quantile_ranges={"quantiles": quantiles, "value_ranges": [list(r) for r in ranges]},
            row_condition=GxColumn(per) == value, notes=f"{rule.name}: {per} {value}")
        for value, ranges in sorted(rule.params["reference_ranges"].items())
        if present is None or value in present
    ]


def batch_expectations(contract: Contract, batch: pa.Table | None = None) -> list[gxe.Expectation]:
    """The catalog-derived expectations evaluated on the batch's own rows (aggregates: quantiles per tag)."""
    return [e for rule in contract_rules(contract) if rule.kind == "quantiles_per" for e in _quantiles_per(rule, batch)]


# --- frames derived from the batch --------------------------------------------------------------------------------


def key_expectations(contract: Contract, references: References) -> list[gxe.Expectation]:
    """Allowed codes (every code-carrying column of CODE_SOURCES, against its governed mapping) and referential
    integrity (the contract's ``references`` rules, against the master data of the same plant): each row's
    (plant_id, value) is one of the allowed pairs; codes of plant-wide kinds (plants, units) are checked alone.
    The notes say what a column is checked against; the publication log and the apps show them."""
    expectations: list[gxe.Expectation] = []
    for source in CODE_SOURCES:
        if source.contract_id != contract.id:
            continue
        kind = MAPPING_KINDS[source.kind]
        note = f"{source.column}: mapped in {kind.file}"
        mapped = references.mapped_codes(source.kind)
        if kind.plant_scope == "none":
            expectations.append(gxe.ExpectColumnValuesToBeInSet(
                column=source.column, value_set=[code for plant, code in mapped if plant is None], notes=note))
        else:
            # A plant comes under a kind's governance with its first mapping entry; until then its codes wait in the
            # unmapped queue (a new plant's first extracts are not blocked for codes nobody has mapped yet).
            governed = sorted({p for p, _ in mapped if p})
            expectations.append(gxe.ExpectColumnPairValuesToBeInSet(
                column_A="plant_id", column_B=source.column, value_pairs_set=[p for p in mapped if p[0]], notes=note,
                row_condition=GxColumn("plant_id").is_in(governed)))
    for rule in contract_rules(contract):
        if rule.kind == "references":
            target_contract, _, target_column = rule.params["references"].rpartition(".")
            expectations.append(gxe.ExpectColumnPairValuesToBeInSet(
                column_A="plant_id", column_B=rule.column, notes=f"{rule.column}: in {rule.params['references']}",
                value_pairs_set=references.master_pairs(target_contract, target_column)))
    return expectations


# --- frames derived from the batch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DerivedCheck:
    """A frame computed from the batch and the expectations it must meet; ``subject`` names each row."""

    name: str
    frame: pd.DataFrame
    expectations: list[gxe.Expectation]
    subject: list[str] = field(default_factory=list)


def _scheduled_shifts(profile: PlantProfile, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    holidays = {dt.date.fromisoformat(str(h["date"])) for h in profile.raw.get("holidays") or []}
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return [
        (day, str(shift["code"]))
        for day in days if day not in holidays
        for shift in profile.shifts if WEEKDAYS[day.weekday()] in shift.get("days", WEEKDAYS)
    ]


def _expected_shifts(rule: Rule, batch: pa.Table, references: References) -> DerivedCheck:
    """Volume: on every production day the batch has, every shift the plant profile schedules that day, with the
    shifts the batch has as the allowed set: a shift left out of the calendar is an unexpected (missing) row. A day
    without any row is not judged (public samples have gaps the profiles do not know as holidays)."""
    day, code = rule.params["day"], rule.params["code"]
    plants = load_plants()
    frame = pa.table({"plant_id": batch["plant_id"], "day": batch[day], "code": batch[code]}).to_pandas()
    rows = []
    for plant_id, days in frame.groupby("plant_id")["day"]:
        if plant_id in plants:
            present = set(days)
            rows += [(plant_id, d, c) for d, c in _scheduled_shifts(plants[plant_id], min(days), max(days))
                     if d in present]
    expected = pd.DataFrame(rows, columns=["plant_id", "day", "code"])
    expected["shift"] = expected["plant_id"] + " " + expected["day"].astype(str) + " " + expected["code"]
    present = (frame["plant_id"] + " " + frame["day"].astype(str) + " " + frame["code"].astype(str)).unique().tolist()
    return DerivedCheck(rule.name, expected, [gxe.ExpectColumnValuesToBeInSet(
        column="shift", value_set=present, notes=f"{rule.name}: shifts scheduled by the plant profiles")], ["shift"])


def _expected_assets(rule: Rule, batch: pa.Table, references: References) -> DerivedCheck:
    """Volume per asset: every asset of a plant's master data has rows in the plant's batch; a silent asset fails."""
    target_contract, _, target_column = rule.params["references"].rpartition(".")
    plants = set(pc.unique(batch["plant_id"]).to_pylist())
    expected = [f"{p} {a}" for p, a in references.master_pairs(target_contract, target_column) if p in plants]
    present = {f"{p} {a}" for p, a in zip(batch["plant_id"].to_pylist(), batch[rule.params["asset"]].to_pylist())}
    return DerivedCheck(rule.name, pd.DataFrame({"asset": expected}, dtype=object), [gxe.ExpectColumnValuesToBeInSet(
        column="asset", value_set=sorted(present), notes=f"{rule.name}: assets of {rule.params['references']}")],
        ["asset"])


_CLOCK_OFFSETS_SQL = """
with readings as (
    select distinct plant_id, asset_local_id, tag, epoch_ms(reading_at) // 1000 as t from batch
),
gaps as (  -- the sampling interval of a plant: its most common gap between consecutive readings of one series
    select plant_id, t - lag(t) over (partition by plant_id, asset_local_id, tag order by t) as gap from readings
),
intervals as (
    select plant_id, mode(gap) as interval_s from gaps where gap > 0 group by plant_id
),
phases as (
    select r.plant_id, r.asset_local_id, i.interval_s, r.t % i.interval_s as phase
    from readings r join intervals i using (plant_id)
),
reference as (  -- the plant's usual phase: what most of its assets' readings share
    select plant_id, mode(phase) as phase from phases group by plant_id having count(distinct asset_local_id) > 1
)
select
    p.plant_id,
    p.asset_local_id,
    -- the median of each reading's phase against the plant's, wrapped to half an interval either side
    median(((p.phase - ref.phase + p.interval_s + p.interval_s // 2) % p.interval_s) - p.interval_s // 2)::double
        as offset_s,
    count(*) as readings
from phases p join reference ref using (plant_id)
group by p.plant_id, p.asset_local_id
order by p.plant_id, p.asset_local_id
"""


def clock_offsets(readings: pa.Table) -> pd.DataFrame:
    """Per asset, the offset (s) of its reading times against its plant's other assets (plants with peers only)."""
    with duckdb.connect() as con:
        con.register("batch", readings.select(["plant_id", "asset_local_id", "tag", "reading_at"]))
        return con.execute(_CLOCK_OFFSETS_SQL).df()


def _clock_offset_vs_peers(rule: Rule, batch: pa.Table, references: References) -> DerivedCheck:
    """Clock skew: the batch's assets against their peers' readings of the same time window. A micro-batch may hold
    one gateway's readings only, so the peers come from the stored table (bounded by the batch's plants and times)."""
    tolerance = float(rule.params["tolerance_s"])
    readings = references.readings_in_window(rule.contract_id, batch, rule.column)
    offsets = clock_offsets(readings)
    in_batch = pa.table({"plant_id": batch["plant_id"], "asset_local_id": batch["asset_local_id"]}).group_by(
        ["plant_id", "asset_local_id"]).aggregate([]).to_pandas()
    offsets = offsets.merge(in_batch.astype(object), on=["plant_id", "asset_local_id"])
    return DerivedCheck(rule.name, offsets, [gxe.ExpectColumnValuesToBeBetween(
        column="offset_s", min_value=-tolerance, max_value=tolerance,
        notes=f"{rule.name}: gateway clock offset against the plant's peers")], ["plant_id", "asset_local_id"])


DERIVED_FRAMES: dict[str, Callable[[Rule, pa.Table, References], DerivedCheck]] = {
    "expected_shifts": _expected_shifts,
    "expected_assets": _expected_assets,
    "clock_offset_vs_peers": _clock_offset_vs_peers,
}


def derived_checks(contract: Contract, batch: pa.Table, references: References) -> list[DerivedCheck]:
    """The frames computed from this batch and their expectations (an empty batch has nothing to derive)."""
    if batch.num_rows == 0:
        return []
    return [DERIVED_FRAMES[r.kind](r, batch, references) for r in contract_rules(contract) if r.kind in DERIVED_FRAMES]
