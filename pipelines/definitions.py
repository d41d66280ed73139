"""The popbase code location: every definition under `pipelines/defs`, bound to the run's resources."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import resources_from_settings
from pipelines.settings import load_settings

# Every job runs its steps one after another in the run's own process, as `popbase run` does. The DuckDB steps
# take turns on the working file anyway (pool `popbase_duckdb`, limit 1), and the default multiprocess executor
# would start a Python process per step (~6 s of imports each): one month of 1,000,000 persons took 386.2 s that
# way against 75.4 s in process (benchmarks/results/executor_1000000.md).
defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    dg.Definitions(resources=resources_from_settings(load_settings()), executor=dg.in_process_executor),
)
