"""Configuration from NORTHSTAR_* variables: safe defaults in dev, refusals in prod."""

from __future__ import annotations

import pytest

from ingestion.settings import ConfigurationError, load_settings


def test_dev_defaults_use_the_embedded_broker_and_a_local_data_root(tmp_path):
    settings = load_settings({"NORTHSTAR_DATA_ROOT": str(tmp_path)})
    assert settings.data_root == tmp_path
    assert settings.kafka.bootstrap_servers is None
    assert settings.kafka.topic == "northstar.sensor.readings"
    with pytest.raises(ConfigurationError, match="NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS is not set"):
        settings.kafka.client_config()


def test_prod_refuses_plaintext_kafka():
    env = {"NORTHSTAR_PROFILE": "prod", "NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9093"}
    with pytest.raises(ConfigurationError, match="prod requires SASL_SSL"):
        load_settings(env)


def test_prod_refuses_missing_bootstrap_servers():
    with pytest.raises(ConfigurationError, match="set NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS"):
        load_settings({"NORTHSTAR_PROFILE": "prod"})


def test_sasl_without_credentials_names_the_missing_variables():
    env = {"NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS": "k:9093", "NORTHSTAR_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "NORTHSTAR_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}
    with pytest.raises(ConfigurationError, match="NORTHSTAR_KAFKA_SASL_USERNAME, NORTHSTAR_KAFKA_SASL_PASSWORD"):
        load_settings(env)


def test_prod_with_sasl_ssl_builds_the_client_config_without_leaking_the_password_in_repr():
    env = {"NORTHSTAR_PROFILE": "prod", "NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093",
           "NORTHSTAR_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "NORTHSTAR_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
           "NORTHSTAR_KAFKA_SASL_USERNAME": "northstar", "NORTHSTAR_KAFKA_SASL_PASSWORD": "s3cr3t-from-vault",
           "NORTHSTAR_KAFKA_SSL_CAFILE": "/etc/ssl/kafka-ca.pem"}
    settings = load_settings(env)
    config = settings.kafka.client_config()
    assert config["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    assert config["security_protocol"] == "SASL_SSL" and config["ssl_cafile"] == "/etc/ssl/kafka-ca.pem"
    assert config["sasl_plain_username"] == "northstar"
    assert "s3cr3t" not in repr(settings)
