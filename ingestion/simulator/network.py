"""Public entry points: generate a network's landing extracts and ground truth, and stream its sensor readings.

Layout under `out_root` (docs/design.md):
    landing/<plant_id>/<mes|erp>/<profile glob with * = period start date>   one file per table and plant
    simulator/ground_truth/asset_shift.parquet
    simulator/ground_truth/sensor_readings.parquet
    simulator/manifest.json                          the landing files this run wrote (to clean up after a rerun)

Generation is idempotent: the same network, seed and catalog give byte-identical files, and a file whose content
is unchanged is not rewritten (its mtime stays, so file sensors do not fire again). Landing files that the previous
run wrote (per its manifest) and this run does not are removed, so that after switching from `demo` to `ci` in one
data root the landing area holds exactly what the ground truth describes; files the simulator did not write are
never touched.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .config import NetworkConfig, load_network_config
from .extracts import render_plant_extracts
from .ground_truth import asset_shift_table
from .model import SimulatedNetwork
from .sensors import SensorReading, iter_network_readings, readings_from_network
from .simulation import simulate_network

GROUND_TRUTH_DIR = Path("simulator") / "ground_truth"
MANIFEST = Path("simulator") / "manifest.json"
SENSOR_TRUTH_SCHEMA = pa.schema(
    [
        ("plant_id", pa.string()),
        ("asset_local_id", pa.string()),
        ("tag", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
    ]
)
SENSOR_BATCH_ROWS = 250_000


@dataclass(frozen=True)
class ExtractFile:
    """One landing file written for a plant."""

    plant_id: str
    source: str
    table: str
    path: Path
    rows: int


@dataclass(frozen=True)
class NetworkSummary:
    """What `generate_network` wrote."""

    network: str
    seed: int
    first_production_day: dt.date
    days: int
    plants: tuple[str, ...]
    assets: dict[str, tuple[str, ...]]  # plant_id -> asset_local_ids
    extracts: tuple[ExtractFile, ...]
    asset_shift_rows: int
    sensor_readings: int
    ground_truth: dict[str, Path]  # "asset_shift" | "sensor_readings" -> parquet path

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per table over all plants, keyed `<source>/<table>`."""
        counts: dict[str, int] = {}
        for extract in self.extracts:
            key = f"{extract.source}/{extract.table}"
            counts[key] = counts.get(key, 0) + extract.rows
        return counts


def _replace_if_changed(temporary: Path, target: Path) -> None:
    """Move `temporary` over `target` unless `target` already holds the same bytes (atomic for readers)."""
    if target.exists() and filecmp.cmp(temporary, target, shallow=False):
        temporary.unlink()
    else:
        os.replace(temporary, target)


def _temporary_beside(target: Path) -> Path:
    # Same directory so that os.replace is atomic; the leading dot and the suffix keep it out of every landing glob.
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def _write_bytes(target: Path, content: bytes) -> None:
    temporary = _temporary_beside(target)
    temporary.write_bytes(content)
    _replace_if_changed(temporary, target)


def _write_sensor_truth(network: SimulatedNetwork, target: Path) -> int:
    """Stream every reading into Parquet, one row group per batch (bounded memory); returns the number of readings."""
    temporary = _temporary_beside(target)
    readings = iter_network_readings(network)
    total = 0
    try:
        with pq.ParquetWriter(temporary, SENSOR_TRUTH_SCHEMA) as writer:
            while batch := list(itertools.islice(readings, SENSOR_BATCH_ROWS)):
                epochs, plants, assets, tags, values, _units = zip(*batch, strict=True)
                columns = [plants, assets, tags, [epoch * 1_000_000 for epoch in epochs], values]
                writer.write_table(pa.table(columns, schema=SENSOR_TRUTH_SCHEMA))
                total += len(batch)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _replace_if_changed(temporary, target)
    return total


def _remove_stale_landing_files(out_root: Path, written: set[Path]) -> list[Path]:
    """Delete landing files listed in the previous run's manifest that this run did not write again."""
    manifest = out_root / MANIFEST
    if not manifest.exists():
        return []
    landing = (out_root / "landing").resolve()
    removed = []
    for entry in json.loads(manifest.read_text(encoding="utf-8"))["files"]:
        path = (out_root / entry["path"]).resolve()
        # The manifest is a file on disk: never follow it outside the landing area.
        if path.is_relative_to(landing) and path not in written and path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def _manifest(config: NetworkConfig, out_root: Path, extracts: list[ExtractFile]) -> bytes:
    files = [
        {
            "path": extract.path.relative_to(out_root).as_posix(),
            "plant_id": extract.plant_id,
            "source": extract.source,
            "table": extract.table,
            "rows": extract.rows,
        }
        for extract in extracts
    ]
    content = {
        "network": config.name,
        "seed": config.seed,
        "first_production_day": config.start_date.isoformat(),
        "days": config.days,
        "files": files,
    }
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def generate_network(
    config_path_or_name: str | Path,
    out_root: Path,
    *,
    catalog_dir: Path | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> NetworkSummary:
    """Write the network's landing extracts and ground truth under `out_root` and summarise them.

    `config_path_or_name` is `ci`, `demo` (this package's networks/) or a YAML path; `seed` overrides its seed;
    `catalog_dir` defaults to the repository's `catalog/`.
    """
    report = progress or (lambda _message: None)
    out_root = Path(out_root)
    config = load_network_config(config_path_or_name, seed=seed)
    network = simulate_network(config, catalog_dir)
    stamp = config.start_date.isoformat()
    extracts = []
    for plant in network.plants:
        for rendered in render_plant_extracts(plant, stamp):
            path = out_root / "landing" / plant.plant_id / rendered.source / rendered.file_name
            _write_bytes(path, rendered.content)
            extracts.append(ExtractFile(plant.plant_id, rendered.source, rendered.table, path, rendered.rows))
        counts = ", ".join(f"{e.table} {e.rows}" for e in extracts if e.plant_id == plant.plant_id)
        report(f"{plant.plant_id}: {len(plant.assets)} assets, {len(plant.shifts)} shifts; rows: {counts}")
    for path in _remove_stale_landing_files(out_root, {extract.path.resolve() for extract in extracts}):
        report(f"removed {path.relative_to(out_root.resolve())} (written by the previous run, not by this one)")
    _write_bytes(out_root / MANIFEST, _manifest(config, out_root, extracts))

    truth_dir = out_root / GROUND_TRUTH_DIR
    asset_shift = asset_shift_table(network)
    buffer = pa.BufferOutputStream()
    pq.write_table(asset_shift, buffer)
    _write_bytes(truth_dir / "asset_shift.parquet", buffer.getvalue().to_pybytes())
    report(f"ground truth: {asset_shift.num_rows} asset-shift rows")
    readings = _write_sensor_truth(network, truth_dir / "sensor_readings.parquet")
    report(f"ground truth: {readings} sensor readings")

    return NetworkSummary(
        network=config.name,
        seed=config.seed,
        first_production_day=config.start_date,
        days=config.days,
        plants=tuple(plant.plant_id for plant in network.plants),
        assets={p.plant_id: tuple(a.asset.asset_local_id for a in p.assets) for p in network.plants},
        extracts=tuple(extracts),
        asset_shift_rows=asset_shift.num_rows,
        sensor_readings=readings,
        ground_truth={
            "asset_shift": truth_dir / "asset_shift.parquet",
            "sensor_readings": truth_dir / "sensor_readings.parquet",
        },
    )


def iter_sensor_readings(
    config_path_or_name: str | Path, *, catalog_dir: Path | None = None, seed: int | None = None
) -> Iterator[SensorReading]:
    """Stream the network's sensor readings (exactly those in sensor_readings.parquet, same order) for publishing.

    Only the in-memory timelines are rebuilt (milliseconds); nothing is written.
    """
    config = load_network_config(config_path_or_name, seed=seed)
    return readings_from_network(simulate_network(config, catalog_dir))
