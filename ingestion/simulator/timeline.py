"""Machine-state timeline of one asset: a gap-free sequence of state events over the whole simulated period.

The timeline is built in two layers:
1. an unplanned process over the continuous period: orders (each starting with a setup), run stretches ended by
   minor stops, idle waits (starved, blocked, no order) or breakdowns; these events freely cross shift boundaries;
2. planned windows laid over it: breaks inside every shift, occasional planned maintenance at a shift start, and
   off-shift time between shifts (for plants that do not run around the clock).
The result covers [first shift start, last shift end) without gaps or overlaps, so every shift is fully covered.
Finally no boundary is left in the first pass of a repeated DST hour (see shifts.py): such a boundary moves to the
clock change, so that the naive local timestamps of the extract read back to exactly these instants.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .model import Material, Order, ShiftWindow, StateEvent
from .shifts import NO_FALL_BACK, FallBackWindows

HOUR = 3600
MINUTE = 60

# The unplanned process. A run stretch lasts 50 min on average (exponential); the stop that ends it is drawn from
# these weights. With an order change every 4-14 h and a 15-45 min setup this gives availabilities around 0.75-0.9.
MEAN_RUN_S = 50 * MINUTE
MIN_RUN_S = MINUTE
STOPS: tuple[tuple[str, float, int, int], ...] = (
    # (kind, weight, shortest s, longest s); "IDLE" is one of the plant's ADOT states (starved, blocked, no order)
    ("MINOR_STOP", 0.60, 1 * MINUTE, 5 * MINUTE),
    ("IDLE", 0.28, 5 * MINUTE, 30 * MINUTE),
    ("BREAKDOWN", 0.12, 10 * MINUTE, 75 * MINUTE),
)
IDLE_STATES = ("STARVED", "BLOCKED", "NO_ORDER")
ORDER_LENGTH_S = (4 * HOUR, 14 * HOUR)
SETUP_S = (15 * MINUTE, 45 * MINUTE)
SPEED_FACTOR = (0.80, 0.97)

# Planned down time: a break every 4 h of a shift (none in the last hour) and, in 8 % of the asset-shifts,
# 1-2 h of planned maintenance right at the shift start.
BREAK_EVERY_S = 4 * HOUR
BREAK_S = 30 * MINUTE
MAINTENANCE_PROBABILITY = 0.08
MAINTENANCE_S = (60 * MINUTE, 120 * MINUTE)

# Time between shifts (e.g. US-OHI's night) is written as "not scheduled": the plant's NO_ORDER code if it has one.
OFF_SHIFT_STATES = ("NO_ORDER", "PLANNED_DOWN")


@dataclass(frozen=True)
class StateCodes:
    """The local codes a plant uses for each enterprise state (catalog order)."""

    by_state: dict[str, list[str]]

    def __post_init__(self) -> None:
        for required in ("RUNNING", "SETUP", "PLANNED_DOWN", "PLANNED_MAINTENANCE"):
            if required not in self.by_state:
                raise ValueError(f"the plant has no local code for {required}")

    @property
    def break_code(self) -> str:
        # Plants list their break code first among their planned-down codes.
        return self.by_state["PLANNED_DOWN"][0]

    @property
    def maintenance_code(self) -> str:
        return self.by_state["PLANNED_MAINTENANCE"][0]

    @property
    def idle_states(self) -> list[str]:
        return [state for state in IDLE_STATES if state in self.by_state]

    @property
    def off_shift_event(self) -> tuple[str, str]:
        state = next(state for state in OFF_SHIFT_STATES if state in self.by_state)
        return state, self.by_state[state][0]

    def event(self, rng: random.Random, state: str, start: int, end: int) -> StateEvent:
        return StateEvent(start, end, state, rng.choice(self.by_state[state]))


def _unplanned_events(
    rng: random.Random,
    codes: StateCodes,
    start: int,
    end: int,
    materials: Sequence[Material],
    next_order_id: Callable[[], str],
    breakdown_weight: float,
) -> tuple[list[StateEvent], list[Order]]:
    """Orders, setups, run stretches and unplanned stops from `start` to `end` (the last event is cut at `end`)."""
    available = set(codes.by_state) | ({"IDLE"} if codes.idle_states else set())
    stops = [
        (kind, breakdown_weight if kind == "BREAKDOWN" else weight, shortest, longest)
        for kind, weight, shortest, longest in STOPS
        if kind in available
    ]
    events: list[StateEvent] = []
    orders: list[Order] = []
    t = start
    material = rng.choice(materials)
    while t < end:
        if orders:  # the first order is already running when the period starts; later ones begin with a setup
            others = [m for m in materials if m is not material] or list(materials)
            material = rng.choice(others)
        order_end = t + rng.randint(*ORDER_LENGTH_S)
        orders.append(Order(next_order_id(), material, t, round(rng.uniform(*SPEED_FACTOR), 3), order_end))
        if len(orders) > 1:
            setup = rng.randint(*SETUP_S)
            events.append(codes.event(rng, "SETUP", t, t + setup))
            t += setup
        while t < order_end and t < end:
            run = max(MIN_RUN_S, int(rng.expovariate(1 / MEAN_RUN_S)))
            events.append(codes.event(rng, "RUNNING", t, t + run))
            t += run
            kind, _, shortest, longest = rng.choices(stops, weights=[stop[1] for stop in stops])[0]
            state = rng.choice(codes.idle_states) if kind == "IDLE" else kind
            duration = rng.randint(shortest, longest)
            events.append(codes.event(rng, state, t, t + duration))
            t += duration
    return _cut(events, start, end), orders


def _planned_windows(
    rng: random.Random, codes: StateCodes, shifts: Sequence[ShiftWindow], fall_back: FallBackWindows
) -> list[StateEvent]:
    """Breaks, planned maintenance and off-shift time, sorted and non-overlapping.

    A break due in the first pass of a repeated DST hour starts at the clock change instead (the plant's clock shows
    the break time again then), so that the later snapping of boundaries cannot swallow it.
    """
    planned: list[StateEvent] = []
    off_state, off_code = codes.off_shift_event
    for index, shift in enumerate(shifts):
        if rng.random() < MAINTENANCE_PROBABILITY:
            duration = rng.randrange(MAINTENANCE_S[0], MAINTENANCE_S[1] + 1, 15 * MINUTE)
            planned.append(
                StateEvent(shift.start, shift.start + duration, "PLANNED_MAINTENANCE", codes.maintenance_code)
            )
        offset = BREAK_EVERY_S
        while offset + BREAK_S <= shift.duration_s - HOUR:
            begin = fall_back.snap(shift.start + offset)
            planned.append(StateEvent(begin, begin + BREAK_S, "PLANNED_DOWN", codes.break_code))
            offset += BREAK_EVERY_S
        following = shifts[index + 1] if index + 1 < len(shifts) else None
        if following is not None and following.start > shift.end:
            planned.append(StateEvent(shift.end, following.start, off_state, off_code))
    return planned


def _cut(events: list[StateEvent], start: int, end: int) -> list[StateEvent]:
    """Clip events to [start, end) and drop empty ones."""
    clipped = []
    for event in events:
        begin, finish = max(event.start, start), min(event.end, end)
        if begin < finish:
            clipped.append(StateEvent(begin, finish, event.enterprise_state, event.local_code))
    return clipped


def _overlay(unplanned: list[StateEvent], planned: list[StateEvent]) -> list[StateEvent]:
    """Planned windows replace whatever the unplanned process had in them; adjacent equal codes are merged."""
    pieces: list[StateEvent] = list(planned)
    index = 0
    for event in unplanned:
        cursor = event.start
        while index < len(planned) and planned[index].end <= cursor:
            index += 1
        scan = index
        while cursor < event.end:
            window = planned[scan] if scan < len(planned) else None
            if window is None or window.start >= event.end:
                pieces.append(StateEvent(cursor, event.end, event.enterprise_state, event.local_code))
                break
            if window.start > cursor:
                pieces.append(StateEvent(cursor, window.start, event.enterprise_state, event.local_code))
            cursor = max(cursor, window.end)
            scan += 1
    pieces.sort(key=lambda piece: piece.start)
    return _merge_equal_neighbours(pieces)


def _merge_equal_neighbours(pieces: list[StateEvent]) -> list[StateEvent]:
    merged: list[StateEvent] = []
    for piece in pieces:
        if merged and merged[-1].local_code == piece.local_code and merged[-1].end == piece.start:
            merged[-1] = StateEvent(merged[-1].start, piece.end, piece.enterprise_state, piece.local_code)
        else:
            merged.append(piece)
    return merged


def snap_to_fall_back(
    events: list[StateEvent], orders: list[Order], fall_back: FallBackWindows
) -> tuple[list[StateEvent], list[Order]]:
    """Move every boundary in the first pass of a repeated hour to the clock change (monotonic: stays gap-free)."""
    if not fall_back:
        return events, orders
    snapped = []
    for event in events:
        start, end = fall_back.snap(event.start), fall_back.snap(event.end)
        if start < end:
            snapped.append(StateEvent(start, end, event.enterprise_state, event.local_code))
    moved = [
        Order(order.order_id, order.material, fall_back.snap(order.start), order.speed_factor, order.planned_end)
        for order in orders
    ]
    return _merge_equal_neighbours(snapped), moved


def simulate_timeline(
    rng: random.Random,
    codes: StateCodes,
    shifts: Sequence[ShiftWindow],
    materials: Sequence[Material],
    next_order_id: Callable[[], str],
    fall_back: FallBackWindows = NO_FALL_BACK,
) -> tuple[list[StateEvent], list[Order]]:
    """The asset's gap-free state timeline over [first shift start, last shift end) and the orders it ran."""
    start, end = shifts[0].start, shifts[-1].end
    # Assets differ in reliability: the breakdown weight varies by a factor of three across a plant.
    breakdown_weight = STOPS[2][1] * rng.uniform(0.5, 1.5)
    unplanned, orders = _unplanned_events(rng, codes, start, end, materials, next_order_id, breakdown_weight)
    events = _overlay(unplanned, _planned_windows(rng, codes, shifts, fall_back))
    events, orders = snap_to_fall_back(events, orders, fall_back)
    _check_gap_free(events, start, end)
    return events, orders


def _check_gap_free(events: list[StateEvent], start: int, end: int) -> None:
    if not events or events[0].start != start or events[-1].end != end:
        raise AssertionError("state timeline does not span the period")
    for before, after in itertools.pairwise(events):
        if before.end != after.start or before.start >= before.end:
            raise AssertionError(f"state timeline has a gap or overlap at {before.end}")
