"""The leaders' report: what colleagues ask about, what the bot could not answer, how it helped.

``build_report`` reads the question log and the knowledge base into one ``Report`` (plain,
display-safe data; ``model``); the renderers only format it: ``report_text`` (terminal),
``report_messages`` (Telegram HTML, also the weekly digest), ``report_csv``, ``report_html``
(a Jinja2 template with inline SVG) and ``report_png`` (matplotlib, imported only when drawn).
Everything a leader reads is Danish, and items are named by their question, never by id.
"""

from __future__ import annotations

from faqbot.report.model import (
    LOCAL_TIME,
    OUTCOME_LABELS,
    OUTCOMES,
    Bucket,
    Count,
    Figure,
    Gaps,
    ItemVotes,
    OffTopic,
    Period,
    Report,
    ReportError,
    Trend,
    build_report,
    display_text,
    last_full_week,
    shorten,
)
from faqbot.report.table import CSV_HEADER, csv_cell, report_csv
from faqbot.report.telegram import chart_caption, report_messages
from faqbot.report.text import report_text


def report_html(report: Report) -> str:
    """The report as one self-contained HTML page (see ``faqbot.report.html``)."""
    from faqbot.report.html import report_html as render

    return render(report)


def report_png(report: Report) -> bytes:
    """The report's chart as PNG bytes (see ``faqbot.report.chart``)."""
    from faqbot.report.chart import report_png as render

    return render(report)


__all__ = [
    "CSV_HEADER",
    "LOCAL_TIME",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "Bucket",
    "Count",
    "Figure",
    "Gaps",
    "ItemVotes",
    "OffTopic",
    "Period",
    "Report",
    "ReportError",
    "Trend",
    "build_report",
    "chart_caption",
    "csv_cell",
    "display_text",
    "last_full_week",
    "report_csv",
    "report_html",
    "report_messages",
    "report_png",
    "report_text",
    "shorten",
]
