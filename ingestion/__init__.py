"""Ingestion: plant extracts and sensor streams into bronze Delta tables. Plain Python, no Dagster."""
