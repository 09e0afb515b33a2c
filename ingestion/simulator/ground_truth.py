"""Ground truth per asset and shift: the ISO 22400-2 elements and KPIs the pipeline must reproduce.

Elements come from the UTC state timeline clipped to each shift window; quantities from the production intervals
that start in the shift. KPI rules are those of docs/design.md (`catalog/kpis/*.yaml`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from .model import ShiftWindow, SimulatedAsset, SimulatedNetwork

TIME_ELEMENTS = ("APT", "AUST", "ADET", "ADOT", "PDOT")

ASSET_SHIFT_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_id", pa.string()),
        ("line_id", pa.string()),
        ("shift_code", pa.string()),
        ("shift_date", pa.date32()),
        ("shift_started_at", pa.timestamp("us", tz="UTC")),
        ("shift_ended_at", pa.timestamp("us", tz="UTC")),
        ("pot_s", pa.float64()),
        ("pdot_s", pa.float64()),
        ("pbt_s", pa.float64()),
        ("apt_s", pa.float64()),
        ("aust_s", pa.float64()),
        ("adet_s", pa.float64()),
        ("adot_s", pa.float64()),
        ("pq", pa.int64()),
        ("gq", pa.int64()),
        ("sq", pa.int64()),
        ("rq", pa.int64()),
        ("pri_pq_s", pa.float64()),
        ("availability", pa.float64()),
        ("effectiveness", pa.float64()),
        ("quality_ratio", pa.float64()),
        ("oee", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Kpis:
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def compute_kpis(*, pbt_s: float, apt_s: float, pri_pq_s: float, pq: int, gq: int) -> Kpis:
    """The four KPIs; a ratio with a zero denominator is null, except OEE (0 if PBT > 0 but nothing ran or came out)."""
    availability = _ratio(apt_s, pbt_s)
    effectiveness = _ratio(pri_pq_s, apt_s)
    quality_ratio = _ratio(gq, pq)
    if pbt_s == 0:
        oee = None
    elif apt_s == 0 or pq == 0:
        oee = 0.0
    else:
        oee = availability * effectiveness * quality_ratio
    return Kpis(availability, effectiveness, quality_ratio, oee)


def _elements(
    asset: SimulatedAsset, starts: list[int], element_of: dict[str, str], shift: ShiftWindow
) -> dict[str, int]:
    seconds = dict.fromkeys(TIME_ELEMENTS, 0)
    index = max(bisect.bisect_right(starts, shift.start) - 1, 0)
    while index < len(asset.events) and asset.events[index].start < shift.end:
        event = asset.events[index]
        overlap = min(event.end, shift.end) - max(event.start, shift.start)
        if overlap > 0:
            seconds[element_of[event.enterprise_state]] += overlap
        index += 1
    return seconds


def asset_shift_rows(network: SimulatedNetwork) -> Iterator[dict]:
    """One ground-truth row per asset and shift, in plant, asset and shift order."""
    for plant in network.plants:
        element_of = {mapping.enterprise_state: mapping.iso_element for mapping in plant.state_mappings}
        for asset in plant.assets:
            starts = [event.start for event in asset.events]
            interval_starts = [interval.start for interval in asset.intervals]
            for shift in plant.shifts:
                seconds = _elements(asset, starts, element_of, shift)
                low = bisect.bisect_left(interval_starts, shift.start)
                high = bisect.bisect_left(interval_starts, shift.end)
                intervals = asset.intervals[low:high]
                pq = sum(interval.produced_qty for interval in intervals)
                gq = sum(interval.good_qty for interval in intervals)
                pri_pq_s = sum(interval.material.ideal_cycle_time_s * interval.produced_qty for interval in intervals)
                pot_s = shift.duration_s
                pbt_s = pot_s - seconds["PDOT"]
                kpis = compute_kpis(pbt_s=pbt_s, apt_s=seconds["APT"], pri_pq_s=pri_pq_s, pq=pq, gq=gq)
                yield {
                    "plant_id": plant.plant_id,
                    "asset_id": asset.asset.asset_id,
                    "line_id": asset.asset.line_id,
                    "shift_code": shift.shift_code,
                    "shift_date": shift.shift_date,
                    "shift_started_at": shift.start * 1_000_000,
                    "shift_ended_at": shift.end * 1_000_000,
                    "pot_s": float(pot_s),
                    "pdot_s": float(seconds["PDOT"]),
                    "pbt_s": float(pbt_s),
                    "apt_s": float(seconds["APT"]),
                    "aust_s": float(seconds["AUST"]),
                    "adet_s": float(seconds["ADET"]),
                    "adot_s": float(seconds["ADOT"]),
                    "pq": pq,
                    "gq": gq,
                    "sq": sum(interval.scrap_qty for interval in intervals),
                    "rq": sum(interval.rework_qty for interval in intervals),
                    "pri_pq_s": float(pri_pq_s),
                    "availability": kpis.availability,
                    "effectiveness": kpis.effectiveness,
                    "quality_ratio": kpis.quality_ratio,
                    "oee": kpis.oee,
                }


def asset_shift_table(network: SimulatedNetwork) -> pa.Table:
    return pa.Table.from_pylist(list(asset_shift_rows(network)), schema=ASSET_SHIFT_SCHEMA)
