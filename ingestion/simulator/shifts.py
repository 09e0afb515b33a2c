"""Shift calendar: a plant's shift pattern laid out over production days, in UTC, and wall-clock conversion.

Shifts are defined on the plant's local wall clock; a shift whose end is <= its start ends on the next day. The
simulator works in UTC epoch seconds and converts back to naive local time only when it writes extracts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from .model import ShiftWindow
from .profiles import PlantProfile


def local_to_epoch(local: dt.datetime, tz: ZoneInfo) -> int:
    """Naive local wall-clock time -> UTC epoch seconds."""
    return int(local.replace(tzinfo=tz).timestamp())


def epoch_to_local(epoch: int, tz: ZoneInfo) -> dt.datetime:
    """UTC epoch seconds -> naive local wall-clock time."""
    return dt.datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


def utc_offset_s(epoch: int, tz: ZoneInfo) -> int:
    offset = dt.datetime.fromtimestamp(epoch, tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def shift_windows(profile: PlantProfile, production_days: list[dt.date]) -> list[ShiftWindow]:
    """Every shift of every production day, in time order; refuses overlapping shifts and DST transitions.

    Naive local timestamps are ambiguous during a DST fall-back hour, so the extracts could not be read back
    unambiguously; until the plant profiles say how each plant writes that hour, periods with a transition are refused.
    """
    tz = profile.tz
    windows = []
    for day in production_days:
        for shift in profile.shifts:
            start_local, end_local = shift.window_local(day)
            windows.append(
                ShiftWindow(
                    shift_code=shift.code,
                    shift_date=day,
                    start=local_to_epoch(start_local, tz),
                    end=local_to_epoch(end_local, tz),
                )
            )
    windows.sort(key=lambda window: window.start)
    for before, after in itertools.pairwise(windows):
        if after.start < before.end:
            raise ValueError(
                f"{profile.plant_id}: shift {after.shift_code} on {after.shift_date} overlaps "
                f"shift {before.shift_code} on {before.shift_date}"
            )
    if utc_offset_s(windows[0].start, tz) != utc_offset_s(windows[-1].end, tz):
        raise NotImplementedError(
            f"{profile.plant_id}: the simulated period crosses a DST transition in {profile.timezone}; "
            "choose a period without one"
        )
    return windows
