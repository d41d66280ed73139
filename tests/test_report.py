"""The offline population report: renders from the analyst snapshot with real, embedded PNG charts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from pipelines.lib.publish import publish
from pipelines.lib.report import render_report
from tests.mart_fixtures import REFERENCE_DATE, build_marts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()
"""


@pytest.fixture(scope="module")
def analyst_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    result = publish(build_marts(root / "work.duckdb"), root / "warehouse",
                     pseudonym_key="report-test-key-0123456789-0123456789", reference_date=REFERENCE_DATE)
    return result.analyst_file


def test_report_renders_offline_with_real_charts(analyst_file: Path, tmp_path: Path) -> None:
    out = render_report(analyst_file, tmp_path / "report.html")
    page = out.read_text(encoding="utf-8")
    pngs = sorted(tmp_path.glob("report_*.png"))
    assert {p.stem for p in pngs} >= {"report_pyramid", "report_counties", "report_coverage"}
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000
        pixels = mpimg.imread(png)
        assert pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.05, f"{png.name} is one colour"
    assert page.count('src="data:image/png;base64,') == len(pngs)
    assert not re.search(r"(src|href)=\"https?://", page)  # nothing fetched from the network
    assert "实有人口" in page and "quality scorecard" not in page  # no scorecard table in the fixture


def test_report_never_shows_ids(analyst_file: Path, tmp_path: Path) -> None:
    page = render_report(analyst_file, tmp_path / "r.html").read_text(encoding="utf-8")
    assert not re.search(r"\d{17}[\dX]", page)


def test_report_opens_the_file_read_only_while_another_reader_holds_it(analyst_file: Path,
                                                                       tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(analyst_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert render_report(analyst_file, tmp_path / "r.html").exists()
    finally:
        holder.communicate("\n", timeout=30)
