"""The report as one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched)
from a Jinja2 template with autoescaping on: what people wrote can never become markup."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from faqbot.report import svg
from faqbot.report import wording as w
from faqbot.report.model import OUTCOME_LABELS, OUTCOMES, Report

TOP_CHART = 15
"""Bars in the most-asked chart (the table below it lists every question)."""
MAX_GAP_GROUPS = 200
"""Knowledge-gap lines on the page; the CSV has them all, and the page says how many more."""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("faqbot.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def report_html(report: Report) -> str:
    """The whole report as an HTML page to open in a browser or attach to an e-mail."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        w=w,
        outcome_labels=OUTCOME_LABELS,
        outcomes=OUTCOMES,
        colours=svg.COLOURS,
        concerns_chart=svg.bar_chart(report.concerns[:TOP_CHART], "Mest spurgte spørgsmål"),
        trend_chart=svg.trend_chart(report.trend),
        gap_groups=report.gaps.groups[:MAX_GAP_GROUPS],
        more_gap_groups=max(0, len(report.gaps.groups) - MAX_GAP_GROUPS),
    )
