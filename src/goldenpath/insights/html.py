"""The report as HTML: a standalone page (``insights report --html``) and the body the portal
embeds. Charts are inline SVG and styles inline: the file opens offline, from anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from goldenpath.insights.charts import all_charts

if TYPE_CHECKING:
    from goldenpath.insights.service import Report

PAGES = Path(__file__).parent / "pages"
_environment = Environment(
    loader=FileSystemLoader(PAGES), autoescape=select_autoescape(["html"])
)  # fmt: skip


def context(report: Report) -> dict[str, Any]:
    return {
        "charts": all_charts(report),
        "bill": report.bill,
        "types": report.types,
        "runs": report.runs,
        "next_paths": report.next_paths,
        "friction": report.friction,
    }


def standalone_html(report: Report) -> str:
    return _environment.get_template("report.html").render(context(report))


def report_body(report: Report) -> str:
    return _environment.get_template("insights_body.html").render(context(report))
