"""Dagster orchestration: turns the plain-Python ingestion, quality and catalog code and the dbt project into assets,
checks, jobs and schedules. The only package that imports Dagster."""
