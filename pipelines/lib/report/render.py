"""Assemble the offline HTML report: headline numbers, tables and base64-embedded PNG charts."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from pipelines.lib.files import make_public, public_dir
from pipelines.lib.report import charts
from pipelines.lib.report.data import ReportData, Rows, load

STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .8em 1.2em; min-width: 12em; }
.card .v { font-size: 1.6em; font-weight: bold; }
table { border-collapse: collapse; font-size: .9em; } td, th { border: 1px solid #ddd; padding: .3em .6em; }
td.n { text-align: right; } img { max-width: 100%; } .note { color: #666; font-size: .9em; }
"""

HEADLINES = [
    ("actual_population", "实有人口", "actual population"),
    ("registered_population", "户籍人口", "registered population"),
    ("floating_population", "登记流动人口", "floating population"),
    ("registered_living_elsewhere", "人户分离（本县户籍在外居住）", "registered, living elsewhere"),
    ("persons_in_base", "人口库人数", "persons in the base"),
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _table(rows: Rows) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows.columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{"n" if isinstance(v, int | float) else ""}">{html.escape(_fmt(v))}</td>' for v in r
        ) + "</tr>"
        for r in rows.rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _charts(data: ReportData) -> dict[str, tuple[str, bytes]]:
    """name → (caption, PNG); the quarantine trend only when a delivery was loaded."""
    made = {
        "pyramid": ("人口金字塔（实有人口） / population pyramid", charts.pyramid(data.pyramid)),
        "counties": ("分县人口 / population by county", charts.county_bars(data.counties)),
        "coverage": ("分县覆盖率 / coverage by county", charts.coverage(data.coverage)),
    }
    if data.quarantine_trend.rows:
        made["quarantine"] = ("隔离率趋势 / share of delivered rows quarantined", charts.percent_trend(
            data.quarantine_trend, "Quarantined share of delivered rows", ["quarantine_rate"]))
    return made


def render_report(analyst_file: Path, out_html: Path) -> Path:
    """Render the report from a published file (read-only); PNGs are written beside the HTML too."""
    data = load(analyst_file)
    made = _charts(data)
    public_dir(out_html.parent)
    figures = []
    for name, (caption, png) in made.items():
        png_path = out_html.parent / f"{out_html.stem}_{name}.png"
        png_path.write_bytes(png)
        make_public(png_path)
        encoded = base64.b64encode(png).decode("ascii")
        figures.append(f'<h2>{html.escape(caption)}</h2><img alt="{html.escape(name)}" '
                       f'src="data:image/png;base64,{encoded}">')
    h = data.headline
    cards = "".join(
        f'<div class="card"><div class="v">{_fmt(h.get(key))}</div>{html.escape(zh)}<br>'
        f'<span class="note">{html.escape(en)}</span></div>' for key, zh, en in HEADLINES
    )
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>温州市人口基础信息报告 / Wenzhou population report</title>
<style>{STYLE}</style></head><body>
<h1>温州市人口基础信息报告<br><small>Wenzhou population report</small></h1>
<p class="note">参考日期 reference date: {html.escape(_fmt(h.get("reference_date")))} ·
发布时间 published (UTC): {html.escape(_fmt(h.get("published_at")))} · 来源 source: {html.escape(analyst_file.name)}</p>
<div class="cards">{cards}</div>
{"".join(figures)}
<h2>分县人口 / population by county</h2>{_table(data.counties)}
<h2>覆盖指标 / coverage indicators</h2>{_table(data.coverage)}
<p class="note">小于 10 人的单元格在对外发布前应予抑制。 Cells under 10 persons should be suppressed before
anything leaves the statistics office.</p>
</body></html>
"""
    out_html.write_text(page, encoding="utf-8")
    return make_public(out_html)
