"""Ingestion: complete deliveries from the landing directory into raw.<feed>, ops.quarantine, ops.deliveries.

Public API (used by the Dagster raw assets and the delivery sensor):

- `ingest_feed(con, feed, landing_dir, progress=None) -> list[DeliveryOutcome]`
- `complete_deliveries(landing_dir, feed) -> list[DeliveryCandidate]` (no DuckDB)
- `ensure_ops_schema(con)`
"""

from pipelines.lib.ingest.loader import ingest_feed
from pipelines.lib.ingest.manifest import MANIFEST_NAME, complete_deliveries
from pipelines.lib.ingest.models import DeliveryCandidate, DeliveryOutcome, DeliveryRejected
from pipelines.lib.ingest.schema import ensure_ops_schema, raw_columns, raw_table

__all__ = [
    "MANIFEST_NAME",
    "DeliveryCandidate",
    "DeliveryOutcome",
    "DeliveryRejected",
    "complete_deliveries",
    "ensure_ops_schema",
    "ingest_feed",
    "raw_columns",
    "raw_table",
]
