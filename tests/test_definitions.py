"""The code location loads, with the asset graph generated from the registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs as location_defs
from pipelines.feeds import registry

ROOT = Path(__file__).resolve().parent.parent


def _asset_keys(defs: dg.Definitions) -> set[tuple[str, ...]]:
    return {tuple(key.path) for key in defs.resolve_asset_graph().get_all_asset_keys()}


def test_one_asset_per_feed_per_layer() -> None:
    keys = _asset_keys(location_defs)
    for feed in registry().feeds:
        assert ("raw", feed) in keys
        assert ("staging", f"stg_{feed}") in keys
    assert {("marts", "population_base"), ("marts", "person_flags"), ("marts", "quarantine"),
            ("marts", "deliveries"), ("marts", "households"), ("published", "warehouse_files")} <= keys


def test_every_asset_is_described_grouped_and_owned() -> None:
    graph = location_defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        description = node.description or ""
        assert "Grain:" in description or "one row per" in description, f"{key} does not state its grain"
        assert node.group_name == key.path[0] or key.path[0] == "quality", f"{key} grouped as {node.group_name}"
        assert node.owners, f"{key} has no owner"


def test_staging_assets_are_owned_by_their_department() -> None:
    graph = location_defs.resolve_asset_graph()
    for feed in registry().feeds.values():
        assert graph.get(dg.AssetKey(["staging", f"stg_{feed.name}"])).owners == [f"team:{feed.owner}"]


def test_population_base_depends_on_every_feed() -> None:
    graph = location_defs.resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey(["marts", "population_base"]))
    for feed in registry().feeds:
        assert dg.AssetKey(["raw", feed]) in upstream


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    env = {"DAGSTER_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent), "GX_ANALYTICS_ENABLED": "false"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_job_runs_its_steps_in_process() -> None:
    """Runs from the UI, schedules and sensors use the in-process executor, as `popbase run` does: the default
    multiprocess executor starts a Python process per step (benchmarks/results/executor_1000000.md)."""
    jobs = location_defs.resolve_all_job_defs()
    assert {job.name for job in jobs} >= {"popbase_full_refresh", "popbase_daily_quality", "ingest_hukou"}
    assert {job.name: job.executor_def.name for job in jobs if job.executor_def.name != "in_process"} == {}
