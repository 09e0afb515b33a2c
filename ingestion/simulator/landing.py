"""Writing files under the data root atomically and idempotently, and remembering what was written.

A file is rendered into a hidden temporary file beside its target (same directory, so the final `os.replace` is
atomic for readers; the leading dot and suffix keep it out of every landing glob) and moved over the target only if
the bytes differ: an unchanged file keeps its mtime, so file sensors do not fire again.
"""

from __future__ import annotations

import filecmp
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def replace_if_changed(temporary: Path, target: Path) -> bool:
    """Move `temporary` over `target` unless `target` already holds the same bytes; True if the target changed."""
    if target.exists() and filecmp.cmp(temporary, target, shallow=False):
        temporary.unlink()
        return False
    os.replace(temporary, target)
    return True


def temporary_beside(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces `target` (if the bytes differ), on error it is removed."""
    temporary = temporary_beside(target)
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    replace_if_changed(temporary, target)


def write_bytes(target: Path, content: bytes) -> None:
    with atomic_path(target) as temporary:
        temporary.write_bytes(content)


@dataclass(frozen=True)
class ExtractFile:
    """One landing file written for a plant."""

    plant_id: str
    source: str
    table: str
    path: Path
    rows: int


@dataclass
class LandingWriter:
    """Writes landing files under `<out_root>/landing/<plant_id>/<source>/` and lists them."""

    out_root: Path
    files: list[ExtractFile] = field(default_factory=list)

    def path(self, plant_id: str, source: str, file_name: str) -> Path:
        return self.out_root / "landing" / plant_id / source / file_name

    def relative(self, path: Path) -> str:
        return path.relative_to(self.out_root).as_posix()

    def write(
        self, plant_id: str, source: str, table: str, file_name: str, render: Callable[[Path], int]
    ) -> ExtractFile:
        """`render(temporary_path)` writes the file and returns its data rows."""
        target = self.path(plant_id, source, file_name)
        with atomic_path(target) as temporary:
            rows = render(temporary)
        extract = ExtractFile(plant_id, source, table, target, rows)
        self.files.append(extract)
        return extract
