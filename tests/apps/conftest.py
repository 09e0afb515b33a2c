"""Fixtures for the app tests: the hand-built warehouse in a temporary data root, and the environment to read it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from app_fixtures import REPO_ROOT, build_warehouse

# The tests import the `apps` package the way the app does; make the repo root importable when pytest is started
# without it on sys.path (plain `pytest` rather than `python -m pytest`, and no editable install).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def warehouse_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root whose `published.duckdb` holds both OEE marts (see `app_fixtures`)."""
    root = tmp_path_factory.mktemp("data_root")
    build_warehouse(root)
    return root


@pytest.fixture
def app_env(warehouse_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the fixture warehouse and the repository's KPI catalog."""
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(warehouse_root))
    monkeypatch.delenv("NORTHSTAR_CATALOG_DIR", raising=False)
    return warehouse_root
