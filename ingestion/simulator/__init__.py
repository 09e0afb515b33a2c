"""Factory-network simulator: landing extracts, ground truth and sensor readings for Northstar's pipeline.

Plain Python, no Dagster. It reads the plants' profiles and state codes from the catalog and writes each plant's
extracts in that plant's own dialect (docs/design.md), plus the ground truth the pipeline's tests compare against.

    summary = generate_network("ci", Path("data"))
    ensure_topic("127.0.0.1:9092", DEFAULT_TOPIC)
    publish_sensor_readings(iter_sensor_readings("ci"), "127.0.0.1:9092", DEFAULT_TOPIC)
"""

from .network import ExtractFile, NetworkSummary, generate_network, iter_sensor_readings
from .profiles import PlantProfile, load_plant_profiles, load_state_mappings
from .publisher import DEFAULT_TOPIC, ensure_topic, publish_sensor_readings
from .sensors import SensorReading

__all__ = [
    "DEFAULT_TOPIC",
    "ExtractFile",
    "NetworkSummary",
    "PlantProfile",
    "SensorReading",
    "ensure_topic",
    "generate_network",
    "iter_sensor_readings",
    "load_plant_profiles",
    "load_state_mappings",
    "publish_sensor_readings",
]
