"""Dagster objects of the popbase code location, loaded by `pipelines.definitions`."""
