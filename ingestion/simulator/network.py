"""Public entry points: generate a network's landing extracts and ground truth, and stream its sensor readings.

Layout under `out_root` (docs/design.md, "Extended network (issue 3)"):
    landing/<plant_id>/<source>/<profile glob with * = first production day>   one file per table and plant
    simulator/ground_truth/asset_shift.parquet      ISO 22400 elements and KPIs per asset and shift
    simulator/ground_truth/local_oee.parquet        each plant's own OEE report beside the enterprise OEE
    simulator/ground_truth/plant_day.parquet        SQDCP facts per plant and local day
    simulator/ground_truth/sensor_readings.parquet  every true reading (the stream without faults)
    simulator/ground_truth/fault_ledger.jsonl       every injected fault (empty when all knobs are off)
    simulator/ground_truth/public_*.parquet         truths of the public datasets (when the network includes them)
    simulator/manifest.json                         the landing files this run wrote (to clean up after a rerun)

Generation streams plant by plant (one plant's year in memory at a time) and the sensor readings block by block
(bounded memory at any scale) and reports progress. It is idempotent: the same network, seed and catalog give
byte-identical files, and a file whose content is unchanged is not rewritten (its mtime stays, so file sensors do
not fire again). Landing files that the previous run wrote (per its manifest) and this run does not are removed, so
that after switching networks in one data root the landing area holds exactly what the ground truth describes;
files the simulator did not write are never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from catalog.plants import PlantProfile as CatalogPlant
from catalog.render import energy_meter

from .config import NetworkConfig, load_network_config
from .erp import costs_in_force
from .extracts import TABLES, plant_tables, write_extract
from .faults import (
    FaultLedger,
    LedgerEntry,
    corrupt_file,
    inject_stream_faults,
    malformed_file_targets,
    plan_file_edits,
)
from .ground_truth import (
    ASSET_SHIFT_ENERGY_SCHEMA,
    ASSET_SHIFT_SCHEMA,
    ENERGY_INPUT_COLUMNS,
    LOCAL_OEE_SCHEMA,
    PLANT_DAY_SCHEMA,
    add_energy_to_plant_days,
    asset_shift_energy_rows,
    asset_shift_rows_of_plant,
    local_oee_rows,
    plant_day_rows,
    shift_boundaries,
)
from .landing import ExtractFile, LandingWriter, atomic_path, write_bytes
from .local_oee import local_figures, reported
from .model import SimulatedPlant
from .profiles import DEFAULT_CATALOG_DIR, load_mappings, load_plant_profiles
from .sensors import TAGS, AssetSignal, MeteredEnergy, SensorModel, SensorReading, asset_signals, iter_readings
from .simulation import plant_profile, simulate_plant

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
# Written with dictionary-encoded strings (cheap at a billion rows) but without the Arrow schema in the file, so
# readers see plain strings, as SENSOR_TRUTH_SCHEMA says.
_SENSOR_WRITE_SCHEMA = pa.schema(
    [
        ("plant_id", pa.dictionary(pa.int32(), pa.string())),
        ("asset_local_id", pa.dictionary(pa.int32(), pa.string())),
        ("tag", pa.dictionary(pa.int32(), pa.string())),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
    ]
)
Progress = Callable[[str], None]


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
    ground_truth: dict[str, Path]  # truth name -> file
    fault_counts: dict[str, int]

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per table over all plants, keyed `<source>/<table>`."""
        counts: dict[str, int] = {}
        for extract in self.extracts:
            key = f"{extract.source}/{extract.table}"
            counts[key] = counts.get(key, 0) + extract.rows
        return counts


class _TableWriter:
    """A Parquet file written in row groups as rows arrive, replaced atomically when closed."""

    def __init__(self, target: Path, schema: pa.Schema) -> None:
        self._context = atomic_path(target)
        self._temporary = self._context.__enter__()
        self._writer = pq.ParquetWriter(self._temporary, schema)
        self.schema = schema
        self.rows = 0

    def write_rows(self, rows: list[dict]) -> None:
        if rows:
            self.write_table(pa.Table.from_pylist(rows, schema=self.schema))

    def write_table(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()
        self._context.__exit__(None, None, None)

    def abort(self, error: BaseException) -> None:
        self._writer.close()
        self._context.__exit__(type(error), error, error.__traceback__)


class _SensorTruthWriter:
    """Streams sensor blocks into `sensor_readings.parquet` (dictionary-encoded, one row group per block).

    Encoding and compression run on a background thread (pyarrow releases the GIL) while the next block is computed;
    at most two blocks wait, so memory stays bounded. Statistics are kept for `ts` only: computing them for the other
    columns cost a third of the write time at the bench scale.
    """

    def __init__(self, target: Path, signals: list[AssetSignal]) -> None:
        self._context = atomic_path(target)
        self._temporary = self._context.__enter__()
        self._writer = pq.ParquetWriter(
            self._temporary,
            _SENSOR_WRITE_SCHEMA,
            store_schema=False,
            compression="zstd",
            use_dictionary=["plant_id", "asset_local_id", "tag", "ts"],
            write_statistics=["ts"],
        )
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: deque[Future] = deque()
        plants = list(dict.fromkeys(s.plant_id for s in signals))
        tags = list(dict.fromkeys(tag for s in signals for tag, _ in s.tags))
        self._plants = pa.array(plants or [""], pa.string())
        self._assets = pa.array([s.asset_local_id for s in signals] or [""], pa.string())
        self._tags = pa.array(tags or [""], pa.string())
        self._plant_of = np.array([plants.index(s.plant_id) for s in signals], dtype=np.int32)
        self._tag_codes = np.array([[tags.index(tag) for tag, _ in s.tags] for s in signals], dtype=np.int32)
        self.rows = 0

    def _submit(self, table: pa.Table) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._writer.write_table, table))
        self.rows += table.num_rows

    def write_block(self, times: np.ndarray, active: np.ndarray, values: np.ndarray) -> None:
        steps, assets = np.nonzero(active)
        if len(steps) == 0:
            return
        asset_codes = np.repeat(assets.astype(np.int32), len(TAGS))
        table = pa.Table.from_arrays(
            [
                pa.DictionaryArray.from_arrays(pa.array(self._plant_of[asset_codes]), self._plants),
                pa.DictionaryArray.from_arrays(pa.array(asset_codes), self._assets),
                pa.DictionaryArray.from_arrays(pa.array(self._tag_codes[assets].reshape(-1)), self._tags),
                pa.array(np.repeat(times[steps], len(TAGS)) * 1_000_000, pa.timestamp("us", tz="UTC")),
                pa.array(values[steps, assets, :].reshape(-1)),
            ],
            schema=_SENSOR_WRITE_SCHEMA,
        )
        self._submit(table)

    def write_readings(self, readings: list[SensorReading]) -> None:
        """Readings that do not come from the sensor model (the public steel replay)."""
        if readings:
            table = pa.table(
                [
                    [r.plant_id for r in readings],
                    [r.asset_local_id for r in readings],
                    [r.tag for r in readings],
                    pa.array([r.ts for r in readings], pa.timestamp("us", tz="UTC")),
                    [r.value for r in readings],
                ],
                schema=SENSOR_TRUTH_SCHEMA,
            )
            self._submit(table.cast(_SENSOR_WRITE_SCHEMA))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown()
            self._writer.close()
        self._context.__exit__(None, None, None)


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


def _manifest(config: NetworkConfig, out_root: Path, extracts: list[ExtractFile], faults: dict[str, int]) -> bytes:
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
        "fault_counts": faults,
        "files": files,
    }
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_plant_extracts(
    plant: SimulatedPlant,
    config: NetworkConfig,
    plant_index: int,
    landing: LandingWriter,
    local_report: dict,
    ledger: FaultLedger,
) -> list[ExtractFile]:
    stamp = config.start_date.isoformat()
    tables = plant_tables(plant, local_report)
    keys = [key for key in TABLES if plant.profile.has_table(*key)]
    dialects = {key: plant.profile.dialect(*key) for key in keys}
    paths = {
        key: landing.relative(landing.path(plant.plant_id, key[0], dialects[key].file_glob.replace("*", stamp, 1)))
        for key in keys
    }
    edits = plan_file_edits(
        config.faults, config.seed, plant.plant_id, plant.config.catalog_plant, tables, dialects, paths, ledger
    )
    broken = set(malformed_file_targets(config.faults, config.seed, plant_index, len(config.plants), dialects))
    written = []
    for key in keys:
        source, table = key

        def render(temporary: Path, key: tuple[str, str] = key) -> int:
            rows = write_extract(temporary, tables[key].rows(), dialects[key], edits.get(key))
            if key in broken:
                detail = corrupt_file(temporary)
                ledger.add(LedgerEntry("malformed_files", plant.plant_id, paths[key], detail=detail))
            return rows

        file_name = dialects[key].file_glob.replace("*", stamp, 1)
        written.append(landing.write(plant.plant_id, source, table, file_name, render))
    return written


@dataclass
class _PlantOutput:
    """What generating one plant returns to the network (picklable: plants may be generated in worker processes)."""

    plant_id: str
    assets: tuple[str, ...]
    asset_shift: pa.Table  # Arrow, not dicts: a bench plant's year is 36,000 rows to send between processes
    local_oee: pa.Table
    plant_day_rows: list[dict]
    signals: list[AssetSignal]
    extracts: list[ExtractFile]
    ledger: list[LedgerEntry]
    message: str


def _generate_plant(config: NetworkConfig, index: int, out_root: Path, catalog_dir: Path | None) -> _PlantOutput:
    """Simulate one plant, write its extracts and return its truths (one plant's year in memory, then let go)."""
    started = time.perf_counter()
    plant_config = config.plants[index]
    mappings = load_mappings(catalog_dir)
    profile = plant_profile(plant_config, load_plant_profiles(catalog_dir))
    plant = simulate_plant(config, plant_config, profile, mappings)
    truth_rows = list(asset_shift_rows_of_plant(plant))
    formula = mappings.local_oee[plant_config.catalog_plant]
    local_report = {
        (row["asset_id"].split(":", 1)[1], row["shift_code"], row["shift_date"]): reported(
            formula, local_figures(formula, row)
        )
        for row in truth_rows
    }
    landing, ledger = LandingWriter(out_root), FaultLedger()
    written = _write_plant_extracts(plant, config, index, landing, local_report, ledger)
    costs = costs_in_force(plant.standard_costs, config.production_days)
    counts = ", ".join(f"{e.table} {e.rows}" for e in written)
    return _PlantOutput(
        plant_id=plant.plant_id,
        assets=tuple(a.asset.asset_local_id for a in plant.assets),
        asset_shift=pa.Table.from_pylist(truth_rows, schema=ASSET_SHIFT_SCHEMA),
        local_oee=pa.Table.from_pylist(list(local_oee_rows(truth_rows, formula)), schema=LOCAL_OEE_SCHEMA),
        plant_day_rows=list(plant_day_rows(plant, truth_rows, config.production_days, costs)),
        signals=asset_signals(
            plant, config.seed, config.sensor_window_days, mappings.sensor_tags[plant_config.catalog_plant]
        ),
        extracts=written,
        ledger=ledger.entries,
        message=f"{plant.plant_id}: {len(plant.assets)} assets, {len(plant.shifts)} shifts in "
        f"{time.perf_counter() - started:.1f} s; rows: {counts}",
    )


def _plant_outputs(
    config: NetworkConfig, out_root: Path, catalog_dir: Path | None, workers: int
) -> Iterator[_PlantOutput]:
    """Every plant's output in network order; with workers > 1, plants are generated in parallel processes (each
    plant draws only from its own random streams, so the result does not depend on the number of workers)."""
    if workers <= 1:
        for index in range(len(config.plants)):
            yield _generate_plant(config, index, out_root, catalog_dir)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [
            pool.submit(_generate_plant, config, index, out_root, catalog_dir) for index in range(len(config.plants))
        ]
        for future in futures:
            yield future.result()


def default_workers(config: NetworkConfig) -> int:
    """Worker processes for a network: one for small networks (a process costs more than it saves), else one per
    core. A year of a 40-asset plant takes about 30 s and 400 MB in one process."""
    if config.days * len(config.plants) < 1000:
        return 1
    return max(1, min(len(config.plants), os.cpu_count() or 1))


def generate_network(
    config_path_or_name: str | Path,
    out_root: Path,
    *,
    catalog_dir: Path | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> NetworkSummary:
    """Write the network's landing extracts and ground truth under `out_root` and summarise them.

    `config_path_or_name` is `ci`, `demo`, `bench`, `public` (this package's networks/) or a YAML path; `seed`
    overrides its seed; `catalog_dir` defaults to the repository's `catalog/`; `workers` is the number of plant
    processes (default: `default_workers`). The files do not depend on `workers`.
    """
    report = progress or (lambda _message: None)
    out_root = Path(out_root)
    config = load_network_config(config_path_or_name, seed=seed)
    landing = LandingWriter(out_root)
    ledger = FaultLedger()
    truth_dir = out_root / GROUND_TRUTH_DIR
    truth_files = {
        name: truth_dir / f"{name}.parquet"
        for name in ("asset_shift", "local_oee", "plant_day", "asset_shift_energy", "sensor_readings")
    }
    truth_files["fault_ledger"] = truth_dir / "fault_ledger.jsonl"
    asset_shift_writer = _TableWriter(truth_files["asset_shift"], ASSET_SHIFT_SCHEMA)
    local_oee_writer = _TableWriter(truth_files["local_oee"], LOCAL_OEE_SCHEMA)
    plant_days: dict[str, list[dict]] = {}
    energy_inputs: list[pa.Table] = []  # the asset-shifts of the simulated plants, for their metered energy
    signals: list[AssetSignal] = []
    assets: dict[str, tuple[str, ...]] = {}
    try:
        for output in _plant_outputs(config, out_root, catalog_dir, workers or default_workers(config)):
            asset_shift_writer.write_table(output.asset_shift)
            local_oee_writer.write_table(output.local_oee)
            plant_days[output.plant_id] = output.plant_day_rows
            energy_inputs.append(output.asset_shift.select(list(ENERGY_INPUT_COLUMNS)))
            signals.extend(output.signals)
            landing.files.extend(output.extracts)
            for entry in output.ledger:
                ledger.add(entry)
            assets[output.plant_id] = output.assets
            report(output.message)
        public = None
        if config.public:
            from ingestion.public import prepare_public

            public = prepare_public(config.public, out_root, landing, report, catalog_dir=catalog_dir)
            asset_shift_writer.write_rows(public.asset_shift_rows)
            local_oee_writer.write_rows(public.local_oee_rows)
        asset_shift_writer.close()
        local_oee_writer.close()
    except BaseException as error:
        asset_shift_writer.abort(error)
        local_oee_writer.abort(error)
        raise
    report(f"ground truth: {asset_shift_writer.rows} asset-shift rows")

    sensor_writer = _SensorTruthWriter(truth_files["sensor_readings"], signals)
    no_asset_shifts = ASSET_SHIFT_SCHEMA.empty_table().select(list(ENERGY_INPUT_COLUMNS))
    asset_shifts = pa.concat_tables(energy_inputs or [no_asset_shifts])
    meter = energy_meter(Path(catalog_dir or DEFAULT_CATALOG_DIR))
    energy = MeteredEnergy(signals, shift_boundaries(asset_shifts), meter)
    model = SensorModel(signals, config.seed, config.sensor_interval_s)
    started = time.perf_counter()
    if signals:
        first, last = model.first_and_last_instant()
        next_report = 0.0
        for block in model.blocks():
            sensor_writer.write_block(block.times, block.active, block.values)
            energy.add(block)
            done = (int(block.times[-1]) - first) / max(last - first, 1)
            if done >= next_report:
                rate = sensor_writer.rows / max(time.perf_counter() - started, 1e-9)
                report(f"sensor readings: {sensor_writer.rows:,} ({done:.0%} of the window, {rate:,.0f} readings/s)")
                next_report += 0.1
    if public is not None:
        sensor_writer.write_readings(list(public.sensor_readings()))
    sensor_writer.close()
    report(f"ground truth: {sensor_writer.rows:,} sensor readings in {time.perf_counter() - started:.1f} s")

    energy.finish()
    energy_rows = list(asset_shift_energy_rows(asset_shifts, energy.energy_kwh))
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(energy_rows, schema=ASSET_SHIFT_ENERGY_SCHEMA), buffer)
    write_bytes(truth_files["asset_shift_energy"], buffer.getvalue().to_pybytes())
    day_rows = [row for rows in plant_days.values() for row in rows]
    add_energy_to_plant_days(day_rows, energy_rows)
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(day_rows, schema=PLANT_DAY_SCHEMA), buffer)
    write_bytes(truth_files["plant_day"], buffer.getvalue().to_pybytes())

    if config.faults.stream_faults:
        for _ in inject_stream_faults(iter_readings(model_for(signals, config)), config.faults, config.seed, ledger):
            pass
    write_bytes(truth_files["fault_ledger"], ledger.content())
    if ledger.entries:
        report("faults injected: " + ", ".join(f"{knob} {n}" for knob, n in sorted(ledger.counts().items())))
    if public is not None:
        truth_files.update(public.truth_files)
        assets.update(public.assets)

    for path in _remove_stale_landing_files(out_root, {extract.path.resolve() for extract in landing.files}):
        report(f"removed {path.relative_to(out_root.resolve())} (written by the previous run, not by this one)")
    write_bytes(out_root / MANIFEST, _manifest(config, out_root, landing.files, ledger.counts()))
    return NetworkSummary(
        network=config.name,
        seed=config.seed,
        first_production_day=config.start_date,
        days=config.days,
        plants=tuple(assets),
        assets=assets,
        extracts=tuple(landing.files),
        asset_shift_rows=asset_shift_writer.rows,
        sensor_readings=sensor_writer.rows,
        ground_truth=truth_files,
        fault_counts=ledger.counts(),
    )


def model_for(signals: list[AssetSignal], config: NetworkConfig) -> SensorModel:
    """A fresh sensor model (its state starts at the beginning of the window)."""
    return SensorModel(signals, config.seed, config.sensor_interval_s)


def network_signals(config: NetworkConfig, catalog_dir: Path | None = None) -> list[AssetSignal]:
    """The sensor inputs of every simulated asset (plants are simulated one at a time, then let go)."""
    profiles = load_plant_profiles(catalog_dir)
    mappings = load_mappings(catalog_dir)
    signals: list[AssetSignal] = []
    for plant_config in config.plants:
        plant = simulate_plant(config, plant_config, plant_profile(plant_config, profiles), mappings)
        signals.extend(
            asset_signals(plant, config.seed, config.sensor_window_days, mappings.sensor_tags[plant_config.catalog_plant])
        )
    return signals


def iter_sensor_readings(
    config_path_or_name: str | Path,
    *,
    catalog_dir: Path | None = None,
    seed: int | None = None,
    ledger: FaultLedger | None = None,
) -> Iterator[SensorReading]:
    """The network's published sensor stream: the true readings with the configured stream faults, then the public
    steel replay (if the network includes it). Without faults, exactly the rows of sensor_readings.parquet, in order.

    Only the plants' timelines are rebuilt in memory; nothing is written.
    """
    config = load_network_config(config_path_or_name, seed=seed)
    signals = network_signals(config, catalog_dir)
    yield from inject_stream_faults(
        iter_readings(model_for(signals, config)), config.faults, config.seed, ledger or FaultLedger()
    )
    if "steel_energy" in config.public:
        from ingestion.public.steel_energy import iter_steel_readings

        yield from iter_steel_readings()


def network_profiles(config_path_or_name: str | Path, *, catalog_dir: Path | None = None) -> dict[str, CatalogPlant]:
    """The plant profiles ingestion needs to read a network's landing files, clones (bench) included.

    The catalog's own plants come back unchanged; a clone gets its template's dialect under its own plant id.
    """
    config = load_network_config(config_path_or_name)
    profiles = load_plant_profiles(catalog_dir)
    return {plant.plant_id: plant_profile(plant, profiles).catalog for plant in config.plants}
