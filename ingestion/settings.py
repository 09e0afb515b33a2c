"""Configuration from environment variables (prefix ``NORTHSTAR_``). No secrets live in the repository.

| variable | default | meaning |
|---|---|---|
| NORTHSTAR_DATA_ROOT | ./data | root of landing files, the Delta lake and the DuckDB warehouse |
| NORTHSTAR_PROFILE | dev | dev or prod; prod refuses plaintext or credential-less Kafka |
| NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS | (embedded broker) | host:port[,host:port] of a real Kafka cluster |
| NORTHSTAR_KAFKA_SECURITY_PROTOCOL | PLAINTEXT | PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL |
| NORTHSTAR_KAFKA_SASL_MECHANISM | | PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 |
| NORTHSTAR_KAFKA_SASL_USERNAME / _PASSWORD | | SASL credentials (from your secret store) |
| NORTHSTAR_KAFKA_SSL_CAFILE | | CA bundle for TLS |
| NORTHSTAR_SENSOR_TOPIC | northstar.sensor.readings | sensor topic |
| NORTHSTAR_MAX_REJECT_SHARE | 0.05 | share of bad rows above which a whole extract file is refused |
| NORTHSTAR_LATENESS_HORIZON_HOURS | 168 | readings older than this behind their series' watermark are quarantined |
| NORTHSTAR_FUTURE_TOLERANCE_MINUTES | 5 | readings further ahead of the wall clock are quarantined |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any


class ConfigurationError(RuntimeError):
    """Configuration is missing or unsafe; the message says which variable to set."""


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str | None
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    topic: str = "northstar.sensor.readings"

    def client_config(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients (consumer, producer, admin)."""
        if not self.bootstrap_servers:
            raise ConfigurationError("NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS is not set and no embedded broker is running")
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL") and self.ssl_cafile:
            config["ssl_cafile"] = self.ssl_cafile
        if self.security_protocol.startswith("SASL"):
            config.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return config


@dataclass(frozen=True)
class StreamPolicy:
    """Event-time rules for sensor streams."""

    lateness_horizon: timedelta = timedelta(days=7)
    future_tolerance: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Settings:
    data_root: Path
    profile: str
    kafka: KafkaSettings
    max_reject_share: float
    stream_policy: StreamPolicy = StreamPolicy()

    @property
    def landing_root(self) -> Path:
        return self.data_root / "landing"

    @property
    def lake_root(self) -> Path:
        return self.data_root / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.data_root / "warehouse.duckdb"

    def table_uri(self, layer: str, source: str, table: str) -> str:
        return str(self.lake_root / layer / source / table)


def _env(env: dict[str, str], name: str) -> str | None:
    value = env.get(f"NORTHSTAR_{name}")
    return value if value not in (None, "") else None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and validate settings; in the prod profile unsafe Kafka settings raise ConfigurationError."""
    env = dict(os.environ) if env is None else env
    profile = _env(env, "PROFILE") or "dev"
    if profile not in ("dev", "prod"):
        raise ConfigurationError(f"NORTHSTAR_PROFILE must be dev or prod, got {profile!r}")
    kafka = KafkaSettings(
        bootstrap_servers=_env(env, "KAFKA_BOOTSTRAP_SERVERS"),
        security_protocol=(_env(env, "KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper(),
        sasl_mechanism=_env(env, "KAFKA_SASL_MECHANISM"),
        sasl_username=_env(env, "KAFKA_SASL_USERNAME"),
        sasl_password=_env(env, "KAFKA_SASL_PASSWORD"),
        ssl_cafile=_env(env, "KAFKA_SSL_CAFILE"),
        topic=_env(env, "SENSOR_TOPIC") or "northstar.sensor.readings",
    )
    allowed = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
    if kafka.security_protocol not in allowed:
        raise ConfigurationError(f"NORTHSTAR_KAFKA_SECURITY_PROTOCOL must be one of {allowed}")
    if kafka.security_protocol.startswith("SASL"):
        missing = [n for n, v in (("SASL_MECHANISM", kafka.sasl_mechanism), ("SASL_USERNAME", kafka.sasl_username),
                                  ("SASL_PASSWORD", kafka.sasl_password)) if not v]
        if missing:
            raise ConfigurationError(
                f"Kafka security protocol {kafka.security_protocol} needs " + ", ".join(f"NORTHSTAR_KAFKA_{m}" for m in missing)
            )
    if profile == "prod":
        if not kafka.bootstrap_servers:
            raise ConfigurationError("profile prod: set NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS (no embedded broker in prod)")
        if kafka.security_protocol != "SASL_SSL":
            raise ConfigurationError(
                f"profile prod: NORTHSTAR_KAFKA_SECURITY_PROTOCOL is {kafka.security_protocol}; "
                "prod requires SASL_SSL (TLS and authentication)"
            )
    share = float(_env(env, "MAX_REJECT_SHARE") or 0.05)
    policy = StreamPolicy(
        lateness_horizon=timedelta(hours=float(_env(env, "LATENESS_HORIZON_HOURS") or 168)),
        future_tolerance=timedelta(minutes=float(_env(env, "FUTURE_TOLERANCE_MINUTES") or 5)),
    )
    return Settings(
        data_root=Path(_env(env, "DATA_ROOT") or "./data").resolve(),
        profile=profile,
        kafka=kafka,
        max_reject_share=share,
        stream_policy=policy,
    )
