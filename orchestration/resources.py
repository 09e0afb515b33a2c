"""Resources shared by the asset definitions."""

from __future__ import annotations

import dagster as dg

from ingestion.settings import Settings, load_settings


class NorthstarSettings(dg.ConfigurableResource):
    """Northstar's configuration, read from ``NORTHSTAR_*`` environment variables at run time (see ingestion/settings.py).

    Secrets (Kafka SASL password) come only from the environment; nothing defaults to an empty credential.
    """

    def get(self) -> Settings:
        return load_settings()
