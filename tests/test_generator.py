"""The synthetic delivery generator: shape per feeds.md, manifests, determinism, ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from pipelines.feeds import registry
from pipelines.lib.citizen_id import check_char
from pipelines.lib.generator import generate, month_ends

PERSONS = 4000
FEEDS = ("hukou", "residence_permit", "education", "social_insurance", "tax", "marriage", "property")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate(PERSONS, 7, out, delivery_defects=True)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(20_000, 3, out, months=1)
    return out


def _good_folders(root: Path) -> list[Path]:
    broken = {str(d) for d in pq.read_table(root / "_truth" / "deliveries_broken.parquet")["delivery_date"]
              .to_pylist()}
    return sorted(f for feed in FEEDS for f in (root / feed).iterdir()
                  if dt.datetime.strptime(f.name, "%Y%m%d").date().isoformat() not in broken)


def _decode(path: Path) -> str:
    enc = registry().feeds[path.parent.parent.name].encoding
    return path.read_bytes().decode(enc, errors="replace")


def _rows(path: Path) -> list[list[str]]:
    """Data rows of a CSV (header excluded), as delivered; malformed rows are kept as parsed."""
    return list(csv.reader(io.StringIO(_decode(path))))[1:]


def test_layout_and_month_end_dates(landing: Path) -> None:
    dates = [d.strftime("%Y%m%d") for d in month_ends(dt.date(2026, 8, 31), 3)]
    assert dates == ["20260831", "20260930", "20261031"]
    for feed in FEEDS:
        for d in dates:
            assert (landing / feed / d / "_MANIFEST.json").exists(), (feed, d)
    assert (landing / "_truth" / "README.md").exists()


def test_headers_exactly_registry(landing: Path) -> None:
    reg = registry()
    for folder in _good_folders(landing):
        feed = reg.feeds[folder.parent.name]
        for f in folder.iterdir():
            if f.suffix == ".csv":
                assert next(csv.reader(io.StringIO(_decode(f)))) == feed.headers, f
            elif f.suffix == ".jsonl":
                first = f.read_text(encoding="utf-8").splitlines()[0]
                assert list(json.loads(first)) == feed.headers
            elif f.suffix == ".parquet":
                assert pq.read_schema(f).names == feed.headers
            elif f.suffix == ".xlsx":
                wb = CalamineWorkbook.from_path(str(f))
                assert wb.sheet_names == [feed.sheet]
                assert [str(v) for v in wb.get_sheet_by_name(feed.sheet).to_python()[0]] == feed.headers


def test_encodings(landing: Path) -> None:
    hk = next((landing / "hukou" / "20260831").glob("*.csv")).read_bytes()
    assert not hk.startswith(b"\xef\xbb\xbf")
    text = hk.decode("gb18030", errors="replace")
    assert "GMSFHM" in text and "浙江省温州市" in text
    with pytest.raises(UnicodeDecodeError):
        hk.decode("utf-8")
    rp = next((landing / "residence_permit" / "20260831").glob("*.csv")).read_bytes()
    assert rp.startswith(b"\xef\xbb\xbf")
    assert (landing / "marriage" / "20260831" / "marriage_20260831.csv").exists()
    assert (landing / "marriage" / "20260930" / "marriage_20260930.xlsx").exists()


def test_manifests_match_files(landing: Path) -> None:
    for folder in _good_folders(landing):
        manifest = folder / "_MANIFEST.json"
        body = json.loads(manifest.read_text(encoding="utf-8"))
        assert body["feed"] == folder.parent.name
        assert body["delivery_date"] == dt.datetime.strptime(folder.name, "%Y%m%d").date().isoformat()
        assert body["kind"] == registry().feeds[body["feed"]].kind
        data = sorted(p.name for p in folder.iterdir() if p.name != "_MANIFEST.json")
        assert sorted(f["name"] for f in body["files"]) == data
        for f in body["files"]:
            path = folder / f["name"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
            assert manifest.stat().st_mtime >= path.stat().st_mtime
            if path.suffix == ".csv":
                assert _decode(path).count("\n") - 1 == f["rows"]
            elif path.suffix == ".jsonl":
                assert path.read_bytes().count(b"\n") == f["rows"]
            elif path.suffix == ".parquet":
                assert pq.read_metadata(path).num_rows == f["rows"]
            else:
                sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(registry().feeds["marriage"].sheet)
                assert len(sheet.to_python()) - 1 == f["rows"]


def test_broken_deliveries(landing: Path) -> None:
    broken = pq.read_table(landing / "_truth" / "deliveries_broken.parquet").to_pylist()
    problems = {b["problem"] for b in broken}
    assert problems == {"header_renamed_column", "header_missing_column", "header_extra_column",
                        "manifest_sha256_mismatch", "manifest_row_count_mismatch", "no_manifest"}
    for b in broken:
        folder = landing / b["feed"] / b["delivery_date"].strftime("%Y%m%d")
        assert folder.exists()
        assert (folder / "_MANIFEST.json").exists() == (b["problem"] != "no_manifest")


def test_deterministic(tmp_path: Path) -> None:
    def digests(out: Path) -> dict[str, str]:
        return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(out.rglob("*")) if p.is_file()}

    a = digests(_gen(tmp_path / "a", 1))
    b = digests(_gen(tmp_path / "b", 1))
    c = digests(_gen(tmp_path / "c", 2))
    assert a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a if k.endswith((".csv", ".jsonl", ".parquet")))


def _gen(out: Path, seed: int) -> Path:
    generate(1500, seed, out, months=2)
    return out


def test_defects_point_at_real_rows(landing: Path) -> None:
    reg = registry()
    defects = pq.read_table(landing / "_truth" / "defects.parquet").to_pylist()
    kinds = Counter(d["kind"] for d in defects)
    for k in ("id_fullwidth", "id_legacy_15", "id_checksum", "id_excel_scientific", "id_missing", "date_invalid",
              "duplicate_row", "key_conflict", "row_invalid_bytes", "row_invalid_json", "value_invalid",
              "multiple_hukou", "benefit_after_death", "underage_marriage", "bigamy", "shares_not_100",
              "not_in_backbone", "date_excel_serial"):
        assert kinds[k] > 0, k
    cache: dict[str, list[list[str]]] = {}
    checked = 0
    for d in defects:
        if not d["kind"].startswith("id_") or not d["file"].endswith(".csv"):
            continue
        path = landing / d["feed"] / d["delivery_date"].strftime("%Y%m%d") / d["file"]
        rows = cache.setdefault(str(path), _rows(path))
        feed = reg.feeds[d["feed"]]
        cell = rows[d["row"] - 1][feed.headers.index(feed.column(d["column"]).header)]
        assert cell != d["citizen_id"], d
        true = d["citizen_id"]
        assert len(true) == 18 and check_char(true[:17]) == true[17]
        if d["expected"] == "REPAIRED":
            norm = cell.translate(str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")).upper()
            norm = "".join(ch for ch in norm if ch.isalnum())
            if len(norm) == 15:
                norm = norm[:6] + "19" + norm[6:] + check_char(norm[:6] + "19" + norm[6:])
            assert norm == true, d
        checked += 1
    assert checked > 20


def test_truth_consistent_with_hukou(landing: Path) -> None:
    persons = pq.read_table(landing / "_truth" / "persons.parquet").to_pandas()
    assert len(persons) == PERSONS and persons.citizen_id.is_unique
    assert all(len(c) == 18 and check_char(c[:17]) == c[17] for c in persons.citizen_id)
    last = landing / "hukou" / "20261031"
    ids = {r[0] for f in last.glob("*.csv") for r in _rows(f) if r}
    assert set(persons.citizen_id[persons.in_hukou]) <= ids | set(
        pq.read_table(landing / "_truth" / "defects.parquet").to_pandas().query("feed == 'hukou'").citizen_id)


def test_population_shape(demo: Path) -> None:
    persons = pq.read_table(demo / "_truth" / "persons.parquet").to_pandas()
    hk = persons[persons.in_hukou]
    mean_size = hk.groupby("household_no").size().mean()
    assert 2.07 <= mean_size <= 2.67, mean_size
    men, women = (persons.sex == "男").sum(), (persons.sex == "女").sum()
    assert 105 <= 100 * men / women <= 117
    counts = persons.hukou_district_code.value_counts()
    assert set(counts.index[:2]) == {"330381", "330382"}
    assert counts.index[-1] == "330305"
    assert 0.10 <= (~persons.hukou_district_code.notna()).mean() <= 0.16
    assert set(persons.marital_status) == {"未婚", "已婚", "离婚", "丧偶"}
    assert persons.lives_in_city.mean() > 0.8


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"persons": 0}, "persons"), ({"persons": -5}, "persons"), ({"persons": 10, "seed": -1}, "seed"),
    ({"persons": 10, "months": 0}, "months"), ({"persons": 10, "defect_rate": 0.9}, "defect_rate"),
    ({"persons": 10, "first_delivery": dt.date(2026, 8, 15)}, "month-end"),
    ({"persons": 10, "defect_rates": {"no_such_kind": 0.1}}, "unknown defect kind"),
])
def test_argument_validation(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"seed": 1, "out": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(**args)
