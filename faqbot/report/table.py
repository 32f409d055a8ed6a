"""The report as one CSV table for a spreadsheet: every section as rows of
(afsnit, navn, værdi, forrige_periode, ændring, forklaring), numbers as numbers.

Written the way Danish Excel reads it by a double-click: UTF-8 with a byte-order mark (or æøå
turn into mojibake), semicolons between cells and decimal commas (``33,3``).

Safe to open: a text cell that a spreadsheet would read as a formula is neutralised by OWASP's
rule for CSV injection (a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'``; every text cell is quoted), and the report's texts carry no control
characters to begin with.
"""

from __future__ import annotations

import csv
import io

from faqbot.report import wording as w
from faqbot.report.model import OUTCOME_LABELS, OUTCOMES, Count, Figure, Report, local_date

CSV_HEADER = ("afsnit", "navn", "værdi", "forrige_periode", "ændring", "forklaring")
FORMULA_START = frozenset("=+-@\t\r＝＋－＠")
"""What makes a spreadsheet read a cell as a formula (OWASP), full-width forms included."""

Cell = str | int | float
BOM = "\ufeff"


def csv_cell(value: Cell) -> Cell:
    """A text cell with a leading ``'`` if a spreadsheet would take it for a formula.

    Leading spaces are looked through, since some spreadsheets trim them first. Numbers are
    written as numbers (a negative change stays a number).
    """
    if isinstance(value, str) and value.lstrip(" ")[:1] in FORMULA_START and value.strip():
        return "'" + value
    return value


def _percent(share: float | None) -> Cell:
    return "" if share is None else round(share * 100, 1)


def _danish(value: Cell) -> Cell:
    """A decimal number with a decimal comma (after neutralising: it is no formula)."""
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else value


def _figure_row(figure: Figure) -> tuple[Cell, ...]:
    if figure.share:
        points: Cell = ""
        if figure.value is not None and figure.previous is not None:
            points = round((figure.value - figure.previous) * 100, 1)
        return (
            "overblik",
            f"{figure.label} (%)",
            _percent(figure.value),
            _percent(figure.previous),
            points,
            figure.explanation,
        )
    value, previous = int(figure.value or 0), int(figure.previous or 0)
    return ("overblik", figure.label, value, previous, value - previous, figure.explanation)


def _count_row(section: str, count: Count, explanation: str = "") -> tuple[Cell, ...]:
    return (section, count.label, count.count, count.previous, count.change, explanation)


def report_csv(report: Report) -> str:
    """Every section as rows of one table, with a header row."""
    rows: list[tuple[Cell, ...]] = [
        (
            "periode",
            w.period_text(report.period),
            report.period.days,
            "",
            "",
            " ".join((f"{w.compared_text(report.period).capitalize()}.", *report.notes)),
        )
    ]
    rows += [_figure_row(figure) for figure in report.figures]
    rows += [_count_row("udfald", count) for count in report.outcomes]
    rows += [_count_row("spørgsmål", count) for count in report.concerns]
    rows += [_count_row("kategori", count) for count in report.categories]
    for bucket in report.trend.buckets:
        for key in OUTCOMES:
            name = f"{w.bucket_text(bucket)}: {OUTCOME_LABELS[key]}"
            rows.append((report.trend.unit, name, bucket.counts[key], "", "", ""))
    for group in report.gaps.groups:
        also = " | ".join(group.variants)
        note = f"senest {local_date(group.last_asked).isoformat()}"
        rows.append(("videnshul", group.text, group.count, "", "", f"{note}; også: {also}"))
    if report.gaps.without_text:
        rows.append(("videnshul", f"({w.NO_TEXT})", report.gaps.without_text, "", "", ""))
    off_topic = report.off_topic
    rows.append(
        (
            "uden_for_emnet",
            "I alt",
            off_topic.count,
            off_topic.previous,
            off_topic.count - off_topic.previous,
            w.EXPLAIN_OFF_TOPIC,
        )
    )
    rows += [("uden_for_emnet", text, "", "", "", "eksempel") for text in off_topic.examples]
    rows.append(_count_row("krisebeskeder", report.crisis, w.EXPLAIN_CRISIS))
    rows += [("tommel_ned", v.label, v.down, "", "", f"{v.up} tommel op") for v in report.downvoted]
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(CSV_HEADER)
    writer.writerows(tuple(_danish(csv_cell(cell)) for cell in row) for row in rows)
    return buffer.getvalue()
