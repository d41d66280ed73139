"""The data-quality layer, free of Dagster: GX suites from `expectations/` run on DuckDB tables.

- `suites`    the rule catalogue (GX 1.x suite JSON) with dimension, severity and blocking per rule
- `gx_patch`  the narrow fix that makes GX's SQL engine return rows from DuckDB
- `runner`    one suite on one table, every row, over the caller's DuckDB connection → counts, rates,
              masked examples
- `masking`   IDs, names and error texts masked before anything reaches metadata, logs or messages
- `scorecard` results per run, the scorecard against the 2011 pilot's bars (`quality.scorecard`)
- `report`    the offline HTML quality report
- `feedback`  the department feedback packets (XLSX) with suggested ID corrections
- `sample`    a small clean warehouse in SQL (fixtures, and `benchmarks/gx_engine_bench.py`)
"""
