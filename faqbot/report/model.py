"""The leaders' report as one object, built from the question log and the knowledge base.

Every question in the period has exactly one outcome (``OUTCOMES``): answered directly, resolved
by picking a suggestion, a knowledge gap (in scope, nobody resolved it), off topic, or a crisis
message; so the figures always add up. Items are named by their question, never by their id.
Every text in the report is display-safe (``display_text``: no control characters), so no
renderer has to think about what people typed. The log is read only through the question log's
typed queries; this module writes no SQL.
"""

from __future__ import annotations

import asyncio
import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from faqbot.kb import KnowledgeBase
from faqbot.questionlog import (
    Database,
    LoggedQuestion,
    LoggedVote,
    LogLocation,
    QuestionLog,
    connect,
    first_question_at,
    log_exists,
    questions_between,
    votes_between,
)
from faqbot.similar import TextGroup, group_similar
from faqbot.text import Normalizer

LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
"""Days, weeks and months are Danish ones: a question asked at 00:30 belongs to that day, not
to the evening before (the log itself keeps UTC seconds)."""

OUTCOMES = ("answered", "picked", "gap", "off_topic", "smalltalk", "crisis")
"""What became of a message; each has exactly one."""
OUTCOME_LABELS: Mapping[str, str] = {
    "answered": "Besvaret direkte",
    "picked": "Løst via forslag",
    "gap": "Videnshul (ikke besvaret)",
    "off_topic": "Uden for emnet",
    "smalltalk": "Småsnak (hej, tak …)",
    "crisis": "Krisebesked",
}
NOT_QUESTIONS = ("smalltalk", "crisis")
"""Counted, but left out of the shares of questions answered: neither is a question."""
DAYS_UP_TO_DAYS = 14
"""Periods up to two weeks are shown day by day (the weekly digest: Monday to Sunday)..."""
WEEKS_UP_TO_DAYS = 112
"""...up to 16 weeks week by week, longer ones month by month."""
OFF_TOPIC_EXAMPLES = 3
REMOVED_ITEM = "(spørgsmål fjernet fra vidensbasen)"
UNKNOWN_CATEGORY = "(kategori ukendt)"


class ReportError(Exception):
    """The report cannot be built; the message is one sentence."""


# --------------------------------------------------------------------------------------------
# The report as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """``[start, end)`` and the period of the same length just before it."""

    start: datetime
    end: datetime
    days: int
    requested_days: int
    empty_log: bool = False
    """The log held no question from before ``end``."""

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)


@dataclass(frozen=True)
class Figure:
    """One headline figure, this period and the one before, with what it means."""

    key: str
    label: str
    explanation: str
    value: float | None
    """A count, or a share in [0, 1] (``share``); None where there is nothing to divide by."""
    previous: float | None
    share: bool = False
    basis: int = 0
    """For a share: how many it is a share of (questions, votes)."""


@dataclass(frozen=True)
class Count:
    """A count in this period and the one before (an item, a category, an outcome)."""

    key: str
    label: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True)
class Bucket:
    """One week or month of the trend: questions per outcome, on the days inside the period."""

    first_day: date
    last_day: date
    label: str
    """Short: "uge 47", "nov. 2026"."""
    partial: bool
    """Only some of the week's (month's) days lie inside the period."""
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Trend:
    unit: str
    """ "dag", "uge" or "måned"."""
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class Gaps:
    """In-scope questions the bot could not answer and nobody resolved by a pick."""

    count: int
    previous: int
    groups: tuple[TextGroup, ...]
    without_text: int
    """Gaps whose text was not kept (``FAQBOT_KEEP_TEXT``) or is deleted (retention)."""


@dataclass(frozen=True)
class OffTopic:
    count: int
    previous: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class ItemVotes:
    key: str
    label: str
    down: int
    up: int


@dataclass(frozen=True)
class Report:
    """The report as data; every renderer formats exactly this."""

    period: Period
    figures: tuple[Figure, ...]
    outcomes: tuple[Count, ...]
    concerns: tuple[Count, ...]
    categories: tuple[Count, ...]
    trend: Trend
    gaps: Gaps
    off_topic: OffTopic
    crisis: Count
    downvoted: tuple[ItemVotes, ...]
    notes: tuple[str, ...] = ()
    include_terminal: bool = False
    labelled: bool = field(default=True)
    """False when built without a knowledge base (items then show their id)."""

    def figure(self, key: str) -> Figure:
        return next(figure for figure in self.figures if figure.key == key)

    @property
    def total(self) -> int:
        return sum(count.count for count in self.outcomes)


# --------------------------------------------------------------------------------------------
# Display-safe text
# --------------------------------------------------------------------------------------------


def display_text(text: str) -> str:
    """One line without control characters: what a terminal, a page or a cell may show.

    Control characters (ESC, BEL, CR, tabs, newlines) become spaces; invisible format
    characters (zero-width spaces, bidirectional overrides) are dropped, so a question can
    neither move the cursor, ring a bell, nor turn a line around.
    """
    kept = []
    for character in text:
        category = unicodedata.category(character)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category not in ("Cf", "Cs", "Co", "Cn"):
            kept.append(character)
    return " ".join("".join(kept).split())


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, ending in "…"."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-") + "…"


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


def local_midnight(day: date) -> datetime:
    """The start of a Danish day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIME).astimezone(UTC)


def last_full_week(now: datetime) -> datetime:
    """The Monday 00:00 (Danish time) that ends the last full week before ``now``."""
    today = local_date(now)
    return local_midnight(today - timedelta(days=today.weekday()))


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


async def build_report(
    source: LogLocation | str | QuestionLog,
    *,
    days: int,
    now: datetime | None = None,
    kb: KnowledgeBase | None = None,
    include_terminal: bool = False,
    bounded: bool = True,
) -> Report:
    """The report for the ``days`` days up to ``now``, from an open log, a SQLite path or a
    database URL.

    The period never reaches back before the log's first question (say ``--days 100000``):
    it is shortened to the whole days the log holds, and a note says so. ``bounded=False``
    keeps the period as asked (the weekly digest is always a whole calendar week).
    """
    if days < 1:
        raise ReportError(f"the report needs at least 1 day, got {days}.")
    end = (now or datetime.now(UTC)).astimezone(UTC)
    if isinstance(source, QuestionLog):
        await source.flush()
        return await _build(source.connection, days, end, kb, include_terminal, bounded)
    location = Path(source) if isinstance(source, str) else source
    if not log_exists(location):
        raise ReportError(
            f"there is no question log at {location} yet; it is created when the bot answers "
            "its first question."
        )
    db = await connect(location)
    try:
        return await _build(db, days, end, kb, include_terminal, bounded)
    finally:
        await db.close()


async def _build(
    db: Database,
    requested: int,
    end: datetime,
    kb: KnowledgeBase | None,
    include_terminal: bool,
    bounded: bool,
) -> Report:
    first = await first_question_at(db, include_terminal=include_terminal)
    period = bounded_period(requested, end, first, bounded=bounded)
    questions = await questions_between(
        db, period.previous_start, end, include_terminal=include_terminal
    )
    votes = await votes_between(db, period.previous_start, end, include_terminal=include_terminal)
    # Grouping texts is plain Python work: off the event loop, so a bot keeps answering.
    return await asyncio.to_thread(
        assemble, period, questions, votes, kb, include_terminal=include_terminal
    )


def bounded_period(
    requested: int, end: datetime, first: datetime | None, *, bounded: bool = True
) -> Period:
    """The last ``requested`` days up to ``end``, no further back than the log's first day
    (unless not ``bounded``)."""
    if first is None or first >= end:
        held = 1
    else:
        held = max(1, math.ceil((end - local_midnight(local_date(first))) / timedelta(days=1)))
    days = min(requested, held) if bounded else requested
    return Period(
        start=end - timedelta(days=days),
        end=end,
        days=days,
        requested_days=requested,
        empty_log=first is None or first >= end,
    )


def outcome(question: LoggedQuestion) -> str:
    """What became of one question (one of ``OUTCOMES``)."""
    if question.status == "safety":
        return "crisis"
    if question.status == "smalltalk":
        return "smalltalk"
    if question.status == "answered":
        return "answered"
    if question.status == "clarify":
        return "picked" if question.picked_item_id else "gap"
    return "off_topic" if question.off_topic else "gap"


def concern(question: LoggedQuestion) -> str | None:
    """The item a question was about: the one answered, or the suggestion picked."""
    kind = outcome(question)
    if kind == "answered":
        return question.item_id
    if kind == "picked":
        return question.picked_item_id
    return None


class _Labels:
    """Items named by their question, categories by name, both display-safe."""

    def __init__(self, kb: KnowledgeBase | None) -> None:
        self.kb = kb

    def item(self, item_id: str) -> str:
        if self.kb is None:
            return display_text(item_id)
        item = self.kb.get_item(item_id)
        return display_text(item.question) if item else REMOVED_ITEM

    def category(self, item_id: str) -> str:
        item = self.kb.get_item(item_id) if self.kb else None
        return display_text(item.category) if item else UNKNOWN_CATEGORY


def assemble(
    period: Period,
    questions: Sequence[LoggedQuestion],
    votes: Sequence[LoggedVote],
    kb: KnowledgeBase | None,
    *,
    include_terminal: bool = False,
) -> Report:
    """The report from the rows of this period and the one before (pure; no I/O)."""
    labels = _Labels(kb)
    now_rows = [q for q in questions if q.asked_at >= period.start]
    before_rows = [q for q in questions if q.asked_at < period.start]
    now_votes = [v for v in votes if v.voted_at >= period.start]
    before_votes = [v for v in votes if v.voted_at < period.start]

    now_outcomes = Counter(outcome(q) for q in now_rows)
    before_outcomes = Counter(outcome(q) for q in before_rows)
    outcomes = tuple(
        Count(key, OUTCOME_LABELS[key], now_outcomes[key], before_outcomes[key]) for key in OUTCOMES
    )
    concerns = _counted(
        Counter(filter(None, map(concern, now_rows))),
        Counter(filter(None, map(concern, before_rows))),
        labels.item,
    )
    categories = _categories(concerns, before_rows, labels)
    gap_rows = [q for q in now_rows if outcome(q) == "gap"]
    terms = Normalizer(kb.synonyms).terms if kb is not None else None
    gaps = Gaps(
        count=len(gap_rows),
        previous=before_outcomes["gap"],
        groups=tuple(
            group_similar(
                ((q.asked_at, display_text(q.text)) for q in gap_rows if q.text), terms=terms
            )
        ),
        without_text=sum(1 for q in gap_rows if not (q.text and display_text(q.text))),
    )
    off_topic = OffTopic(
        count=now_outcomes["off_topic"],
        previous=before_outcomes["off_topic"],
        examples=_examples(q.text for q in reversed(now_rows) if outcome(q) == "off_topic"),
    )
    notes = []
    if period.empty_log:
        notes.append("Loggen har ingen spørgsmål fra før periodens slutning.")
    elif period.days < period.requested_days:
        notes.append(
            f"Loggen går kun {_days(period.days)} tilbage, så perioden er {_days(period.days)} "
            f"(ikke {period.requested_days})."
        )
    if include_terminal:
        notes.append("Spørgsmål fra terminalchatten (test) er talt med.")
    return Report(
        period=period,
        figures=_figures(now_rows, before_rows, now_votes, before_votes),
        outcomes=outcomes,
        concerns=concerns,
        categories=categories,
        trend=trend(period, now_rows),
        gaps=gaps,
        off_topic=off_topic,
        crisis=outcomes[OUTCOMES.index("crisis")],
        downvoted=_downvoted(now_votes, labels),
        notes=tuple(notes),
        include_terminal=include_terminal,
        labelled=kb is not None,
    )


def _days(days: int) -> str:
    return "1 dag" if days == 1 else f"{days} dage"


def _counted(
    now: Counter[str], before: Counter[str], label: Callable[[str], str]
) -> tuple[Count, ...]:
    counts = [Count(key, label(key), now[key], before[key]) for key in now]
    return tuple(sorted(counts, key=lambda c: (-c.count, -c.previous, c.label, c.key)))


def _categories(
    concerns: Iterable[Count], before_rows: Iterable[LoggedQuestion], labels: _Labels
) -> tuple[Count, ...]:
    if labels.kb is None:
        return ()
    now: Counter[str] = Counter()
    for count in concerns:
        now[labels.category(count.key)] += count.count
    before: Counter[str] = Counter()
    for question in before_rows:
        item_id = concern(question)
        if item_id:
            before[labels.category(item_id)] += 1
    counts = [Count(name, name, now[name], before[name]) for name in now]
    return tuple(sorted(counts, key=lambda c: (-c.count, -c.previous, c.label)))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _figures(
    now: Sequence[LoggedQuestion],
    before: Sequence[LoggedQuestion],
    now_votes: Sequence[LoggedVote],
    before_votes: Sequence[LoggedVote],
) -> tuple[Figure, ...]:
    def asked(rows: Sequence[LoggedQuestion]) -> list[LoggedQuestion]:
        return [q for q in rows if outcome(q) not in NOT_QUESTIONS]

    def colleagues(rows: Sequence[LoggedQuestion]) -> int:
        return len({q.user_key for q in rows if q.user_key})

    def share_of(rows: Sequence[LoggedQuestion], kind: str) -> float | None:
        considered = asked(rows)
        return _share(sum(1 for q in considered if outcome(q) == kind), len(considered))

    def thumbs_up(rows: Sequence[LoggedVote]) -> float | None:
        return _share(sum(1 for v in rows if v.helpful), len(rows))

    return (
        Figure(
            "questions",
            "Spørgsmål",
            "Alle spørgsmål og beskeder til botten, også dem den ikke kunne svare på.",
            len(now),
            len(before),
        ),
        Figure(
            "colleagues",
            "Kolleger, der har spurgt",
            "Forskellige personer, talt via en pseudonym nøgle; navne og id'er gemmes ikke.",
            colleagues(now),
            colleagues(before),
        ),
        Figure(
            "answered",
            "Besvaret direkte",
            "Andel af spørgsmålene (krisebeskeder og småsnak fraregnet), som botten svarede på "
            "med det samme.",
            share_of(now, "answered"),
            share_of(before, "answered"),
            share=True,
            basis=len(asked(now)),
        ),
        Figure(
            "picked",
            "Løst via forslag",
            "Andel, hvor botten spurgte »Mente du …?«, og spørgeren valgte et af forslagene.",
            share_of(now, "picked"),
            share_of(before, "picked"),
            share=True,
            basis=len(asked(now)),
        ),
        Figure(
            "thumbs_up",
            "Tommel op af stemmerne",
            "Andel 👍 (tommel op) blandt de 👍/👎, kollegerne gav svarene i perioden.",
            thumbs_up(now_votes),
            thumbs_up(before_votes),
            share=True,
            basis=len(now_votes),
        ),
    )


def _examples(texts: Iterable[str | None]) -> tuple[str, ...]:
    """A few distinct recent texts (newest first)."""
    seen: dict[str, str] = {}
    for text in texts:
        shown = display_text(text or "")
        if shown and shown.casefold() not in seen:
            seen[shown.casefold()] = shown
            if len(seen) == OFF_TOPIC_EXAMPLES:
                break
    return tuple(seen.values())


def _downvoted(votes: Iterable[LoggedVote], labels: _Labels) -> tuple[ItemVotes, ...]:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for vote in votes:
        if vote.item_id:
            tally[vote.item_id][1 if vote.helpful else 0] += 1
    entries = [
        ItemVotes(item_id, labels.item(item_id), down, up)
        for item_id, (down, up) in tally.items()
        if down
    ]
    return tuple(sorted(entries, key=lambda v: (-v.down, v.up, v.label, v.key)))


# --------------------------------------------------------------------------------------------
# The trend
# --------------------------------------------------------------------------------------------

_MONTHS = [
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "maj",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "okt.",
    "nov.",
    "dec.",
]


_WEEKDAYS = ("man", "tir", "ons", "tor", "fre", "lør", "søn")


def _bucket_start(day: date, unit: str) -> date:
    if unit == "dag":
        return day
    if unit == "uge":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_bucket(first: date, unit: str) -> date:
    if unit == "dag":
        return first + timedelta(days=1)
    if unit == "uge":
        return first + timedelta(days=7)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _bucket_label(first: date, unit: str) -> str:
    if unit == "dag":
        return f"{_WEEKDAYS[first.weekday()]} {first.day}.{first.month}."
    if unit == "uge":
        return f"uge {first.isocalendar()[1]}"
    return f"{_MONTHS[first.month - 1]} {first.year}"


def trend(period: Period, rows: Iterable[LoggedQuestion]) -> Trend:
    """Questions per day, week or month (by the period's length), per outcome; every bucket
    from the period's first day to its last, empty ones included, partial ones marked."""
    if period.days <= DAYS_UP_TO_DAYS:
        unit = "dag"
    elif period.days <= WEEKS_UP_TO_DAYS:
        unit = "uge"
    else:
        unit = "måned"
    first_day = local_date(period.start)
    last_day = local_date(period.end - timedelta(microseconds=1))
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    for question in rows:
        counts[_bucket_start(local_date(question.asked_at), unit)][outcome(question)] += 1
    buckets = []
    start = _bucket_start(first_day, unit)
    while start <= last_day:
        following = _next_bucket(start, unit)
        partial = local_midnight(start) < period.start or local_midnight(following) > period.end
        buckets.append(
            Bucket(
                first_day=max(start, first_day),
                last_day=min(following - timedelta(days=1), last_day),
                label=_bucket_label(start, unit),
                partial=partial,
                counts={key: counts[start][key] for key in OUTCOMES},
            )
        )
        start = following
    return Trend(unit, tuple(buckets))
