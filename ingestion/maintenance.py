"""Delta table upkeep: compaction, checkpoints and vacuum with a retention floor.

Micro-batches make many small files and many versions; compaction keeps reads fast and checkpoints keep the log
short. Vacuum never goes below the retention floor, so time travel within retention keeps working and a concurrent
reader's files are not deleted under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from deltalake import DeltaTable

MIN_RETENTION_HOURS = 168


@dataclass(frozen=True)
class MaintenanceResult:
    files_removed_by_compaction: int
    files_added_by_compaction: int
    files_vacuumed: int
    version: int


def maintain(uri: str, *, retention_hours: int = MIN_RETENTION_HOURS, target_size: int = 128 * 1024 * 1024) -> MaintenanceResult:
    """Compact small files, write a checkpoint, vacuum files older than the retention (never below the floor)."""
    if retention_hours < MIN_RETENTION_HOURS:
        raise ValueError(
            f"retention of {retention_hours} h is below the floor of {MIN_RETENTION_HOURS} h: readers and time travel "
            "within the retention window would break"
        )
    table = DeltaTable(uri)
    metrics = table.optimize.compact(target_size=target_size)
    table.create_checkpoint()
    vacuumed = table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=True)
    return MaintenanceResult(
        files_removed_by_compaction=int(metrics.get("numFilesRemoved", 0)),
        files_added_by_compaction=int(metrics.get("numFilesAdded", 0)),
        files_vacuumed=len(vacuumed),
        version=DeltaTable(uri).version(),
    )
