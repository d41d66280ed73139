"""The report's charts as PNG bytes (matplotlib, Agg backend; no files, no network)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure

from pipelines.lib.report.data import Rows

CJK_HINTS = ("CJK", "WenQuanYi", "Hei", "Song", "Noto Sans SC", "Source Han")


def cjk_font() -> str | None:
    """A font able to draw Chinese county names, if one is installed."""
    for font in font_manager.fontManager.ttflist:
        if any(hint in font.name for hint in CJK_HINTS):
            return font.name
    return None


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _labels(rows: Rows) -> list[str]:
    """County labels: the Chinese name when a CJK font is available, else the code."""
    if cjk_font():
        plt.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
        return [n or c for c, n in zip(rows.column("county_code"), rows.column("county_name"), strict=True)]
    return list(rows.column("county_code"))


def pyramid(rows: Rows) -> bytes:
    """Population pyramid of the actual population: men to the left, women to the right."""
    bands = rows.column("age_band")
    male = [-(v or 0) for v in rows.column("male")]
    female = [v or 0 for v in rows.column("female")]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.barh(bands, male, color="#3b6ea5", label="male")
    ax.barh(bands, female, color="#c8553d", label="female")
    ax.set_xlabel("actual population (persons)")
    ax.set_ylabel("age band")
    ax.set_title("Population pyramid, actual population")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    ax.legend(loc="best")
    return _png(fig)


def county_bars(rows: Rows) -> bytes:
    """Registered, floating and actual population side by side per county."""
    labels = _labels(rows)
    x = range(len(labels))
    width = 0.27
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for offset, (column, color) in enumerate(
        [("registered", "#3b6ea5"), ("floating", "#e0a458"), ("actual", "#4f9d69")]
    ):
        ax.bar([i + (offset - 1) * width for i in x], rows.column(column), width, label=column, color=color)
    ax.set_xticks(list(x), labels, rotation=45, ha="right")
    ax.set_ylabel("persons")
    ax.set_title("Population by county")
    ax.legend()
    return _png(fig)


def coverage(rows: Rows) -> bytes:
    """Coverage rates per county, as grouped bars in percent."""
    labels = _labels(rows)
    series = ["pension_rate", "medical_rate", "enrolment_rate", "home_ownership_rate"]
    x = range(len(labels))
    width = 0.2
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for offset, column in enumerate(series):
        values = [100 * (v or 0) for v in rows.column(column)]
        ax.bar([i + (offset - 1.5) * width for i in x], values, width, label=column.removesuffix("_rate"))
    ax.set_xticks(list(x), labels, rotation=45, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of the group")
    ax.set_title("Coverage of the actual population by county")
    ax.legend(ncol=4, fontsize="small")
    return _png(fig)


def percent_trend(rows: Rows, title: str, series: Sequence[str]) -> bytes:
    """Lines over the first column (a date) of `rows`; the series are fractions, drawn as percentages."""
    dates = rows.column(rows.columns[0])
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for column in series:
        values = [100 * float(v) if v is not None else None for v in rows.column(column)]
        ax.plot(dates, values, marker="o", label=column)
    ax.set_title(title)
    ax.set_ylabel("%")
    ax.legend(fontsize="small")
    fig.autofmt_xdate()
    return _png(fig)
