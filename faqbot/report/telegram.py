"""The report as Telegram messages (HTML parse mode): what a leader reads on a phone, from
/rapport and the weekly digest. The same figures as every other format, the leaders' part only
(the maintainers' proposals are ``faqbot suggest``); every interpolated text is escaped, and
the messages are packed at section boundaries under Telegram's 4,096 characters."""

from __future__ import annotations

from html import escape

from faqbot.kb import MAX_MESSAGE_CHARS
from faqbot.report import wording as w
from faqbot.report.model import Count, Report, shorten

TOP_CONCERNS = 10
TOP_GAP_GROUPS = 10
TOP_DOWNVOTED = 5
LABEL_CHARS = 70
GAP_CHARS = 110


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return escape(shorten(text, limit))


def _count_line(count: Count) -> str:
    return f"<b>{count.count}</b> ({escape(w.change(count))})"


def report_messages(report: Report, *, title: str = "Rapport") -> list[str]:
    """The report as HTML messages, in order; ``title`` names it (e.g. "Ugerapport")."""
    head = [f"<b>{escape(title)}: {escape(w.TITLE)}</b>"]
    head.append(
        f"{escape(w.period_text(report.period))}, {escape(w.compared_text(report.period))}."
    )
    head += [f"<i>{escape(note)}</i>" for note in report.notes]

    overview = ["<b>Overblik</b>"]
    for figure in report.figures:
        basis = w.figure_basis(figure) if figure.share and figure.value is not None else ""
        overview.append(
            f"• {escape(figure.label)}: <b>{escape(w.figure_value(figure))}</b>"
            + (f" {escape(basis)}" if basis else "")
            + f" (før {escape(w.figure_previous(figure))}, {escape(w.figure_change(figure))})"
        )
        overview.append(f"  <i>{escape(figure.explanation)}</i>")
    outcomes = " · ".join(f"{escape(c.label)} {c.count}" for c in report.outcomes)
    overview += [f"Udfald: {outcomes}", f"<i>{escape(w.EXPLAIN_OUTCOMES)}</i>"]

    concerns = ["<b>Det spørger kollegerne mest om</b>", f"<i>{escape(w.EXPLAIN_CONCERNS)}</i>"]
    for rank, count in enumerate(report.concerns[:TOP_CONCERNS], start=1):
        concerns.append(f"{rank}. {_short(count.label)} – {_count_line(count)}")
    if len(report.concerns) > TOP_CONCERNS:
        concerns.append(f"… og {len(report.concerns) - TOP_CONCERNS} andre spørgsmål")
    if not report.concerns:
        concerns.append("(ingen i perioden)")

    blocks = ["\n".join(head), "\n".join(overview), "\n".join(concerns)]
    if report.categories:
        categories = ["<b>Emner</b>", f"<i>{escape(w.EXPLAIN_CATEGORIES)}</i>"]
        categories += [f"{_short(c.label)}: {_count_line(c)}" for c in report.categories]
        blocks.append("\n".join(categories))

    gaps = report.gaps
    lines = [
        f"<b>{escape(w.gaps_heading(report))}</b> "
        f"(før {gaps.previous}, {escape(w.count_change(gaps.count, gaps.previous))})",
        f"<i>{escape(w.EXPLAIN_GAPS)}</i>",
    ]
    lines += [f"• {g.count} × {_short(g.text, GAP_CHARS)}" for g in gaps.groups[:TOP_GAP_GROUPS]]
    if len(gaps.groups) > TOP_GAP_GROUPS:
        lines.append(f"… og {len(gaps.groups) - TOP_GAP_GROUPS} grupper mere")
    if w.without_text_line(report):
        lines.append(escape(w.without_text_line(report)))
    blocks.append("\n".join(lines))

    off_topic = report.off_topic
    lines = [
        f"<b>Uden for emnet: {off_topic.count}</b> "
        f"(før {off_topic.previous}, "
        f"{escape(w.count_change(off_topic.count, off_topic.previous))})",
        f"<i>{escape(w.EXPLAIN_OFF_TOPIC)}</i>",
    ]
    if off_topic.examples:
        lines.append("fx " + ", ".join(f"»{_short(text, 60)}«" for text in off_topic.examples))
    lines += [
        "",
        f"<b>Krisebeskeder: {report.crisis.count}</b> "
        f"(før {report.crisis.previous}, {escape(w.change(report.crisis))})",
        f"<i>{escape(w.EXPLAIN_CRISIS)}</i>",
    ]
    blocks.append("\n".join(lines))

    if report.downvoted:
        lines = ["<b>Svar med tommel ned (👎)</b>", f"<i>{escape(w.EXPLAIN_DOWNVOTED)}</i>"]
        lines += [
            f"• {_short(v.label)} – {v.down} 👎, {v.up} 👍"
            for v in report.downvoted[:TOP_DOWNVOTED]
        ]
        blocks.append("\n".join(lines))
    return pack(blocks)


def pack(blocks: list[str], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Join blocks with a blank line into as few messages as fit ``limit`` each; a block too
    long for one message is split between its lines (each line is short and whole HTML)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block] if len(block) <= limit else block.split("\n")
        separator = "\n\n"
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    messages.append(current)
                current = piece
            separator = "\n"
    if current:
        messages.append(current)
    return messages


def chart_caption(report: Report) -> str:
    """The caption under the chart (HTML)."""
    trend = w.trend_heading(report.trend).lower()
    return escape(f"Mest spurgte og {trend}, {w.period_text(report.period)}")
