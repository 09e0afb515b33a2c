"""Publish simulated sensor readings to Kafka (topic layout and message format of docs/design.md).

The caller creates the topic (`ensure_topic`) and chooses the broker; these functions never start one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import TopicAlreadyExistsError

from .sensors import SensorReading

DEFAULT_TOPIC = "northstar.sensor.readings"
PROGRESS_EVERY = 50_000

# acks='all': readings must not be lost. Batching 256 KiB per partition with a 20 ms linger avoids the many tiny
# requests of the defaults (16 KiB, no linger). The topic must exist (created by the caller with its 4 partitions):
# auto-creation would silently give it the broker's default partition count.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger_ms": 20,
    "batch_size": 256 * 1024,
    "allow_auto_create_topics": False,
}


def ensure_topic(bootstrap_servers: str | list[str], topic: str, partitions: int = 4) -> bool:
    """Create `topic` with `partitions` partitions (replication 1); True if created, False if it already existed."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1}})
        return True
    except TopicAlreadyExistsError:
        return False
    finally:
        admin.close()


def publish_sensor_readings(
    readings_iter: Iterable[SensorReading],
    bootstrap_servers: str | list[str],
    topic: str,
    *,
    producer_config: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Send every reading (key `<plant_id>/<asset_local_id>`, JSON value) and return how many the broker acknowledged.

    Raises RuntimeError after the final flush if any send failed, naming how many and the first error: a silent
    partial publish would make "nothing lost" impossible to check. `progress(sent)` is called every
    PROGRESS_EVERY messages and once at the end.
    """
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, **{**PRODUCER_DEFAULTS, **(producer_config or {})})
    acknowledged = 0
    failures: list[BaseException] = []

    def on_success(_metadata: Any) -> None:
        nonlocal acknowledged
        acknowledged += 1  # callbacks run on the producer's single I/O thread

    sent = 0
    try:
        for reading in readings_iter:
            future = producer.send(topic, key=reading.kafka_key(), value=reading.kafka_value())
            future.add_callback(on_success)
            future.add_errback(failures.append)
            sent += 1
            if progress is not None and sent % PROGRESS_EVERY == 0:
                progress(sent)
        producer.flush()
    finally:
        producer.close()
    if progress is not None:
        progress(sent)
    if failures or acknowledged != sent:
        first = repr(failures[0]) if failures else "no error reported"
        raise RuntimeError(f"{sent - acknowledged} of {sent} sensor readings were not acknowledged; first: {first}")
    return acknowledged
