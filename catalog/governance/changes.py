"""What a proposed version changes against the approved one, and which of those changes break consumers.

Breaking: a removed column, a type change, a key change, a column that may now be null, a unit change, a formula
change, a mapping change (published values change from its valid_from), a schedule or dialect change of a plant, a
change of the governance body. Not breaking: added columns, descriptions, targets, ranges, display, comments.
A breaking change of a contract or KPI definition needs a new ``version``, so that every published value can say
which definition it was computed with.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Change:
    category: str  # e.g. "removed column", "formula change", "target change"
    breaking: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{'BREAKING ' if self.breaking else ''}{self.category}: {self.detail}"


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # CSafeLoader or SafeLoader: safe
    except yaml.YAMLError:
        return None


def unified_diff(old: str | None, new: str | None, name: str, *, old_label: str, new_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"{name} ({old_label})",
            tofile=f"{name} ({new_label})",
        )
    )


def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# --- contracts ------------------------------------------------------------------------------------------------------


def _columns(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schema = (document.get("schema") or [{}])[0]
    return {p["name"]: p for p in schema.get("properties") or []}


def _custom(prop: dict[str, Any], name: str) -> Any:
    return next((p.get("value") for p in prop.get("customProperties") or [] if p.get("property") == name), None)


def _contract_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    old_cols, new_cols = _columns(old), _columns(new)
    for name in old_cols.keys() - new_cols.keys():
        changes.append(Change("removed column", True, name))
    for name in sorted(new_cols.keys() - old_cols.keys()):
        changes.append(Change("added column", False, f"{name} ({new_cols[name].get('physicalType')})"))
    for name in sorted(old_cols.keys() & new_cols.keys()):
        before, after = old_cols[name], new_cols[name]
        for field in ("physicalType", "logicalType"):
            if before.get(field) != after.get(field):
                changes.append(
                    Change("type change", True, f"{name}: {field} {before.get(field)} -> {after.get(field)}")
                )
        if bool(before.get("required")) and not bool(after.get("required")):
            changes.append(Change("nullability change", True, f"{name} may now be null"))
        elif not bool(before.get("required")) and bool(after.get("required")):
            changes.append(Change("constraint change", False, f"{name} is now required"))
        if _custom(before, "unit") != _custom(after, "unit"):
            changes.append(
                Change("unit change", True, f"{name}: {_custom(before, 'unit')} -> {_custom(after, 'unit')}")
            )
        if _custom(before, "kpi") != _custom(after, "kpi"):
            changes.append(
                Change("formula change", True, f"{name}: KPI {_custom(before, 'kpi')} -> {_custom(after, 'kpi')}")
            )
        rest = {"physicalType", "logicalType", "required", "customProperties"}
        if {k: v for k, v in before.items() if k not in rest} != {k: v for k, v in after.items() if k not in rest}:
            if (before.get("primaryKey"), before.get("primaryKeyPosition")) != (
                after.get("primaryKey"),
                after.get("primaryKeyPosition"),
            ):
                changes.append(Change("key change", True, f"{name}: primary key membership or position"))
            else:
                changes.append(Change("column description or quality rule", False, name))
    for key, category, breaking in (
        ("servers", "location change", True),
        ("slaProperties", "SLA change", False),
        ("description", "description change", False),
    ):
        if old.get(key) != new.get(key):
            changes.append(Change(category, breaking, key))
    old_schema, new_schema = (old.get("schema") or [{}])[0], (new.get("schema") or [{}])[0]
    if (old_schema.get("physicalName"), old_schema.get("name")) != (
        new_schema.get("physicalName"),
        new_schema.get("name"),
    ):
        changes.append(
            Change("location change", True, f"{old_schema.get('physicalName')} -> {new_schema.get('physicalName')}")
        )
    return changes


# --- KPI definitions ------------------------------------------------------------------------------------------------

_KPI_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("id", "renamed", True),
    ("formula", "formula change", True),
    ("rollup", "formula change", True),
    ("unit", "unit change", True),
    ("target", "target change", False),
    ("range", "range change", False),
    ("display", "display change", False),
    ("coverage", "coverage rule change", False),
    # a definition's parameters (e.g. energy_per_good_unit's meter_max_gap_s) change its values
    ("parameters", "parameter change", True),
    ("examples", "worked example change", False),
)


def _kpi_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    handled = {f for f, _, _ in _KPI_FIELDS} | {"version", "status"}
    for field, category, breaking in _KPI_FIELDS:
        if old.get(field) != new.get(field):
            changes.append(Change(category, breaking, f"{field}: {_short(old.get(field))} -> {_short(new.get(field))}"))
    other = sorted(k for k in old.keys() | new.keys() if k not in handled and old.get(k) != new.get(k))
    if other:
        changes.append(Change("definition text change", False, ", ".join(other)))
    return changes


# --- mappings -------------------------------------------------------------------------------------------------------

_IDENTITY_FIELDS = ("plant_id", "local_code", "from_unit", "to_unit", "valid_from")


def _identity(entry: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(str(entry.get(f)) if entry.get(f) is not None else None for f in _IDENTITY_FIELDS)


def _label(entry: dict[str, Any]) -> str:
    plant = f"{entry['plant_id']} " if entry.get("plant_id") else ""
    code = entry.get("local_code", entry.get("from_unit"))
    since = f" (valid from {entry['valid_from']})" if entry.get("valid_from") else ""
    return f"{plant}{str(code)!r}{since}"


def _mapping_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, list) or isinstance(after, list):
            old_entries = {_identity(e): e for e in before or [] if isinstance(e, dict)}
            new_entries = {_identity(e): e for e in after or [] if isinstance(e, dict)}
            for identity in old_entries.keys() - new_entries.keys():
                changes.append(Change("mapping change", True, f"removed {_label(old_entries[identity])}"))
            for identity in new_entries.keys() - old_entries.keys():
                entry = new_entries[identity]
                target = {k: v for k, v in entry.items() if k not in _IDENTITY_FIELDS}
                changes.append(Change("mapping change", True, f"added {_label(entry)} -> {_short(target)}"))
            for identity in old_entries.keys() & new_entries.keys():
                if old_entries[identity] != new_entries[identity]:
                    b, a = old_entries[identity], new_entries[identity]
                    diff = {k: f"{b.get(k)} -> {a.get(k)}" for k in b.keys() | a.keys() if b.get(k) != a.get(k)}
                    changes.append(Change("mapping change", True, f"changed {_label(a)}: {_short(diff)}"))
        elif isinstance(before, dict) or isinstance(after, dict):
            b, a = before or {}, after or {}
            for name in sorted(b.keys() | a.keys()):
                if b.get(name) != a.get(name):
                    changes.append(
                        Change("mapping change", True, f"{key}.{name}: {_short(b.get(name))} -> {_short(a.get(name))}")
                    )
        else:
            changes.append(Change("mapping change", True, f"{key}: {_short(before)} -> {_short(after)}"))
    return sorted(changes, key=lambda c: c.detail)


# --- plant profiles and the governance config ----------------------------------------------------------------------


def _plant_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    for field, category, breaking in (
        ("timezone", "schedule change", True),
        ("shifts", "schedule change", True),
        ("extracts", "dialect change", True),
        ("plant_id", "renamed", True),
        ("name", "name change", False),
    ):
        if old.get(field) != new.get(field):
            changes.append(Change(category, breaking, field))
    return changes


def _governance_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    return [
        Change("governance change", True, field)
        for field in ("members", "domains", "roles")
        if old.get(field) != new.get(field)
    ]


def _apps_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """What leaders see changes: which figures count as trustworthy (confidence), the periods, the board."""
    return [
        Change("display change", field == "confidence", field)
        for field in ("confidence", "periods", "scorecard")
        if old.get(field) != new.get(field)
    ]


_CLASSIFIERS = {
    "contract": _contract_changes,
    "kpi": _kpi_changes,
    "mapping": _mapping_changes,
    "plant": _plant_changes,
    "governance": _governance_changes,
    "apps": _apps_changes,
}


def classify(kind: str, old_text: str | None, new_text: str | None) -> list[Change]:
    """The changes from the approved version (``old_text``, None if there is none) to the proposed one."""
    if old_text is None:
        return [Change("new item", False, "no approved version yet")]
    if new_text is None:
        return [Change("removed item", True, "the file is gone")]
    old, new = _load(old_text), _load(new_text)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [Change("unparseable", True, "the old or new version is not a YAML mapping")]
    if old == new:
        return [] if old_text == new_text else [Change("comments or formatting", False, "same content")]
    changes = _CLASSIFIERS[kind](old, new)
    if not changes:
        changes = [
            Change(
                "other change", False, ", ".join(sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)))
            )
        ]
    if kind in ("contract", "kpi") and old.get("version") != new.get("version"):
        changes.append(Change("version change", False, f"{old.get('version')} -> {new.get('version')}"))
    return changes


def needs_new_version(kind: str, old_text: str | None, new_text: str | None, changes: list[Change]) -> bool:
    """A breaking change of a versioned item (contract, KPI definition) that keeps the approved version number."""
    if kind not in ("contract", "kpi") or old_text is None or new_text is None:
        return False
    old, new = _load(old_text) or {}, _load(new_text) or {}
    return any(c.breaking for c in changes) and old.get("version") == new.get("version")
