"""Shift calendar and local time: a plant's weekly shift pattern laid out over production days, in UTC.

Shifts are defined on the plant's local wall clock (a shift whose end is <= its start ends on the next day), run on
the weekdays their profile names, and not at all on the plant's holidays. The simulator works in UTC epoch seconds
and converts to naive local time only when it writes extracts.

Daylight saving time: extracts carry naive local timestamps, so two instants share one label in the hour that is
repeated when the clocks fall back, and labels in the hour skipped in spring name no instant. The pipeline converts
with DuckDB's `timezone(<IANA zone>, <local timestamp>)` (ICU), which resolves both cases to the *later* of the two
candidate instants: a repeated label means its second occurrence (standard time), a skipped label is read with the
offset in force before the change. `local_to_epoch` implements exactly that rule, and the simulator never needs
the other reading: no state change, count interval, shift boundary or incident is placed in the *first* pass of a
repeated hour (`FallBackWindows.snap` moves such a boundary to the clock change, where the second pass begins). A
plant's MES behaves the same way: an event that starts in the first pass of the repeated hour is recorded as
starting at the clock change. So every naive timestamp the simulator writes converts back to the instant the
ground truth used, a night shift across the change in October lasts 9 hours and one in March 7 hours.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .model import ShiftWindow
from .profiles import PlantProfile

HOUR = 3600


def local_to_epoch(local: dt.datetime, tz: ZoneInfo) -> int:
    """Naive local wall-clock time -> UTC epoch seconds, resolved as the pipeline resolves it (the later instant).

    Unambiguous labels have one instant (both folds agree). A label in the repeated hour has two; a label in the
    skipped hour has none, and Python's two folds read it with the offsets before and after the change. In both
    cases DuckDB/ICU picks the later instant, and so does this function.
    """
    first = int(local.replace(tzinfo=tz, fold=0).timestamp())
    second = int(local.replace(tzinfo=tz, fold=1).timestamp())
    return max(first, second)


@functools.lru_cache(maxsize=1 << 16)
def epoch_to_local(epoch: int, tz: ZoneInfo) -> dt.datetime:
    """UTC epoch seconds -> naive local wall-clock time (cached: state boundaries are converted twice)."""
    return dt.datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


def utc_offset_s(epoch: int, tz: ZoneInfo) -> int:
    offset = dt.datetime.fromtimestamp(epoch, tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _transition_in(tz: ZoneInfo, low: int, high: int) -> int:
    """The first instant in (low, high] whose UTC offset differs from the offset at `low` (binary search)."""
    before = utc_offset_s(low, tz)
    while high - low > 1:
        middle = (low + high) // 2
        if utc_offset_s(middle, tz) == before:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True)
class FallBackWindows:
    """The first passes of repeated local hours in a period: UTC [change - shift, change) for each fall-back."""

    windows: tuple[tuple[int, int], ...]

    @classmethod
    def for_period(cls, tz: ZoneInfo, start: int, end: int) -> FallBackWindows:
        windows = []
        step = 6 * HOUR  # no zone changes its offset twice within 6 hours
        previous_t, previous_offset = start, utc_offset_s(start, tz)
        for t in itertools.chain(range(start + step, end, step), [end]):
            offset = utc_offset_s(t, tz)
            if offset != previous_offset:
                change = _transition_in(tz, previous_t, t)
                if offset < previous_offset:  # clocks fall back: local labels repeat
                    windows.append((change - (previous_offset - offset), change))
            previous_t, previous_offset = t, offset
        return cls(tuple(windows))

    def snap(self, t: int) -> int:
        """`t`, or the clock change if `t` lies in the first pass of a repeated hour (monotonic in t)."""
        for begin, change in self.windows:
            if begin <= t < change:
                return change
        return t

    def __bool__(self) -> bool:
        return bool(self.windows)


NO_FALL_BACK = FallBackWindows(())  # a period without a repeated hour


def local_hour_boundaries(begin: int, end: int, tz: ZoneInfo) -> list[int]:
    """Every instant in (begin, end) at which the local clock shows a full hour (DST-aware)."""
    out = []
    t = begin
    while True:
        offset = utc_offset_s(t, tz)
        t = t - (t + offset) % HOUR + HOUR
        if t >= end:
            return out
        out.append(t)


def production_days_with_shifts(profile: PlantProfile, production_days: Sequence[dt.date]) -> list[dt.date]:
    """The production days on which at least one shift runs (weekday pattern, no holiday)."""
    return [
        day
        for day in production_days
        if day not in profile.holidays and any(shift.runs_on(day) for shift in profile.shifts)
    ]


def shift_windows(profile: PlantProfile, production_days: Sequence[dt.date]) -> list[ShiftWindow]:
    """Every shift of every production day in time order: the weekly pattern, without holidays; no overlaps.

    Shift boundaries are converted with the pipeline's DST rule (`local_to_epoch`).
    """
    if not profile.shifts:
        raise ValueError(f"{profile.plant_id}: the plant profile defines no shifts, so it cannot be simulated")
    tz = profile.tz
    windows = []
    for day in production_days:
        if day in profile.holidays:
            continue
        for shift in profile.shifts:
            if not shift.runs_on(day):
                continue
            start_local, end_local = shift.window_local(day)
            windows.append(
                ShiftWindow(
                    shift_code=shift.code,
                    shift_date=day,
                    start=local_to_epoch(start_local, tz),
                    end=local_to_epoch(end_local, tz),
                )
            )
    if not windows:
        raise ValueError(
            f"{profile.plant_id}: no shift runs in the simulated period "
            f"({production_days[0]} - {production_days[-1]}: weekdays off or holidays)"
        )
    windows.sort(key=lambda window: window.start)
    for before, after in itertools.pairwise(windows):
        if after.start < before.end:
            raise ValueError(
                f"{profile.plant_id}: shift {after.shift_code} on {after.shift_date} overlaps "
                f"shift {before.shift_code} on {before.shift_date}"
            )
    return windows


def shift_containing(shifts: Sequence[ShiftWindow], starts: Sequence[int], t: int) -> ShiftWindow | None:
    """The shift whose window contains `t` (`starts` are the shifts' start instants, for bisection)."""
    index = bisect.bisect_right(starts, t) - 1
    if index >= 0 and shifts[index].start <= t < shifts[index].end:
        return shifts[index]
    return None
