"""Fixtures for the app tests: the hand-built published layer in a temporary data root, and the environment to read it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_fixtures import REPO_ROOT, build_published

# The tests import the `apps` package the way the app does; make the repo root importable when pytest is started
# without it on sys.path (plain `pytest` rather than `python -m pytest`, and no editable install).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The data root, then what is cleared: the KPI definitions, the settings override, and the catalog and ledger the
# settings' governance is read from (the app then reads the repository's).
_APP_ENV = (
    "NORTHSTAR_DATA_ROOT",
    "NORTHSTAR_CATALOG_DIR",
    "NORTHSTAR_APPS_CONFIG",
    "NORTHSTAR_CATALOG_ROOT",
    "NORTHSTAR_GOVERNANCE_DIR",
)


@pytest.fixture(scope="session")
def warehouse_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root whose `published.duckdb` holds the published marts and a blocked last attempt (`app_fixtures`)."""
    root = tmp_path_factory.mktemp("data_root")
    build_published(root)
    return root


@pytest.fixture
def app_env(warehouse_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the fixture data root and the repository's catalog."""
    monkeypatch.setenv("NORTHSTAR_DATA_ROOT", str(warehouse_root))
    for name in _APP_ENV[1:]:
        monkeypatch.delenv(name, raising=False)
    return warehouse_root


@pytest.fixture(scope="module")
def module_app_env(warehouse_root: Path) -> Iterator[Path]:
    """`app_env` for a module whose tests share one app run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NORTHSTAR_DATA_ROOT", str(warehouse_root))
        for name in _APP_ENV[1:]:
            patch.delenv(name, raising=False)
        yield warehouse_root
