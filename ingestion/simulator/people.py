"""People and safety of one plant: attendance per employee and shift, training, and safety events.

- Crews: one crew per shift code, `employees_per_asset x assets` people each (rounded up); a crew works every
  calendar shift of its code. Scheduled time = the shift's real length (a night shift over a DST change is 7 or 9 h).
- Attendance: 3.5 % of employee-shifts are absences (sick 60 %, vacation 30 %, unexcused 10 %), 4 % are partial
  (late arrival or early leave of 0.25-2 h); everyone else attends the whole shift. Of the attended time, 0.25-1.5 h
  are not booked on orders (meetings, cleaning, waiting); the rest is the personnel work time (APWT), drawn from its
  own random stream so that the attendance itself does not depend on it.
- Training: on each production day an employee attends a course with probability 1/40, for 1-8 h.
- Safety events per calendar day, Poisson with rates per 50 people: near miss 0.15, first aid 0.04, recordable 0.012,
  lost time 0.005; each happens at a random instant of one of that day's shifts (never in the first pass of a
  repeated DST hour, see shifts.py), on a random line (or none, 10 %).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence

from .model import AttendanceRecord, Incident, ShiftWindow, TrainingRecord
from .randomness import poisson
from .shifts import FallBackWindows

ABSENCE_SHARE = 0.035
PARTIAL_SHARE = 0.04
UNBOOKED_QUARTER_HOURS = (1, 6)  # attended time not booked on orders, in quarter hours
ABSENCE_KINDS = (("sick", 0.6), ("vacation", 0.3), ("unexcused", 0.1))
TRAINING_PROBABILITY = 1 / 40
INCIDENT_RATES_PER_50 = (("near_miss", 0.15), ("first_aid", 0.04), ("recordable", 0.012), ("lost_time", 0.005))

ABSENCE_REASONS: dict[str, dict[str, str]] = {
    "de": {"sick": "Krankheit", "vacation": "Urlaub", "unexcused": "Unentschuldigt", "partial": "Verspätung"},
    "es": {"sick": "Enfermedad", "vacation": "Vacaciones", "unexcused": "Falta injustificada", "partial": "Retardo"},
    "en": {"sick": "SICK", "vacation": "VAC", "unexcused": "NCNS", "partial": "TARDY"},
}
COURSES: dict[str, tuple[str, ...]] = {
    "de": ("Arbeitssicherheit", "Staplerschein", "5S Grundlagen", "Qualitätsprüfung", "Erste Hilfe"),
    "es": ("Seguridad industrial", "Montacargas", "5S básico", "Control de calidad", "Primeros auxilios"),
    "en": ("Safety orientation", "Forklift certification", "5S basics", "Quality inspection", "First aid"),
}
INCIDENT_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "de": {"near_miss": "Stapler knapp verfehlt", "first_aid": "Schnittverletzung Hand",
           "recordable": "Quetschung Finger", "lost_time": "Sturz auf nassem Boden"},
    "es": {"near_miss": "Montacargas casi golpea a operador", "first_aid": "Corte menor en mano",
           "recordable": "Machucón de dedo", "lost_time": "Caída en piso mojado"},
    "en": {"near_miss": "Forklift near collision", "first_aid": "Minor hand cut",
           "recordable": "Pinched finger", "lost_time": "Slip on wet floor"},
}


def crews(shift_codes: Sequence[str], assets: int, employees_per_asset: float, id_format: str) -> dict[str, list[str]]:
    """Employee ids per shift code."""
    size = max(1, math.ceil(assets * employees_per_asset))
    numbers = iter(range(1, size * len(shift_codes) + 1))
    return {code: [id_format.format(n=next(numbers)) for _ in range(size)] for code in shift_codes}


def attendance_records(
    rng: random.Random,
    work_rng: random.Random,
    shifts: Sequence[ShiftWindow],
    crew_of: Mapping[str, list[str]],
    language: str,
) -> list[AttendanceRecord]:
    reasons = ABSENCE_REASONS[language]
    records = []
    for shift in shifts:
        scheduled = shift.duration_s / 3600
        for employee in crew_of[shift.shift_code]:
            draw = rng.random()
            if draw < ABSENCE_SHARE:
                kind = rng.choices([k for k, _ in ABSENCE_KINDS], [w for _, w in ABSENCE_KINDS])[0]
                attended, reason = 0.0, reasons[kind]
            elif draw < ABSENCE_SHARE + PARTIAL_SHARE:
                attended, reason = scheduled - rng.randint(1, 8) * 0.25, reasons["partial"]
            else:
                attended, reason = scheduled, None
            worked = max(0.0, attended - work_rng.randint(*UNBOOKED_QUARTER_HOURS) * 0.25) if attended else 0.0
            records.append(
                AttendanceRecord(employee, shift.shift_date, shift.shift_code, scheduled, attended, reason, worked)
            )
    return records


def training_records(
    rng: random.Random, days: Sequence[dt.date], employees: Sequence[str], language: str
) -> list[TrainingRecord]:
    records = []
    for day in days:
        for employee in employees:
            if rng.random() < TRAINING_PROBABILITY:
                hours = rng.randint(2, 16) * 0.5
                records.append(TrainingRecord(employee, day, rng.choice(COURSES[language]), hours))
    return records


def incidents(
    rng: random.Random,
    shifts: Sequence[ShiftWindow],
    headcount: int,
    lines: Sequence[str],
    local_types: Mapping[str, str],
    language: str,
    incident_id_format: str,
    fall_back: FallBackWindows,
) -> list[Incident]:
    """Safety events on the plant's production days, in time order."""
    by_day: dict[dt.date, list[ShiftWindow]] = {}
    for shift in shifts:
        by_day.setdefault(shift.shift_date, []).append(shift)
    events = []
    scale = headcount / 50
    for day in sorted(by_day):
        for kind, rate in INCIDENT_RATES_PER_50:
            for _ in range(poisson(rng, rate * scale)):
                shift = rng.choice(by_day[day])
                at = fall_back.snap(rng.randrange(shift.start, shift.end, 60))
                line = None if rng.random() < 0.1 else rng.choice(lines)
                lost = rng.randint(1, 10) if kind == "lost_time" else 0
                events.append((at, kind, line, lost))
    events.sort(key=lambda event: event[0])
    return [
        Incident(
            incident_id=incident_id_format.format(n=number),
            occurred_at=at,
            enterprise_type=kind,
            local_type=local_types[kind],
            line_local_id=line,
            lost_days=lost,
            description=INCIDENT_DESCRIPTIONS[language][kind],
        )
        for number, (at, kind, line, lost) in enumerate(events, start=1)
    ]

