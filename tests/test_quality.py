"""The data-quality layer on real GX, real DuckDB and real Dagster, over a small warehouse built in SQL.

A clean fixture passes every suite; fixtures broken along one dimension fail the matching rule with the
suite's severity; blocking failures stop a downstream asset; nothing personal reaches metadata.
"""


import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

from pipelines.defs.quality import feedback_packets_asset, gx_asset_checks, gx_check, scorecard_asset
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.feeds import registry
from pipelines.lib.duck import connect
from pipelines.lib.quality import gx_patch
from pipelines.lib.quality.masking import mask_error, mask_id, mask_name, mask_text
from pipelines.lib.quality.runner import run_suite
from pipelines.lib.quality.sample import SAMPLE_REFERENCE_DATE, build_sample_warehouse
from pipelines.lib.quality.suites import DIMENSIONS, load_suites
from pipelines.lib.sql_models import ModelError, SqlModel, run_model

FULL_ID = re.compile(r"[0-9]{17}[0-9X]")
PERSONS = 3000
SUITES = {s.name: s for s in load_suites()}


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "work.duckdb")
    build_sample_warehouse(c, PERSONS)
    yield c
    c.close()


def test_catalogue_covers_every_feed_column_and_dimension() -> None:
    reg = registry()
    assert {f"stg_{f}" for f in reg.feeds} <= set(SUITES)
    assert {"population_base", "households", "person_flags", "deliveries"} <= set(SUITES)
    for feed in reg.feeds.values():
        suite = SUITES[f"stg_{feed.name}"]
        assert suite.asset_key == ["staging", f"stg_{feed.name}"]
        not_null = {r.column for r in suite.rules if r.type == "expect_column_values_to_not_be_null"}
        required = {c.name for c in feed.columns if c.required}
        assert required <= not_null, f"{feed.name}: required columns without a completeness rule"
    used = {r.dimension for s in SUITES.values() for r in s.rules}
    assert used == set(DIMENSIONS)
    assert any(r.measure == "coverage" and r.threshold == 0.95 for r in SUITES["population_base"].rules)


def test_gx_sql_engine_needs_the_patch_on_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    suite = SUITES["stg_tax"]
    gx_patch.remove()
    try:
        broken = run_suite(con, suite, SAMPLE_REFERENCE_DATE)
    finally:
        gx_patch.apply()
    assert not broken.passed and any(o.error for o in broken.outcomes), "GX fetched rows without the patch"
    fixed = run_suite(con, suite, SAMPLE_REFERENCE_DATE)
    assert gx_patch.is_applied()
    assert fixed.passed, [o.summary() for o in fixed.failed]


@pytest.mark.parametrize(("flipped_rows", "over_cap"), [("source_row between 1 and 7", False),
                                                      ("source_row % 5 = 1", True)])
def test_a_rows_rule_is_counted_right_and_scans_its_batch_once(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, flipped_rows: str, over_cap: bool
) -> None:
    """GX asks a rows rule for its count and its examples; the patch answers both from one scan, whether the
    rule finds nothing, a few rows or more rows than GX keeps as examples."""
    con.execute("update staging.stg_social_insurance set sex = case sex when '男' then '女' else '男' end "
                f"where sex is not null and {flipped_rows}")
    [(flipped,)] = con.execute(
        "select count(*) from staging.stg_social_insurance where sex <> case when "
        "cast(substr(citizen_id, 17, 1) as integer) % 2 = 1 then '男' else '女' end and delivery_id = "
        "(select arg_max(delivery_id, delivery_date) from staging.stg_social_insurance)").fetchall()
    full_scans: list[str] = []
    original = SqlAlchemyExecutionEngine._execute_query_with_recovery

    def spy(connection: object, query: object) -> object:
        if "LIMIT 0" not in str(query):
            full_scans.append(str(query))
        return original(connection, query)

    monkeypatch.setattr(SqlAlchemyExecutionEngine, "_execute_query_with_recovery", staticmethod(spy))
    outcome = run_suite(con, SUITES["stg_social_insurance"], SAMPLE_REFERENCE_DATE)
    sex = next(o for o in outcome.outcomes if "sex agrees" in o.rule.description_en)
    assert sex.unexpected_count == flipped > 0 and len(sex.examples) == min(flipped, 5)
    assert (flipped >= MAX_RESULT_RECORDS) == over_cap  # more findings than GX keeps as examples, or fewer
    rendered = SUITES["stg_social_insurance"].gx_json()["expectations"]
    for o in outcome.outcomes:
        if o.rule.is_rows_query:
            marker = rendered[o.rule.index]["kwargs"]["unexpected_rows_query"].split("{batch}")[-1][:60]
            scans = sum(marker in q for q in full_scans)
            assert scans == 1, o.rule.description_en


def test_clean_warehouse_passes_every_suite(con: duckdb.DuckDBPyConnection) -> None:
    for suite in SUITES.values():
        outcome = run_suite(con, suite, SAMPLE_REFERENCE_DATE)
        assert outcome.passed, (suite.name, [o.summary() for o in outcome.failed])
        assert outcome.row_count > 0


# Each case breaks one dimension; (suite, SQL that breaks it, rule marker, measure, expected severity).
BREAKS = [
    pytest.param("stg_hukou", "update staging.stg_hukou set citizen_id = substr(citizen_id, 1, 17) || "
     "case when substr(citizen_id, 18, 1) = '0' then '1' else '0' end where source_row = 5",
     "check character", "validity", "ERROR", id="validity-checksum"),
    pytest.param("stg_education", "update staging.stg_education set school_stage = '大学' where source_row < 100",
     "code list", "validity", "ERROR", id="validity-code-list"),
    pytest.param("stg_tax", "update staging.stg_tax set name = null where source_row = 4",
     "taxpayer name is present", "completeness", "ERROR", id="completeness-required"),
    pytest.param("population_base", "delete from marts.population_base where citizen_id in "
     "(select citizen_id from staging.stg_hukou using sample 10 percent (bernoulli, 7))",
     "coverage", "coverage", "ERROR", id="completeness-coverage"),
    pytest.param("stg_social_insurance", "update staging.stg_social_insurance set sex = case sex when '男' then '女' "
     "else '男' end where source_row % 5 = 1", "sex agrees", "accuracy", "WARN", id="accuracy-sex"),
    pytest.param("population_base", "insert into marts.population_base select * from marts.population_base limit 1",
     "unique", "consistency", "ERROR", id="consistency-unique"),
    pytest.param("households", "insert into marts.households select * from marts.households limit 1",
     "is unique", "consistency", "ERROR", id="consistency-household-member-unique"),
    pytest.param("households", "update marts.households set is_head = true where relation_code = '20' and "
     "household_no in (select distinct household_no from marts.households order by household_no limit 200)",
     "exactly one head", "consistency", "WARN", id="consistency-one-head"),
    pytest.param("person_flags", "insert into marts.person_flags values ('330302199001011237', 'BIGAMY', 'marriage', "
     "'x', 'marriage/20260331/abc', 'm.xlsx', 3)", "refers to a person", "consistency", "ERROR",
     id="consistency-flag-reference"),
    pytest.param("deliveries", "update marts.deliveries set delivery_date = date '2026-01-31' where feed = 'tax'",
     "latest loaded tax delivery", "timeliness", "WARN", id="timeliness"),
    pytest.param("deliveries", "update marts.deliveries set rows_received = rows_received + 1 where feed = 'tax'",
     "nothing lost", "consistency", "ERROR", id="consistency-nothing-lost"),
]


@pytest.mark.parametrize(("suite_name", "sql", "marker", "measure", "severity"), BREAKS)
def test_broken_dimension_fails_its_rule(con: duckdb.DuckDBPyConnection, suite_name: str, sql: str, marker: str,
                                         measure: str, severity: str) -> None:
    con.execute(sql)
    outcome = run_suite(con, SUITES[suite_name], SAMPLE_REFERENCE_DATE)
    assert not outcome.passed
    failed = [o for o in outcome.failed if marker in o.rule.description_en]
    assert failed, [o.rule.description_en for o in outcome.failed]
    assert all(o.rule.measure == measure and o.error is None for o in failed)
    assert outcome.severity == severity
    text = json.dumps([o.summary() for o in outcome.outcomes], ensure_ascii=False, default=str)
    assert not FULL_ID.search(text), "a full citizen ID reached the check metadata"


@pytest.mark.parametrize(("suite_name", "table", "key"), [
    ("population_base", "marts.population_base", "citizen_id"),
    ("households", "marts.households", "household_no, citizen_id"),
])
def test_a_repeated_key_is_counted_once_with_its_occurrences(
    con: duckdb.DuckDBPyConnection, suite_name: str, table: str, key: str,
) -> None:
    """The uniqueness rules are one grouped query (two window queries with GX's built-in expectations): one
    unexpected row per repeated key, saying how often it occurs, its ID masked."""
    first, last = (f"({key}) = (select ({key}) from {table} order by ({key}) {order} limit 1)"
                   for order in ("asc", "desc"))
    for where in (first, first, last):
        con.execute(f"insert into {table} select * from {table} where {where} limit 1")
    outcome = run_suite(con, SUITES[suite_name], SAMPLE_REFERENCE_DATE)
    [rule] = [o for o in outcome.failed if "is unique" in o.rule.description_en]
    assert rule.unexpected_count == 2
    assert sorted(e["occurrences"] for e in rule.examples) == [2, 3]
    assert not FULL_ID.search(json.dumps(rule.summary(), ensure_ascii=False, default=str))


def test_rate_rule_passes_above_its_bar(con: duckdb.DuckDBPyConnection) -> None:
    """5% of sex values wrong: the accuracy rule (bar 90%) passes with rate 95% and counts the 5%."""
    con.execute("update staging.stg_social_insurance set sex = case sex when '男' then '女' else '男' end "
                "where source_row % 20 = 1")
    outcome = run_suite(con, SUITES["stg_social_insurance"], SAMPLE_REFERENCE_DATE)
    rule = next(o for o in outcome.outcomes if "sex agrees" in o.rule.description_en)
    assert rule.passed and rule.unexpected_count > 0 and 0.9 <= rule.rate < 1.0
    assert rule.examples and all("*" in str(e["citizen_id"]) for e in rule.examples)


def test_population_base_rules_compare_with_the_rows_in_force(con: duckdb.DuckDBPyConnection) -> None:
    """People only in a superseded hukou snapshot are not missing from the base; the same people in the
    snapshot in force are."""
    con.execute("insert into staging.stg_hukou select * replace ('hukou/20260228/old' as delivery_id, "
                "date '2026-02-28' as delivery_date, substr(citizen_id, 1, 6) || '19000101' || "
                "substr(citizen_id, 15, 4) as citizen_id) from staging.stg_hukou")
    assert run_suite(con, SUITES["population_base"], SAMPLE_REFERENCE_DATE).passed
    con.execute("update intermediate.int_deliveries_in_force set delivery_id = 'hukou/20260228/old' "
                "where feed = 'hukou'")
    outcome = run_suite(con, SUITES["population_base"], SAMPLE_REFERENCE_DATE)
    assert {"coverage", "consistency"} <= {o.rule.measure for o in outcome.failed}


def test_masking() -> None:
    assert mask_id("33030219900101123X") == "330302********123X"
    assert mask_name("张三丰") == "张**"
    assert not FULL_ID.search(mask_text("号码 33030219900101123X 有误"))


@pytest.mark.parametrize("value", ["33030219900101123X", "张三丰", "３３０３０２１９９００１０１１２３"])
def test_a_duckdb_error_quoting_a_value_is_masked(value: str) -> None:
    with pytest.raises(duckdb.Error) as raised:
        duckdb.connect().execute("select $v::integer", {"v": value})
    assert value in str(raised.value)  # DuckDB quotes the value
    masked = mask_error(raised.value)
    assert value not in masked and "三" not in masked and "ConversionException" in masked


def test_a_failing_model_names_its_table_and_no_value() -> None:
    model = SqlModel(schema="main", table="t", sql="create table t as select '张三 33030219900101123X'::date as d",
                     source="test", grain="one row", depends=(), notes="")
    with pytest.raises(ModelError, match=r"^main\.t failed: ConversionException") as raised:
        run_model(duckdb.connect(), model, {})
    assert "张三" not in str(raised.value) and not re.search(r"[0-9]{6}", str(raised.value))
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def _resources(tmp_path: Path, reference_date: str = "2026-04-15") -> dict[str, dg.ConfigurableResource]:
    return {
        "duckdb": WorkDuckDB(database=str(tmp_path / "work.duckdb")),
        "popbase": PopbaseSettings(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "wh"),
                                   work_dir=str(tmp_path), reference_date=reference_date),
    }


def _stub_population_base(break_sql: str | None) -> dg.AssetsDefinition:
    @dg.asset(key=["marts", "population_base"])
    def population_base(duckdb: WorkDuckDB) -> None:
        with duckdb.connect() as c:
            build_sample_warehouse(c, 1000)
            if break_sql:
                c.execute(break_sql)

    return population_base


@dg.asset(key=["warehouse", "publish"], deps=[dg.AssetKey(["marts", "population_base"])])
def publish() -> None:
    """Stub of the publish step."""


@pytest.mark.parametrize("broken", [False, True])
def test_blocking_check_stops_publish(tmp_path: Path, broken: bool) -> None:
    sql = "insert into marts.population_base select * from marts.population_base limit 1" if broken else None
    result = dg.materialize(
        [_stub_population_base(sql), publish, gx_check(SUITES["population_base"])],
        resources=_resources(tmp_path), raise_on_error=False,
    )
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1 and evaluations[0].check_name == "gx_population_base"
    assert evaluations[0].passed is (not broken)
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    published = dg.AssetKey(["warehouse", "publish"]) in materialized
    assert published is (not broken)
    metadata = json.dumps({k: str(v.value) for k, v in evaluations[0].metadata.items()}, ensure_ascii=False)
    assert not FULL_ID.search(metadata)


def test_checks_scorecard_and_report_through_dagster(tmp_path: Path) -> None:
    stub = _stub_population_base("update marts.deliveries set delivery_date = date '2026-01-31' where feed = 'tax'")
    checks = [c for c in gx_asset_checks() if next(iter(c.check_keys)).asset_key == stub.key]
    assets = [stub, scorecard_asset(), feedback_packets_asset(), *checks]
    resources = _resources(tmp_path)
    for _ in range(2):
        result = dg.materialize(assets, selection=None, resources=resources, raise_on_error=True)
        assert result.success
    with connect(tmp_path / "work.duckdb", read_only=True) as c:
        runs = c.execute("select count(distinct run_id) from quality.scorecard").fetchone()[0]
        tax = c.execute("select passed from quality.scorecard where feed = 'tax' and dimension = 'timeliness' "
                        "order by run_at desc limit 1").fetchone()
        measures = {r[0] for r in c.execute("select distinct dimension from quality.scorecard").fetchall()}
    assert runs == 2 and tax == (False,)
    assert measures == {"validity", "completeness", "coverage", "accuracy", "consistency", "timeliness"}
    mat = result.asset_materializations_for_node("quality__scorecard")[0]
    report = Path(mat.metadata["report"].value)
    page = report.read_text(encoding="utf-8")
    assert report.exists() and "data:image/png;base64," in page
    # offline: no script and no link to fetch; the inline images' base64 can spell "http" by chance
    markup = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,", page)
    assert "<script" not in markup and "http" not in markup
    assert "| tax |" in mat.metadata["scorecard"].value
    assert len(checks) == 1 and result.get_asset_check_evaluations()[0].passed
    # the report names each rule that failed in this run, with its description and how far below its bar
    with connect(tmp_path / "work.duckdb", read_only=True) as c:
        failed = c.execute("select suite, rule from quality.expectation_results where run_id = $run and not passed",
                           {"run": result.run_id}).fetchall()
    described = {(s.name, r.label): r.description_en for s in load_suites() for r in s.rules}
    assert failed and "Rules that failed" in page
    for suite, rule in failed:
        assert html.escape(described[(suite, rule)]) in page and html.escape(rule) in page
