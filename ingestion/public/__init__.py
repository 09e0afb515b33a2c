"""The public datasets of `../shared/datasets` as plants of the network (the `public` network / demo profile).

    make demo NETWORK=public          # or: python -m ingestion.simulator generate --network public --out data

- supplier_quality: the Power BI supplier-quality sample as the ERP quality extract of 24 plants, delivered by the
  reporting system PUB-SQA; plant names resolved through catalog/mappings/plant_names.yaml (supplier_quality.py);
- steel_energy: the UCI steel plant's 15-minute energy readings replayed through Kafka as plant KR-GWY
  (steel_energy.py; `iter_sensor_readings("public")` yields them after the simulated stream);
- mes_sample: the Azure IIoT MES sample as plants AZ-PLANT1/2, its engine's OEE landed as their local OEE report
  and reconciled against the enterprise OEE (mes_sample.py).

The datasets are read, never modified. Every quirk an adapter meets is counted in a quirk report, printed while the
network is generated and written to `simulator/public/quirks.json`. The truths land beside the simulator's, under
`simulator/ground_truth/public_*.parquet` (and the AZ plants' rows in asset_shift.parquet and local_oee.parquet).
The datasets directory is `$NORTHSTAR_PUBLIC_DATASETS`, by default `../shared/datasets` next to the repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.simulator.landing import LandingWriter, write_bytes
from ingestion.simulator.profiles import DEFAULT_CATALOG_DIR, load_mappings, load_plant_profiles
from ingestion.simulator.sensors import SensorReading

from . import mes_sample, steel_energy, supplier_quality
from .quirks import QuirkReport

REPO_ROOT = Path(__file__).resolve().parents[2]
QUIRKS_FILE = Path("simulator") / "public" / "quirks.json"
TRUTH_DIR = Path("simulator") / "ground_truth"


def datasets_dir() -> Path:
    """Where the public datasets are: $NORTHSTAR_PUBLIC_DATASETS or ../shared/datasets beside the repository."""
    configured = os.environ.get("NORTHSTAR_PUBLIC_DATASETS")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "datasets"


@dataclass
class PublicResult:
    """What the adapters wrote and what the network's truths need from them."""

    quirks: QuirkReport
    asset_shift_rows: list[dict] = field(default_factory=list)
    local_oee_rows: list[dict] = field(default_factory=list)
    truth_files: dict[str, Path] = field(default_factory=dict)
    assets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    steel_path: Path | None = None

    def sensor_readings(self) -> Iterator[SensorReading]:
        if self.steel_path is not None:
            yield from steel_energy.iter_steel_readings(self.steel_path)


def _write_table(out_root: Path, name: str, table: pa.Table) -> Path:
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    path = out_root / TRUTH_DIR / f"{name}.parquet"
    write_bytes(path, buffer.getvalue().to_pybytes())
    return path


def prepare_public(
    datasets: tuple[str, ...] | list[str],
    out_root: Path,
    landing: LandingWriter,
    progress: Callable[[str], None],
    *,
    catalog_dir: Path | None = None,
    source_dir: Path | None = None,
) -> PublicResult:
    """Land the chosen public datasets, write their truths and quirk report, and return what the network needs."""
    source = source_dir or datasets_dir()
    catalog = Path(catalog_dir or DEFAULT_CATALOG_DIR)
    profiles = load_plant_profiles(catalog)
    result = PublicResult(QuirkReport())
    if "supplier_quality" in datasets:
        extract, truth = supplier_quality.prepare(
            source / "supplier_quality", catalog, landing,
            profiles[supplier_quality.PLANT_ID].dialect("erp", "supplier_quality"), result.quirks,
        )
        result.truth_files["public_supplier_quality"] = _write_table(out_root, "public_supplier_quality", truth)
        progress(f"public supplier quality: {extract.rows} rows -> {landing.relative(extract.path)}")
    if "steel_energy" in datasets:
        result.steel_path = source / steel_energy.DATASET / steel_energy.FILE
        daily = steel_energy.analyse(result.steel_path, result.quirks)
        result.truth_files["public_steel_energy_daily"] = _write_table(out_root, "public_steel_energy_daily", daily)
        result.assets[steel_energy.PLANT_ID] = (steel_energy.ASSET_ID,)
        progress(f"public steel energy: {daily.num_rows} days replayed as {steel_energy.PLANT_ID} sensor readings")
    if "mes_sample" in datasets:
        extracts, rows, local_rows, reconciliation, assets = mes_sample.prepare(
            source / "azure_iiot_mes_sample", profiles, load_mappings(catalog), landing, result.quirks
        )
        result.asset_shift_rows.extend(rows)
        result.local_oee_rows.extend(local_rows)
        result.assets.update(assets)
        result.truth_files["public_mes_reconciliation"] = _write_table(
            out_root, "public_mes_reconciliation", reconciliation
        )
        progress(f"public MES sample: {len(extracts)} extracts, {reconciliation.num_rows} OEE rows to reconcile")
    for line in result.quirks.lines():
        progress(line)
    write_bytes(out_root / QUIRKS_FILE, result.quirks.content())
    result.truth_files["public_quirks"] = out_root / QUIRKS_FILE
    return result
