"""Catalog rules: the expectations a contract's columns alone cannot state, derived from the rest of the catalog.

Nothing here names a table or a column. Each rule comes from one governed place:

- allowed codes: every bronze column that carries a plant-local code (``catalog.masterdata.CODE_SOURCES``, the same
  list the unmapped queue reads) must hold codes of the governed mapping of its plant;
- the contracts' ODCS ``quality:`` sections, entries ``type: custom, engine: great-expectations``, whose
  ``implementation.rule`` is one of
  ``references`` (referential integrity: each (plant, value) exists in the named master-data column),
  ``quantiles_per`` (distribution drift: per value of a column, e.g. per sensor tag, the batch's quantiles stay in
  the governed reference ranges),
  ``drift_vs_history`` (distribution drift against previous batches: per plant and ``per`` values, e.g. asset and
  tag, the batch's median within ``max_median_shift`` spreads of the median of the last ``history_batches``
  accepted batches' profiles; profiles live in ``<lake>/_meta/quality_profiles``, one row per series and batch,
  written by quality.suites.record_profiles and ``accepted`` only when the batch's whole suite passed),
  ``expected_shifts`` (volume: on each production day of the batch, every shift the plant profile schedules),
  ``expected_shift_assets`` (volume per plant-day: every scheduled shift has count rows from at least
  ``min_asset_share`` of the assets scheduled on it, the profile shift's ``assets`` or the plant's master data),
  ``expected_assets`` (volume: every asset of the plant's master data has rows) and
  ``clock_offset_vs_peers`` (clock skew: per asset, the phase of its reading times against its plant's peers).

Allowed codes, master data and quantiles are expectations on the batch itself ((plant, code) pairs in the allowed
set; one quantile expectation per tag, with a row condition). Volume, drift against history and clock skew are
validated on frames derived from the batch: the shifts the plant profiles expect (with the share of their assets
reporting), the per-series medians against their baselines, and the per-asset clock offsets. Every result is a GE
result with a failing count and the failing plants, assets, tags, codes or shifts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from great_expectations.expectations.row_conditions import Column as GxColumn

from catalog.contracts import Contract, get_contract
from catalog.masterdata import CODE_SOURCES, MAPPING_KINDS, load_mappings
from catalog.plants import PlantProfile, load_plants

ENGINE = "great-expectations"
RULE_KINDS = ("references", "quantiles_per", "drift_vs_history", "expected_shifts", "expected_assets",
              "expected_shift_assets", "clock_offset_vs_peers")
PROFILES_DIR = Path("_meta") / "quality_profiles"  # under the lake root, beside _meta/quality_results
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

    def profile_history(self, contract_id: str, rule: str, plants: list[str], batches: int) -> pa.Table:
        """The accepted profiles of a drift rule (``drift_vs_history``) for the plants, the last ``batches`` per
        series: the profile table holds one row per series and batch, never readings (empty without a lake)."""
        empty = pa.table({"plant_id": pa.array([], pa.string()), "series": pa.array([], pa.string()),
                          "median": pa.array([], pa.float64()), "spread": pa.array([], pa.float64()),
                          "history_batches": pa.array([], pa.int64())})
        uri = None if self.lake_root is None else self.lake_root / PROFILES_DIR
        if uri is None or not plants or not (uri / "_delta_log").is_dir():
            return empty
        profiles = DeltaTable(str(uri)).to_pyarrow_table(
            columns=["recorded_at", "plant_id", "series", "median", "q_low", "q_high"],
            filters=[("dataset", "=", contract_id), ("rule", "=", rule), ("accepted", "=", True),
                     ("plant_id", "in", plants)])
        with duckdb.connect() as con:
            con.register("profiles", profiles)
            return con.execute("""
                with last as (
                    select *, row_number() over (partition by plant_id, series order by recorded_at desc) as n
                    from profiles
                )
                select plant_id, series, median(median) as median, median(q_high - q_low) as spread,
                       count(*) as history_batches
                from last where n <= ? group by plant_id, series
            """, [batches]).to_arrow_table() if profiles.num_rows else empty

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
    # per-batch statistics to keep as history (drift_vs_history), recorded by quality.suites.record_profiles
    profiles: pa.Table | None = None


def _scheduled(profile: PlantProfile, first: dt.date, last: dt.date) -> list[tuple[dt.date, dict[str, Any]]]:
    """(production day, shift of the plant profile) of every shift scheduled from ``first`` to ``last``."""
    holidays = {dt.date.fromisoformat(str(h["date"])) for h in profile.raw.get("holidays") or []}
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return [
        (day, shift)
        for day in days if day not in holidays
        for shift in profile.shifts if WEEKDAYS[day.weekday()] in shift.get("days", WEEKDAYS)
    ]


def _scheduled_shifts(profile: PlantProfile, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    return [(day, str(shift["code"])) for day, shift in _scheduled(profile, first, last)]


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


def _shift_windows(profile: PlantProfile, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The plant-local wall-clock window of every shift scheduled from ``first`` to ``last`` (a shift whose end is
    not after its start ends the next day), with the assets the profile schedules on it (``assets``; None: all)."""
    rows = []
    for day, shift in _scheduled(profile, first, last):
        start, end = (dt.time.fromisoformat(str(shift[k])) for k in ("start", "end"))
        started = dt.datetime.combine(day, start)
        ended = dt.datetime.combine(day + dt.timedelta(days=1) if end <= start else day, end)
        assets = shift.get("assets")
        rows.append((profile.plant_id, day, str(shift["code"]), started, ended,
                     None if assets is None else [str(a) for a in assets]))
    return pd.DataFrame(rows, columns=["plant_id", "day", "code", "started", "ended", "assets"])


def _expected_shift_assets(rule: Rule, batch: pa.Table, references: References) -> DerivedCheck:
    """Volume per plant-day: on every production day of the batch, every shift the plant profile schedules has
    count rows from (at least ``min_asset_share`` of) the assets scheduled on it: the shift's ``assets`` in the
    profile, by default every asset of the plant's master data (the plant's assets in the batch without master
    data). A row belongs to the shift whose window holds its ``start`` (the shift of its day or, after midnight, the
    night shift of the day before). A production day is judged when the batch has rows that start on that day and
    belong to its shifts: the tail of a night shift past midnight does not make its day judged, and a day without
    rows is not judged (as for ``expected_shifts``)."""
    start, asset = rule.params["start"], rule.params["asset"]
    share = float(rule.params.get("min_asset_share", 1.0))
    target_contract, _, target_column = rule.params["references"].rpartition(".")
    plants = load_plants()
    rows = pa.table({"plant_id": batch["plant_id"], "asset": batch[asset], "start": batch[start]})
    master: dict[str, set[str]] = {}
    for plant_id, asset_id in references.master_pairs(target_contract, target_column):
        master.setdefault(plant_id, set()).add(asset_id)
    expected = []
    for plant_id in pc.unique(rows["plant_id"]).to_pylist():
        if plant_id not in plants or not plants[plant_id].shifts:
            continue
        plant_rows = rows.filter(pc.equal(rows["plant_id"], plant_id))
        starts = plant_rows["start"].to_numpy().astype("datetime64[us]")
        first, last = (d.astype(dt.date) for d in (starts.min().astype("datetime64[D]"),
                                                   starts.max().astype("datetime64[D]")))
        windows = _shift_windows(plants[plant_id], first - dt.timedelta(days=1), last)
        if windows.empty:
            continue
        windows = windows.sort_values("started", ignore_index=True)
        # a plant's shifts never overlap: each row's shift is the last one starting at or before it (a sorted
        # search over millions of count intervals, not a range join)
        w_started = windows["started"].to_numpy(dtype="datetime64[us]")
        w_ended = windows["ended"].to_numpy(dtype="datetime64[us]")
        w_day = windows["day"].to_numpy(dtype="datetime64[D]")
        shift_of = np.searchsorted(w_started, starts, side="right") - 1
        inside = (shift_of >= 0) & (starts < w_ended[np.clip(shift_of, 0, None)])
        shift_of = shift_of[inside]
        # a production day is judged when rows start on it inside its own shifts
        judged = set(w_day[shift_of][starts[inside].astype("datetime64[D]") == w_day[shift_of]].tolist())
        encoded = pc.dictionary_encode(plant_rows["asset"]).combine_chunks()
        names = encoded.dictionary.to_pylist()
        pairs = np.unique(shift_of * len(names) + encoded.indices.to_numpy(zero_copy_only=False)[inside])
        reporting: dict[int, set[str]] = {}
        for window, asset_index in zip((pairs // len(names)).tolist(), (pairs % len(names)).tolist(), strict=True):
            reporting.setdefault(window, set()).add(names[asset_index])
        plant_assets = master.get(plant_id) or set(names)
        for i, w in enumerate(windows.itertuples()):
            if w.day not in judged:  # datetime64[D].tolist() gives dates
                continue
            scheduled = plant_assets if w.assets is None else set(w.assets)
            if not scheduled:
                continue
            present = reporting.get(i, set()) & scheduled
            expected.append((f"{plant_id} {w.day} {w.code}", len(scheduled), len(present),
                             len(present) / len(scheduled), " ".join(sorted(scheduled - present))))
    frame = pd.DataFrame(expected, columns=["shift", "assets_expected", "assets_reporting", "asset_share",
                                            "assets_missing"]).astype({"shift": object, "assets_missing": object})
    return DerivedCheck(rule.name, frame, [gxe.ExpectColumnValuesToBeBetween(
        column="asset_share", min_value=share,
        notes=f"{rule.name}: count rows of the scheduled assets in every shift the plant profiles schedule "
              f"(min share {share:g})")], ["shift", "assets_missing"])


def _series_key(values: list[Any]) -> str:
    return json.dumps(values, ensure_ascii=False)


def _drift_vs_history(rule: Rule, batch: pa.Table, references: References) -> DerivedCheck:
    """Distribution drift against the previous accepted batches: per plant and ``per`` (e.g. asset and tag), limited
    to the governed ``where`` values, the batch's median against the history baseline (the median of the medians of
    the last ``history_batches`` accepted profiles), in units of spread: the ``spread`` quantile range (e.g. p05-p95)
    of the batch or of the history (the median of their ranges), whichever is wider. A series with fewer than ``min_rows`` rows in the batch is neither
    judged nor profiled; a series without history passes (``median_shift`` null) and the note says so. The batch's
    profiles are returned for quality.suites.record_profiles, which keeps them as accepted only if the whole suite
    passed: a drifting batch never becomes the baseline."""
    per = ["plant_id", *rule.params["per"]]
    low, high = (float(q) for q in rule.params["spread"])
    limit, batches = float(rule.params["max_median_shift"]), int(rule.params["history_batches"])
    min_rows = int(rule.params["min_rows"])
    columns = [*per, rule.column]
    table = batch.select(columns)
    for column, allowed in (rule.params.get("where") or {}).items():
        table = table.filter(pc.is_in(table[column], value_set=pa.array([str(v) for v in allowed])))
    names = ", ".join(f'"{c}"' for c in per)
    with duckdb.connect() as con:
        con.register("batch", table)
        stats = con.execute(f"""
            select {names}, count(*) as rows,
                   quantile_cont("{rule.column}", ?) as q_low, median("{rule.column}") as median,
                   quantile_cont("{rule.column}", ?) as q_high
            from batch group by all having count(*) >= ? order by all
        """, [low, high, min_rows]).df()
    stats["series"] = pd.Series([_series_key(list(v)) for v in stats[per[1:]].itertuples(index=False)],
                                index=stats.index, dtype=object)
    plants = sorted(set(stats["plant_id"]))
    history = references.profile_history(rule.contract_id, rule.name, plants, batches).to_pandas()
    history[["plant_id", "series"]] = history[["plant_id", "series"]].astype(object)
    stats["plant_id"] = stats["plant_id"].astype(object)
    frame = stats.merge(history.rename(columns={"median": "baseline_median", "spread": "baseline_spread"}),
                        on=["plant_id", "series"], how="left")
    # the scale is the wider of the two spreads: a machine idle through one batch and running through the next
    # changes its median by less than the running batch's own width; a unit or offset error moves it by more
    frame["spread"] = frame["q_high"] - frame["q_low"]
    scale = frame[["spread", "baseline_spread"]].max(axis=1, skipna=False)
    frame["median_shift"] = ((frame["median"] - frame["baseline_median"]) / scale.where(scale > 0)).round(3)
    frame["history_batches"] = frame["history_batches"].fillna(0).astype("int64")
    new = int((frame["history_batches"] == 0).sum())
    note = (f"{rule.name}: batch median vs the median of the last {batches} accepted batches, in "
            f"p{low * 100:02.0f}-p{high * 100:02.0f} widths (the wider of batch and history); |shift| <= {limit:g} "
            f"(min {min_rows} rows per series)")
    if len(frame) and new == len(frame):
        note += f"; no history yet: {new} series profiled"
    elif new:
        note += f"; {new} of {len(frame)} series without history yet"
    frame = frame[[*per, "rows", "median", "spread", "baseline_median", "baseline_spread", "history_batches",
                   "median_shift"]]
    profiles = pa.table({
        "plant_id": pa.array(stats["plant_id"].astype(str).tolist(), pa.string()),
        "series": pa.array(stats["series"].tolist(), pa.string()),
        "rows": pa.array(stats["rows"].astype("int64").tolist(), pa.int64()),
        "q_low": pa.array(stats["q_low"].astype(float).tolist(), pa.float64()),
        "median": pa.array(stats["median"].astype(float).tolist(), pa.float64()),
        "q_high": pa.array(stats["q_high"].astype(float).tolist(), pa.float64()),
    })
    return DerivedCheck(rule.name, frame, [gxe.ExpectColumnValuesToBeBetween(
        column="median_shift", min_value=-limit, max_value=limit, notes=note)],
        [*per, "median", "baseline_median", "baseline_spread"], profiles=profiles)


DERIVED_FRAMES: dict[str, Callable[[Rule, pa.Table, References], DerivedCheck]] = {
    "drift_vs_history": _drift_vs_history,
    "expected_shifts": _expected_shifts,
    "expected_shift_assets": _expected_shift_assets,
    "expected_assets": _expected_assets,
    "clock_offset_vs_peers": _clock_offset_vs_peers,
}


def derived_checks(contract: Contract, batch: pa.Table, references: References) -> list[DerivedCheck]:
    """The frames computed from this batch and their expectations (an empty batch has nothing to derive)."""
    if batch.num_rows == 0:
        return []
    return [DERIVED_FRAMES[r.kind](r, batch, references) for r in contract_rules(contract) if r.kind in DERIVED_FRAMES]
