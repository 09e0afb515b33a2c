"""The simulator reads the catalog every other module reads: `NORTHSTAR_CATALOG_ROOT` relocates its plant profiles and
mappings too (catalog/__init__.py), so a copy of the catalog moves the simulated network with the rest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import catalog
from catalog import CATALOG_DIR
from ingestion.simulator import profiles

REPO_ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json
from ingestion.simulator.profiles import DEFAULT_CATALOG_DIR, load_mappings, load_plant_profiles
mappings = load_mappings()
print(json.dumps({
    "default": str(DEFAULT_CATALOG_DIR),
    "plants": sorted(load_plant_profiles()),
    "plant_names": sorted(mappings.plant_names),
}))
"""


def probe(catalog_root: Path | None) -> dict:
    """The simulator's default catalog and what it loads from it, in a process started with the given root."""
    env = {key: value for key, value in os.environ.items() if key != "NORTHSTAR_CATALOG_ROOT"}
    if catalog_root is not None:
        env["NORTHSTAR_CATALOG_ROOT"] = str(catalog_root)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_default_catalog_is_the_catalog_packages_own_resolution() -> None:
    assert profiles.DEFAULT_CATALOG_DIR == CATALOG_DIR == catalog.catalog_dir()


def test_a_relocated_catalog_is_where_the_simulator_reads_plants_and_mappings(tmp_path: Path) -> None:
    relocated = tmp_path / "catalog"
    shutil.copytree(
        REPO_ROOT / "catalog", relocated, ignore=shutil.ignore_patterns("*.py", "__pycache__", "governance")
    )
    (relocated / "plants" / "SG-SIN.yaml").unlink()
    names = relocated / "mappings" / "plant_names.yaml"
    names.write_text(names.read_text(encoding="utf-8").replace("SG-SIN", "XX-TST"), encoding="utf-8")

    default = probe(None)
    moved = probe(relocated)

    assert default["default"] == str(REPO_ROOT / "catalog")
    assert "SG-SIN" in default["plants"] and "SG-SIN" in default["plant_names"]
    assert moved["default"] == str(relocated.resolve())
    assert moved["plants"] == sorted(set(default["plants"]) - {"SG-SIN"})
    assert "XX-TST" in moved["plant_names"] and "SG-SIN" not in moved["plant_names"]
