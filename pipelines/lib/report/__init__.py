"""The population report: an offline HTML page with embedded charts, rendered from a published file."""

from pipelines.lib.report.render import render_report

__all__ = ["render_report"]
