"""The governed items of the catalog, their ids and the content hash an approval binds to.

Item ids: ``contract:<contract id>``, ``kpi:<kpi id>``, ``mapping:<file stem>``, ``plant:<plant id>``,
``governance:config`` and ``apps:config`` (the apps' thresholds and board, catalog/apps.yaml). An item's content is its file's bytes; line endings are normalized so that a checkout with
CRLF line endings hashes like the committed file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from catalog.governance.config import GovernanceError

GOVERNANCE_ITEM = "governance:config"
APPS_ITEM = "apps:config"
# single-file items: id -> (kind, file in the catalog)
_SINGLE_FILES = {GOVERNANCE_ITEM: ("governance", "governance.yaml"), APPS_ITEM: ("apps", "apps.yaml")}

# kind -> folder of the catalog and the YAML field naming the item (None: the file stem)
_KINDS: dict[str, tuple[str, str | None]] = {
    "contract": ("contracts", "id"),
    "kpi": ("kpis", "id"),
    "mapping": ("mappings", None),
    "plant": ("plants", "plant_id"),
}


def content_hash(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest()


def short(hash_: str | None) -> str:
    return hash_.split(":", 1)[1][:12] if hash_ else "none"


@dataclass(frozen=True)
class CatalogItem:
    id: str
    kind: str
    path: Path

    def read(self) -> bytes | None:
        return self.path.read_bytes() if self.path.is_file() else None


# libyaml when present: the catalog is parsed on every status and decision, the pure-Python parser is slow.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1024)
def _named(path: Path, id_field: str, mtime_ns: int, size: int) -> str | None:
    """The item name a file declares (cached while the file is unchanged)."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # CSafeLoader or SafeLoader: safe
    except yaml.YAMLError:
        return None
    return str(document[id_field]) if isinstance(document, dict) and document.get(id_field) else None


def catalog_items(catalog_dir: Path) -> dict[str, CatalogItem]:
    """Every governed item of the catalog, by id."""
    items: dict[str, CatalogItem] = {
        item_id: CatalogItem(item_id, kind, catalog_dir / file) for item_id, (kind, file) in _SINGLE_FILES.items()
    }
    for kind, (folder, id_field) in _KINDS.items():
        for path in sorted((catalog_dir / folder).glob("*.yaml")):
            stat = path.stat()
            name = (_named(path, id_field, stat.st_mtime_ns, stat.st_size) if id_field else None) or path.stem
            item_id = f"{kind}:{name}"
            if item_id in items:
                raise GovernanceError(f"{path}: item {item_id} is also defined by {items[item_id].path}")
            items[item_id] = CatalogItem(item_id, kind, path)
    return items


def item_kind(item_id: str) -> str:
    kind = item_id.split(":", 1)[0]
    if kind not in (*_KINDS, "governance", "apps"):
        raise GovernanceError(
            f"{item_id!r} is not an item id (contract:<id>, kpi:<id>, mapping:<file>, plant:<id>, {GOVERNANCE_ITEM}, "
            f"{APPS_ITEM})"
        )
    return kind


_VERSION = re.compile(rb"^version:[ \t]*['\"]?([^'\"\s#]+)", re.MULTILINE)


def version_of(content: bytes | None) -> str | None:
    """The top-level ``version`` field of a contract or KPI definition, if the content has one."""
    match = _VERSION.search(content) if content is not None else None
    return match.group(1).decode("utf-8") if match else None
