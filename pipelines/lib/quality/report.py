"""The quality report: one offline HTML page (no external assets) with the scorecard of this run and
each department's trend, charts drawn by matplotlib (Agg) and embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pipelines.lib.quality.suites import MEASURES


def _chart(feed: str, history: list[dict[str, Any]]) -> str:
    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=90)
    series: dict[str, list[tuple[Any, float]]] = defaultdict(list)
    for row in history:
        series[row["dimension"]].append((row["run_at"], row["rate"] * 100))
    for measure, points in sorted(series.items()):
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=measure)
    ax.axhline(95, color="grey", linestyle=":", linewidth=1)
    ax.axhline(90, color="grey", linestyle="--", linewidth=1)
    ax.set_ylim(min([80.0] + [p[1] for pts in series.values() for p in pts]) - 2, 101)
    ax.set_ylabel("rate %")
    ax.set_title(feed)
    ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _failed_rules_table(
    failed: list[dict[str, Any]], descriptions: dict[tuple[str, str], tuple[str, str]]
) -> list[str]:
    """One row per failed rule: which suite and table, what the rule says, how far below its bar, any error."""
    esc = html.escape
    if not failed:
        return ["<h2>未通过的规则 Rules that failed</h2><p>none</p>"]
    body = ["<h2>未通过的规则 Rules that failed</h2><table><tr><th>suite (table)</th><th>rule</th><th>measure</th>"
            "<th>severity</th><th>unexpected / checked</th><th>rate</th><th>bar</th><th>error</th></tr>"]
    for f in failed:
        zh, en = descriptions.get((f["suite"], f["rule"]), ("", f["rule"]))
        bar = f"{f['threshold']:.0%}" if f["threshold"] is not None else "100%"
        body.append(
            f"<tr class='bad'><td>{esc(f['suite'])} ({esc(f['table_name'])})</td>"
            f"<td>{esc(zh)}<br>{esc(en)}<br><code>{esc(f['rule'])}</code></td>"
            f"<td>{MEASURES.get(f['dimension'], '')} {esc(f['dimension'])}</td><td>{esc(f['severity'])}</td>"
            f"<td>{f['unexpected']:,} / {f['elements']:,}</td><td>{f['rate']:.2%}</td><td>{bar}</td>"
            f"<td>{esc(f['error'] or '')}</td></tr>"
        )
    body.append("</table>")
    return body


def write_report(
    path: Path, rows: list[dict[str, Any]], history: list[dict[str, Any]], run_id: str,
    failed: list[dict[str, Any]] | None = None,
    descriptions: dict[tuple[str, str], tuple[str, str]] | None = None,
) -> Path:
    """Write the HTML page to `path` and return it. `failed` lists the run's failed rules (`failed_rules`),
    `descriptions` maps (suite, rule label) to the rule's Chinese and English description."""
    esc = html.escape
    body = [f"<h1>人口基础信息库 数据质量报告 / Data quality report</h1><p>run {esc(run_id)}</p>",
            "<h2>评分卡 Scorecard</h2><table><tr><th>feed</th><th>delivery</th><th>measure</th><th>rate</th>"
            "<th>bar</th><th>result</th><th>rules failed</th></tr>"]
    for r in rows:
        cls = "ok" if r["passed"] else "bad"
        body.append(
            f"<tr class='{cls}'><td>{esc(str(r['feed']))}</td><td>{esc(str(r['delivery_date'] or ''))}</td>"
            f"<td>{MEASURES.get(r['dimension'], '')} {esc(r['dimension'])}</td><td>{r['rate']:.2%}</td>"
            f"<td>{r['threshold']:.0%}</td><td>{'pass' if r['passed'] else 'below bar'}</td>"
            f"<td>{r['rules_failed']}/{r['rules']}</td></tr>"
        )
    body.append("</table>")
    body += _failed_rules_table(failed or [], descriptions or {})
    body.append("<h2>趋势 Trend per department</h2>")
    by_feed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for h in history:
        by_feed[h["feed"]].append(h)
    for feed, hist in sorted(by_feed.items()):
        body.append(f"<div><img alt='{esc(feed)}' src='data:image/png;base64,{_chart(feed, hist)}'></div>")
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:2px 8px}tr.bad{background:#fdd}tr.ok{background:#efe}")
    page = (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>数据质量报告</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
