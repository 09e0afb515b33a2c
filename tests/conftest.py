"""Shared fixtures. Tests run against real components: a real Tansu broker, real Delta tables, real dbt runs."""

from __future__ import annotations

import pytest

from ingestion.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def broker():
    """A real Kafka-protocol broker (Tansu) on 127.0.0.1, stopped at the end of the session."""
    with EmbeddedBroker() as b:
        yield b
