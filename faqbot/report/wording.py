"""The report's Danish words and number formats, shared by every renderer so they agree."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from faqbot.report.model import (
    Bucket,
    Count,
    Figure,
    Period,
    Report,
    Trend,
    local_date,
    local_midnight,
)

TITLE = "hvad kollegerne spørger om"
OUTCOME_SHORT = {
    "answered": "Besvaret",
    "picked": "Forslag",
    "gap": "Videnshul",
    "off_topic": "Uden for",
    "smalltalk": "Småsnak",
    "crisis": "Krise",
}
"""Column headings for the outcomes where the full labels do not fit."""

EXPLAIN_OUTCOMES = "Hvert spørgsmål tælles ét sted; tilsammen giver de alle spørgsmål."
EXPLAIN_CONCERNS = (
    "Spørgsmål, botten besvarede eller som blev valgt blandt forslag, med ændringen mod perioden "
    "før."
)
EXPLAIN_CATEGORIES = "De samme spørgsmål samlet efter vidensbasens kategorier."
EXPLAIN_GAPS = (
    "Spørgsmål om emnet, som botten ikke kunne svare på, og hvor ingen valgte et forslag: "
    "kandidater til nye svar. Næsten ens spørgsmål er samlet på én linje."
)
EXPLAIN_OFF_TOPIC = (
    "Spørgsmål om andet end emnet (fx kantine, parkering, IT); de hører ikke hjemme i vidensbasen."
)
EXPLAIN_CRISIS = (
    "Beskeder om akut fare; botten svarede med, hvor man kan få hjælp nu. Kun antallet gemmes, "
    "aldrig teksten."
)
EXPLAIN_DOWNVOTED = "Svar, som nogen markerede med 👎 (ikke brugbart): værd at læse igen."
MAINTAINERS = (
    "Til vedligeholdere: faqbot suggest foreslår nye formuleringer og udkast til nye svar ud fra "
    "de samme spørgsmål."
)
NO_TEXT = "ikke gemt eller slettet efter opbevaringsperioden"


def day_text(day: date, *, year: bool = True) -> str:
    return f"{day.day}.{day.month}.{day.year}" if year else f"{day.day}.{day.month}."


def day_of(moment: datetime) -> str:
    """The Danish date of a moment: ``22.11.2026``."""
    return day_text(local_date(moment))


def last_day(period: Period) -> date:
    return local_date(period.end - timedelta(microseconds=1))


def is_calendar_week(period: Period) -> bool:
    first = local_date(period.start)
    return (
        period.days == 7
        and first.weekday() == 0
        and local_midnight(first) == period.start
        and local_midnight(first + timedelta(days=7)) == period.end
    )


def period_text(period: Period) -> str:
    """``uge 47 (16.11.–22.11.2026)`` or ``24.10.2026–23.11.2026 (30 dage)``."""
    first, last = local_date(period.start), last_day(period)
    if is_calendar_week(period):
        week = first.isocalendar()[1]
        return f"uge {week} ({day_text(first, year=False)}–{day_text(last)})"
    days = "1 dag" if period.days == 1 else f"{period.days} dage"
    return f"{day_text(first)}–{day_text(last)} ({days})"


def compared_text(period: Period) -> str:
    if is_calendar_week(period):
        return "sammenlignet med ugen før"
    if period.days == 1:
        return "sammenlignet med dagen før"
    return f"sammenlignet med de {period.days} dage før"


def percent(share: float | None) -> str:
    """``43 %``; a share that is not 0 or 1 never rounds to either (``<1 %``, ``>99 %``)."""
    if share is None:
        return "–"
    if 0 < share < 0.005:
        return "<1 %"
    if 0.995 <= share < 1:
        return ">99 %"
    return f"{round(share * 100)} %"


def count_change(count: int, previous: int) -> str:
    """``+3``, ``-2``, ``±0``, or ``ny`` (nothing the period before)."""
    if previous == 0 and count > 0:
        return "ny"
    if count == previous:
        return "±0"
    return f"{count - previous:+d}"


def change(entry: Count) -> str:
    return count_change(entry.count, entry.previous)


def figure_value(figure: Figure) -> str:
    if figure.share:
        return percent(figure.value)
    return str(int(figure.value or 0))


def figure_previous(figure: Figure) -> str:
    if figure.share:
        return percent(figure.previous)
    return str(int(figure.previous or 0))


def figure_change(figure: Figure) -> str:
    """Counts: as ``count_change``; shares: percentage points, ``–`` without a basis."""
    if not figure.share:
        return count_change(int(figure.value or 0), int(figure.previous or 0))
    if figure.value is None or figure.previous is None:
        return "–"
    points = round(figure.value * 100) - round(figure.previous * 100)
    return "±0 point" if points == 0 else f"{points:+d} point"


def figure_basis(figure: Figure) -> str:
    """What a share is a share of: ``af 40 spørgsmål`` or ``af 12 stemmer``."""
    if not figure.share:
        return ""
    noun = "stemmer" if figure.key == "thumbs_up" else "spørgsmål"
    if figure.basis == 1:
        noun = "stemme" if figure.key == "thumbs_up" else "spørgsmål"
    return f"af {figure.basis} {noun}"


def share_of_total(count: int, report: Report) -> str:
    return percent(count / report.total) if report.total else "–"


_TREND_HEADINGS = {"dag": "Dag for dag", "uge": "Uge for uge", "måned": "Måned for måned"}
_THE_UNIT = {"dag": "dagen", "uge": "ugen", "måned": "måneden"}


def trend_heading(trend: Trend) -> str:
    return _TREND_HEADINGS[trend.unit]


def partial_unit(trend: Trend) -> str:
    """ "ugen" in "kun en del af ugen"."""
    return _THE_UNIT[trend.unit]


def trend_explanation(trend: Trend) -> str:
    return (
        f"Spørgsmål pr. {trend.unit} fordelt på udfald; * = kun en del af "
        f"{partial_unit(trend)} ligger i perioden."
    )


def bucket_text(bucket: Bucket) -> str:
    """``uge 47 (16.11.–22.11.)`` with ``*`` when only part of it is in the period."""
    span = f"{day_text(bucket.first_day, year=False)}–{day_text(bucket.last_day, year=False)}"
    text = f"{bucket.label} ({span})" if bucket.label.startswith("uge") else bucket.label
    return text + ("*" if bucket.partial else "")


def gaps_heading(report: Report) -> str:
    gaps = report.gaps
    groups = len(gaps.groups)
    grouped = f", samlet i {groups} {'gruppe' if groups == 1 else 'grupper'}" if groups else ""
    return f"Videnshuller: {gaps.count}{grouped}"


def without_text_line(report: Report) -> str:
    """Why the grouped lines may add up to less than the count (or the empty string)."""
    missing = report.gaps.without_text
    if not missing:
        return ""
    return f"{missing} spørgsmål uden tekst ({NO_TEXT})."
