"""The popbase code location: every definition under `pipelines/defs`, bound to the run's resources."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import resources_from_settings
from pipelines.settings import load_settings

defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    dg.Definitions(resources=resources_from_settings(load_settings())),
)
