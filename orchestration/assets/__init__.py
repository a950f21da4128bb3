"""Dagster assets of Pulse (the dbt models)."""
