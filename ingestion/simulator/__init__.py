"""Factory-network simulator: landing extracts, ground truth and sensor readings for Northstar's pipeline.

Plain Python, no Dagster. It reads the plants' profiles and the governed mappings from the catalog and writes each
plant's extracts in that plant's own dialect (docs/design.md), the ground truth the pipeline's tests compare against,
and a ledger of every fault it was asked to inject.

    summary = generate_network("ci", Path("data"))
    ensure_topic("127.0.0.1:9092", DEFAULT_TOPIC)
    publish_sensor_readings(iter_sensor_readings("ci"), "127.0.0.1:9092", DEFAULT_TOPIC)
"""

from .faults import FaultLedger
from .landing import ExtractFile
from .network import NetworkSummary, generate_network, iter_sensor_readings, network_profiles
from .profiles import PlantProfile, load_mappings, load_plant_profiles, load_state_mappings
from .publisher import DEFAULT_TOPIC, ensure_topic, publish_sensor_readings
from .sensors import SensorReading

__all__ = [
    "DEFAULT_TOPIC",
    "ExtractFile",
    "FaultLedger",
    "NetworkSummary",
    "PlantProfile",
    "SensorReading",
    "ensure_topic",
    "generate_network",
    "iter_sensor_readings",
    "load_mappings",
    "load_plant_profiles",
    "load_state_mappings",
    "network_profiles",
    "publish_sensor_readings",
]
