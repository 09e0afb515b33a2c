"""The environment a pipeline run in a test needs: its own Dagster home and the embedded broker, restored afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VARIABLES = ("NORTHSTAR_DATA_ROOT", "NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS", "DAGSTER_HOME")


@contextmanager
def demo_environment(root: Path) -> Iterator[Path]:
    """Runs of `run_demo` inside use `root`'s Dagster home and an embedded broker; the variables are restored after."""
    saved = {k: os.environ.get(k) for k in VARIABLES}
    os.environ.pop("NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS", None)
    os.environ["DAGSTER_HOME"] = str(root / "dagster")
    try:
        yield root
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
