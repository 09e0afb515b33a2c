"""Archives dropped into the landing area, checked before anything is extracted.

A zip is refused whole, naming archive and member, when any member has an absolute path or ``..``, is a symlink or
a device, when the total uncompressed size or the compression ratio is above the limits (zip bombs), or when there are
too many members. Only then are members written, flat, beside the archive, and only inside the landing folder.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 1_000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_RATIO = 100.0


class ArchiveError(ValueError):
    """An archive was refused; the message names the archive and the member."""


@dataclass(frozen=True)
class Unpacked:
    archive: Path
    members: tuple[Path, ...]


def check_zip(archive: Path, *, max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO) -> list[zipfile.ZipInfo]:
    """Every member's path, type and size, before extraction. Raises ArchiveError on the first problem."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{archive.name}: not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError(f"{archive.name}: {len(infos)} members, more than the limit of {MAX_MEMBERS}")
        total = 0
        for info in infos:
            name = info.filename
            path = PurePosixPath(name.replace("\\", "/"))
            if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
                raise ArchiveError(f"{archive.name}: member {name!r} has an absolute path")
            if ".." in path.parts:
                raise ArchiveError(f"{archive.name}: member {name!r} escapes the landing folder ('..')")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ArchiveError(f"{archive.name}: member {name!r} is a symbolic link")
            kind = stat.S_IFMT(mode)  # 0 when the archiver recorded permissions only
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(f"{archive.name}: member {name!r} is not a regular file")
            total += info.file_size
            if total > max_total_bytes:
                raise ArchiveError(f"{archive.name}: member {name!r} takes the uncompressed size above {max_total_bytes} bytes")
            if info.compress_size and info.file_size / info.compress_size > max_ratio:
                raise ArchiveError(
                    f"{archive.name}: member {name!r} compresses {info.file_size / info.compress_size:.0f}:1, "
                    f"above the limit of {max_ratio:.0f}:1 (zip bomb?)"
                )
        return [i for i in infos if not i.is_dir()]


def unpack_zip(archive: Path, **limits: float) -> Unpacked:
    """Check, then extract members flat beside the archive. Existing identical files are left alone."""
    members = check_zip(archive, **limits)  # type: ignore[arg-type]
    folder = archive.parent.resolve()
    written = []
    with zipfile.ZipFile(archive) as zf:
        for info in members:
            target = (folder / PurePosixPath(info.filename).name).resolve()
            if target.parent != folder:
                raise ArchiveError(f"{archive.name}: member {info.filename!r} would be written outside {folder}")
            data = zf.read(info)  # bounded by the size checks above
            if target.exists() and target.read_bytes() == data:
                written.append(target)
                continue
            if target.exists():
                raise ArchiveError(f"{archive.name}: member {info.filename!r} differs from the existing {target.name}")
            tmp = target.with_name(f".{target.name}.partial")
            tmp.write_bytes(data)
            tmp.rename(target)
            written.append(target)
    return Unpacked(archive, tuple(written))
