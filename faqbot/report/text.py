"""The report as plain text for a terminal (``faqbot report``). Every text in the report is
display-safe."""

from __future__ import annotations

from faqbot.report import wording as w
from faqbot.report.model import OUTCOME_LABELS, OUTCOMES, Count, Report, shorten

TOP_CONCERNS = 20
TOP_GAP_GROUPS = 50
LABEL_CHARS = 90
BAR_CHARS = 30


def report_text(report: Report) -> str:
    """The whole report as text lines."""
    out: list[str] = [
        f"Rapport: {w.TITLE}",
        f"Periode: {w.period_text(report.period)}, {w.compared_text(report.period)}.",
        *report.notes,
        "",
        "Overblik",
    ]
    for figure in report.figures:
        basis = f" {w.figure_basis(figure)}" if figure.share and figure.value is not None else ""
        out.append(
            f"  {figure.label}: {w.figure_value(figure)}{basis} "
            f"(før {w.figure_previous(figure)}, {w.figure_change(figure)})"
        )
        out.append(f"    {figure.explanation}")
    out += ["", "Udfald", f"  {w.EXPLAIN_OUTCOMES}"]
    width = max(len(label) for label in OUTCOME_LABELS.values())
    for count in report.outcomes:
        share = w.share_of_total(count.count, report)
        out.append(
            f"  {count.label:<{width}}  {count.count:>5}  {share:>5}"
            f"  (før {count.previous}, {w.change(count)})"
        )
    out += ["", "Det spørger kollegerne mest om", f"  {w.EXPLAIN_CONCERNS}"]
    out += _ranked(report.concerns, TOP_CONCERNS)
    if report.labelled:
        out += ["", "Emner", f"  {w.EXPLAIN_CATEGORIES}"]
        out += _ranked(report.categories, len(report.categories))
    out += ["", w.trend_heading(report.trend), f"  {w.trend_explanation(report.trend)}"]
    out += _trend_lines(report)
    out += ["", w.gaps_heading(report), f"  {w.EXPLAIN_GAPS}"]
    out += _gap_lines(report)
    out += [
        "",
        f"Uden for emnet: {report.off_topic.count} "
        f"(før {report.off_topic.previous}, "
        f"{w.count_change(report.off_topic.count, report.off_topic.previous)})",
        f"  {w.EXPLAIN_OFF_TOPIC}",
    ]
    out += [f"  fx »{_short(text)}«" for text in report.off_topic.examples]
    out += [
        "",
        f"Krisebeskeder: {report.crisis.count} "
        f"(før {report.crisis.previous}, {w.change(report.crisis)})",
        f"  {w.EXPLAIN_CRISIS}",
        "",
        "Svar med tommel ned (👎)",
        f"  {w.EXPLAIN_DOWNVOTED}",
    ]
    if report.downvoted:
        out += [f"  {v.down:>3} 👎 {v.up:>3} 👍  {_short(v.label)}" for v in report.downvoted[:10]]
    else:
        out.append("  (ingen)")
    out += ["", w.MAINTAINERS]
    return "\n".join(out) + "\n"


def _short(text: str) -> str:
    return shorten(text, LABEL_CHARS)


def _ranked(counts: tuple[Count, ...], limit: int) -> list[str]:
    if not counts:
        return ["  (ingen)"]
    lines = [
        f"  {rank:>2}. {count.count:>5}  {w.change(count):<4}  {_short(count.label)}"
        for rank, count in enumerate(counts[:limit], start=1)
    ]
    if len(counts) > limit:
        lines.append(f"  … og {len(counts) - limit} mere")
    return lines


def _trend_lines(report: Report) -> list[str]:
    buckets = report.trend.buckets
    largest = max((bucket.total for bucket in buckets), default=0) or 1
    width = max((len(w.bucket_text(bucket)) for bucket in buckets), default=0)
    columns = [w.OUTCOME_SHORT[key] for key in OUTCOMES] + ["I alt"]
    lines = ["  " + " " * width + "".join(f"  {name:>9}" for name in columns)]
    for bucket in buckets:
        values = [bucket.counts[key] for key in OUTCOMES] + [bucket.total]
        bar = "█" * round(BAR_CHARS * bucket.total / largest)
        cells = "".join(f"  {value:>9}" for value in values)
        lines.append(f"  {w.bucket_text(bucket):<{width}}{cells}  {bar}")
    return lines


def _gap_lines(report: Report) -> list[str]:
    groups = report.gaps.groups
    lines = [f"  {group.count:>3} × {_short(group.text)}" for group in groups[:TOP_GAP_GROUPS]]
    if len(groups) > TOP_GAP_GROUPS:
        lines.append(f"  … og {len(groups) - TOP_GAP_GROUPS} grupper mere (alle i CSV)")
    missing = w.without_text_line(report)
    if missing:
        lines.append(f"  {missing}")
    return lines or ["  (ingen)"]
