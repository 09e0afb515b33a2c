"""Each plant's own OEE formula (catalog/mappings/local_oee_formulas.yaml), computed from the true ISO elements.

The local report is what a plant's own system shows beside the raw data: the same elements, a different formula, the
plant's unit (percent or ratio) and rounding. A formula that would divide by zero reports 0, as local systems do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from .profiles import LocalOeeFormula


class LocalFigures(NamedTuple):
    availability: float
    performance: float
    quality: float
    oee: float


def _div(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _calendar_time_availability(e: Mapping[str, float]) -> LocalFigures:
    a, p, q = _div(e["apt_s"], e["pot_s"]), _div(e["pri_pq_s"], e["apt_s"]), _div(e["gq"], e["pq"])
    return LocalFigures(a, p, q, a * p * q)


def _mean_of_ratios(e: Mapping[str, float]) -> LocalFigures:
    a, p, q = _div(e["apt_s"], e["pbt_s"]), _div(e["pri_pq_s"], e["apt_s"]), _div(e["gq"], e["pq"])
    return LocalFigures(a, p, q, (a + p + q) / 3)


def _performance_over_planned_time(e: Mapping[str, float]) -> LocalFigures:
    a = _div(e["pbt_s"] - e["adet_s"], e["pbt_s"])
    p, q = _div(e["pri_pq_s"], e["pbt_s"]), _div(e["gq"], e["pq"])
    return LocalFigures(a, p, q, a * p * q)


def _setup_as_planned_rework_as_good(e: Mapping[str, float]) -> LocalFigures:
    a = _div(e["apt_s"], e["pbt_s"] - e["aust_s"])
    p, q = _div(e["pri_pq_s"], e["apt_s"]), _div(e["gq"] + e["rq"], e["pq"])
    return LocalFigures(a, p, q, a * p * q)


FORMULAS: dict[str, Callable[[Mapping[str, float]], LocalFigures]] = {
    "calendar_time_availability": _calendar_time_availability,
    "mean_of_ratios": _mean_of_ratios,
    "performance_over_planned_time": _performance_over_planned_time,
    "setup_as_planned_rework_as_good": _setup_as_planned_rework_as_good,
}


def local_figures(formula: LocalOeeFormula, elements: Mapping[str, float]) -> LocalFigures:
    """The unrounded local figures as ratios (0-1 scale), from one asset-shift's true elements."""
    try:
        compute = FORMULAS[formula.formula]
    except KeyError:
        raise NotImplementedError(f"{formula.plant_id}: local OEE formula {formula.formula!r} is not simulated") from None
    return compute(elements)


def reported(formula: LocalOeeFormula, figures: LocalFigures) -> LocalFigures:
    """The figures as the plant writes them: in its unit, rounded to its decimals."""
    scale = 100.0 if formula.unit == "percent" else 1.0
    return LocalFigures(*(round(value * scale, formula.decimals) for value in figures))
