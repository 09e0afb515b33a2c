"""Production counts of one asset: one interval per local clock hour, shift and order, never crossing a shift.

Local clock hours follow the plant's time zone through DST changes; no interval boundary lies in the first pass of
a repeated hour (shifts.py), so in October the interval that covers the change is two hours long.

The produced quantity follows from the running time in the interval, the material's ideal cycle time and the
order's speed factor (< 1), rounded down, so effectiveness (PRI x PQ / APT) can never exceed 1.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from .model import Order, ProductionInterval, ShiftWindow, StateEvent
from .shifts import NO_FALL_BACK, FallBackWindows, local_hour_boundaries

# Per asset: scrap 0.5-3 %, rework 0-1.5 % of the produced quantity.
SCRAP_RATE = (0.005, 0.03)
REWORK_RATE = (0.0, 0.015)


def running_seconds(events: Sequence[StateEvent], starts: Sequence[int], begin: int, end: int) -> int:
    """Seconds of RUNNING within [begin, end); `starts` are the events' start instants (for bisection)."""
    total = 0
    index = max(bisect.bisect_right(starts, begin) - 1, 0)
    while index < len(events) and events[index].start < end:
        event = events[index]
        if event.enterprise_state == "RUNNING":
            total += max(0, min(event.end, end) - max(event.start, begin))
        index += 1
    return total


def _slice_bounds(
    shift: ShiftWindow, order_starts: Sequence[int], tz: ZoneInfo, fall_back: FallBackWindows
) -> list[int]:
    """Shift start and end, every full local hour and every order change inside the shift, sorted."""
    bounds = {shift.start, shift.end, *local_hour_boundaries(shift.start, shift.end, tz)}
    low, high = bisect.bisect_right(order_starts, shift.start), bisect.bisect_left(order_starts, shift.end)
    bounds.update(order_starts[low:high])
    return sorted({fall_back.snap(bound) for bound in bounds})


def _split_defects(rng: random.Random, produced: int, rate: float) -> int:
    """A defect count near `produced x rate` (normal approximation of the binomial), within [0, produced]."""
    mean = produced * rate
    return min(produced, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - rate))))))


def simulate_intervals(
    rng: random.Random,
    shifts: Sequence[ShiftWindow],
    events: Sequence[StateEvent],
    orders: Sequence[Order],
    tz: ZoneInfo,
    fall_back: FallBackWindows = NO_FALL_BACK,
) -> list[ProductionInterval]:
    """Count rows for every hour slice of every shift; slices without running time report zero."""
    scrap_rate, rework_rate = rng.uniform(*SCRAP_RATE), rng.uniform(*REWORK_RATE)
    starts = [event.start for event in events]
    order_starts = [order.start for order in orders]
    intervals = []
    for shift in shifts:
        bounds = _slice_bounds(shift, order_starts, tz, fall_back)
        for begin, end in itertools.pairwise(bounds):
            order = orders[bisect.bisect_right(order_starts, begin) - 1]
            running = running_seconds(events, starts, begin, end)
            rate = order.speed_factor * rng.uniform(0.98, 1.0)
            produced = math.floor(running * rate / order.material.ideal_cycle_time_s)
            scrap = _split_defects(rng, produced, scrap_rate)
            rework = _split_defects(rng, produced - scrap, rework_rate)
            intervals.append(
                ProductionInterval(
                    start=begin,
                    end=end,
                    order_id=order.order_id,
                    material=order.material,
                    produced_qty=produced,
                    good_qty=produced - scrap - rework,
                    scrap_qty=scrap,
                    rework_qty=rework,
                )
            )
    return intervals
