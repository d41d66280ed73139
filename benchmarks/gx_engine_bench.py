"""Engine benchmark behind the choice of GX's SQL engine (duckdb-engine + the buffering patch).

`.venv/bin/python benchmarks/gx_engine_bench.py [rows] [db]` builds a synthetic `staging.stg_social_insurance` of
`rows` rows in SQL, runs the same six expectations with GX's SQL engine (in DuckDB) and GX's pandas
engine (table read into a DataFrame first, the read counted), and prints seconds as JSON.
"""

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.lib.duck import connect
from pipelines.lib.quality.runner import run_suite
from pipelines.lib.quality.sample import build_sample_warehouse
from pipelines.lib.quality.suites import Suite, load_suite

COUNTIES = ["330302", "330303", "330304", "330305", "330324", "330326", "330327", "330328", "330329",
            "330381", "330382", "330383"]


def six_rules() -> list[dict[str, Any]]:
    """Six column rules of the stg_social_insurance suite (completeness, validity)."""
    rules = [
        gxe.ExpectColumnValuesToNotBeNull(column="citizen_id"),
        gxe.ExpectColumnValueLengthsToEqual(column="citizen_id", value=18),
        gxe.ExpectColumnValuesToNotBeNull(column="name"),
        gxe.ExpectColumnValuesToBeInSet(column="insured_status", value_set=["1", "2", "3"]),
        gxe.ExpectColumnValuesToBeInSet(column="insured_district_code", value_set=COUNTIES),
        gxe.ExpectColumnValuesToBeBetween(column="months_paid", min_value=0, max_value=1200),
    ]
    return [r.configuration.to_json_dict() for r in rules]


def main(rows: int, db: Path) -> dict[str, float]:
    db.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db)
    started = time.perf_counter()
    build_sample_warehouse(con, rows * 2)
    built = time.perf_counter() - started
    n = con.execute("select count(*) from staging.stg_social_insurance").fetchone()[0]
    expectations = [{"type": e["type"], "kwargs": e["kwargs"],
                     "meta": {"dimension": "validity", "severity": "ERROR", "description_zh": "x",
                              "description_en": "x"}} for e in six_rules()]
    raw = {"name": "stg_social_insurance", "meta": {"schema": "staging", "table": "stg_social_insurance"},
           "expectations": expectations}
    tmp = Path(tempfile.mkdtemp()) / "stg_social_insurance.json"
    tmp.write_text(json.dumps(raw), encoding="utf-8")
    suite: Suite = load_suite(tmp)
    t = time.perf_counter()
    outcome = run_suite(con, suite, dt.date(2026, 4, 15))
    sql_s = time.perf_counter() - t
    assert outcome.passed, [o.summary() for o in outcome.failed]

    t = time.perf_counter()
    frame = con.execute("select * from staging.stg_social_insurance").df()
    read_s = time.perf_counter() - t
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = context.data_sources.add_pandas("pd").add_dataframe_asset("t").add_batch_definition_whole_dataframe("b")
    gx_suite = context.suites.add(gx.ExpectationSuite(name="s", expectations=expectations))
    vd = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=gx_suite))
    t = time.perf_counter()
    result = vd.run(batch_parameters={"dataframe": frame})
    pandas_s = time.perf_counter() - t
    assert result.success
    con.close()
    return {"rows": n, "build_s": round(built, 2), "sql_engine_s": round(sql_s, 2),
            "pandas_read_s": round(read_s, 2), "pandas_engine_s": round(pandas_s, 2),
            "pandas_total_s": round(read_s + pandas_s, 2)}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "bench.duckdb"
    print(json.dumps(main(count, path)))
