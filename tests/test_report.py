"""The leaders' report: its numbers on a fixture log, and each output format."""

from __future__ import annotations

import csv
import io
import os
import shutil
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import pytest
import yaml

from faqbot import report as reporting
from faqbot.kb import Item, KnowledgeBase, SafetyRules, Source, SourceRef
from faqbot.questionlog import STATUSES, QuestionLog
from faqbot.report import (
    Count,
    ReportError,
    build_report,
    change_text,
    group_similar,
    report_csv,
    report_html,
    report_png,
    report_text,
)
from faqbot.settings import KeepText

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
DAYS = 14


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
        path, secret=b"s", keep_text=keep_text, retention_days=90, clock=clock
    )


def ask_at(
    log: QuestionLog,
    clock: Clock,
    days_ago: float,
    status: str,
    item_id: str | None,
    text: str = "",
    user: int = 1,
) -> str:
    """Log a question asked ``days_ago`` days before NOW."""
    clock.now = NOW - timedelta(days=days_ago)
    return log.log_question(
        question=text or f"om {item_id}",
        status=status,
        item_id=item_id,
        score=0.5,
        latency_ms=2.0,
        chat_kind="private",
        user_id=user,
    )


async def fill(log: QuestionLog, clock: Clock) -> None:
    """The fixture log; the expected numbers in the tests below follow from it."""

    def ask(days_ago: float, status: str, item_id: str | None, text: str = "", user: int = 1):
        return ask_at(log, clock, days_ago, status, item_id, text, user)

    async def vote(question_id: str, user: int, helpful: bool) -> None:
        clock.now += timedelta(minutes=1)
        assert await log.record_vote(question_id=question_id, user_id=user, helpful=helpful)

    # Older than both periods: counted nowhere.
    ask(40, "answered", "peer-opgaver")
    # The previous period (14-28 days ago).
    ask(20, "answered", "peer-opgaver")
    ask(20, "answered", "peer-opgaver")
    ask(15, "answered", "peer-tavshedspligt")
    ask(16, "no_match", None, "et gammelt spørgsmål")
    # This period: week 46 (9-15 Nov).
    first_a = ask(13, "answered", "peer-opgaver")
    await vote(first_a, 1, False)
    await vote(first_a, 2, False)
    await vote(first_a, 3, True)
    ask(13, "answered", "peer-opgaver")
    ask(12, "answered", "peer-opgaver")
    tjener = ask(10, "clarify", "peer-loen", "Hvad tjener peers?", user=7)
    log.log_pick(question_id=tjener, item_id="peer-loen", user_id=7)
    await vote(tjener, 7, False)
    # Week 47 (16-22 Nov).
    ask(5, "answered", "peer-opgaver")
    ask(5, "answered", "peer-opgaver")
    b = ask(6, "answered", "peer-loen")
    await vote(b, 1, True)
    ask(6, "answered", "peer-loen")
    ask(3, "clarify", "peer-loen", "hvad tjener peers")
    known = ask(3, "clarify", "peer-opgaver", "løn til peers", user=8)
    log.log_pick(question_id=known, item_id="peer-loen", user_id=8)
    ask(2, "clarify", "peer-opgaver", "Kan en peer have nattevagt?")
    ask(1, "no_match", None, "Må vores peer ringe til mig på 12 34 56 78?")
    ask(4, "safety", None, "jeg vil ikke leve mere")
    # Week 48 (from 23 Nov).
    ask(0.25, "no_match", None, "Hvem er @anna_peer?")
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
async def fixture_report(log: QuestionLog) -> reporting.Report:
    return await build_report(log, days=DAYS, now=NOW, kb=make_kb())


def counts(entries) -> list[tuple[str, int, int]]:
    return [(c.key, c.count, c.previous) for c in entries]


async def test_status_counts_against_previous_period(fixture_report: reporting.Report) -> None:
    assert {s: (c.count, c.previous) for s, c in fixture_report.statuses.items()} == {
        "answered": (7, 3),
        "clarify": (4, 0),
        "no_match": (2, 1),
        "safety": (1, 0),
        "smalltalk": (0, 0),
    }
    assert (fixture_report.total.count, fixture_report.total.previous) == (14, 4)
    assert fixture_report.start == NOW - timedelta(days=DAYS)


async def test_most_asked_items_and_categories(fixture_report: reporting.Report) -> None:
    # Answered directly, or picked among the suggestions after a clarify (2 picks of peer-loen).
    assert counts(fixture_report.items) == [("peer-opgaver", 5, 2), ("peer-loen", 4, 0)]
    assert fixture_report.items[1].label == "Hvad får en peer i løn?"
    assert counts(fixture_report.categories) == [
        ("Rolle og opgaver", 5, 3),
        ("Løn og ansættelse", 4, 0),
    ]


async def test_weekly_trend(fixture_report: reporting.Report) -> None:
    weeks = [(w.label, w.total, dict(w.counts)) for w in fixture_report.weeks]
    assert weeks == [
        (
            "uge 46 2026",
            4,
            {"answered": 3, "clarify": 1, "no_match": 0, "safety": 0, "smalltalk": 0},
        ),
        (
            "uge 47 2026",
            9,
            {"answered": 4, "clarify": 3, "no_match": 1, "safety": 1, "smalltalk": 0},
        ),
        (
            "uge 48 2026",
            1,
            {"answered": 0, "clarify": 0, "no_match": 1, "safety": 0, "smalltalk": 0},
        ),
    ]


async def test_unanswered_are_grouped_and_redacted(fixture_report: reporting.Report) -> None:
    groups = [(g.text, g.count) for g in fixture_report.unanswered]
    assert groups[0] == ("Hvad tjener peers?", 2)  # equal counts: the first wording in order
    assert fixture_report.unanswered[0].variants == ("hvad tjener peers",)
    assert sorted(groups[1:]) == [
        ("Hvem er [bruger]?", 1),
        ("Kan en peer have nattevagt?", 1),
        ("Må vores peer ringe til mig på [telefonnr.]?", 1),
        ("løn til peers", 1),
    ]
    assert groups[1] == ("Hvem er [bruger]?", 1)  # ties: the latest first
    assert "et gammelt spørgsmål" not in str(fixture_report)  # previous period


async def test_downvoted_answers_and_vote_totals(fixture_report: reporting.Report) -> None:
    votes = [(v.key, v.down, v.up) for v in fixture_report.downvoted]
    assert votes == [("peer-opgaver", 2, 1), ("peer-loen", 1, 1)]
    assert (fixture_report.votes_down, fixture_report.votes_up) == (3, 2)


async def test_candidate_alternates_skip_known_phrasings(fixture_report: reporting.Report) -> None:
    assert [(p.key, p.phrasings) for p in fixture_report.alternates] == [
        ("peer-loen", (("Hvad tjener peers?", 1),))
    ]


async def test_report_from_a_path_matches_the_open_log(log: QuestionLog, tmp_path: Path) -> None:
    from_log = await build_report(log, days=DAYS, now=NOW, kb=make_kb())
    from_path = await build_report(tmp_path / "faqbot.sqlite3", days=DAYS, now=NOW, kb=make_kb())
    assert from_path == from_log


async def test_report_without_a_knowledge_base_uses_ids(log: QuestionLog) -> None:
    built = await build_report(log, days=DAYS, now=NOW)
    assert [c.label for c in built.items] == ["peer-opgaver", "peer-loen"]
    assert built.categories == ()
    text = report_text(built)
    assert "Mest spurgte kategorier" not in text
    assert "peer-loen" in text


async def test_one_day_and_a_long_period(log: QuestionLog) -> None:
    one = await build_report(log, days=1, now=NOW)
    assert (one.total.count, one.total.previous) == (2, 1)
    assert "(1 dag)" in report_text(one)
    year = await build_report(log, days=365, now=NOW)
    assert year.total.count == 19
    assert len(year.weeks) == 54  # 17.11.2025 to 23.11.2026


async def test_bad_input_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no question log"):
        await build_report(tmp_path / "missing.sqlite3", days=7)
    with pytest.raises(ReportError, match="at least 1 day"):
        await build_report(tmp_path / "missing.sqlite3", days=0)


def test_change_text() -> None:
    assert change_text(Count("k", "k", 3, 0)) == "ny"
    assert change_text(Count("k", "k", 3, 1)) == "+2"
    assert change_text(Count("k", "k", 1, 3)) == "-2"
    assert change_text(Count("k", "k", 0, 0)) == "±0"


def test_group_similar_merges_near_identical_texts() -> None:
    groups = group_similar(
        [
            (1.0, "Hvad tjener en peer?"),
            (2.0, "hvad tjener en peer"),
            (2.5, "hvad tjener en peer "),
            (3.0, "Hvad tjener en peer??"),
            (4.0, "Hvad tjener en per?"),  # a typo
            (5.0, "Må en peer køre bil med borgere?"),
            (6.0, "  "),
        ]
    )
    # The most frequent wording leads its group; bigger groups first.
    assert [(g.text, g.count) for g in groups] == [
        ("hvad tjener en peer", 5),
        ("Må en peer køre bil med borgere?", 1),
    ]
    assert groups[0].last_asked == datetime.fromtimestamp(4.0, tz=UTC)
    assert "Hvad tjener en per?" in groups[0].variants


# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------


async def test_text_format(fixture_report: reporting.Report) -> None:
    text = report_text(fixture_report)
    assert "Periode: 9.11.2026–23.11.2026 (14 dage)" in text
    assert "Spørgsmål i alt: 14 (perioden før: 4, +10)" in text
    assert "Krisebeskeder (kun talt)      1  (før: 0, ny)" in text
    assert "1.    5  ( +3)  Hvad laver en peer-medarbejder? (peer-opgaver)" in text
    assert "  2 × Hvad tjener peers?" in text
    assert "uge 47 2026      9" in text
    assert "2 ned,   1 op  Hvad laver en peer-medarbejder? (peer-opgaver)" in text
    snippet = text.split("kandidater til alternates i YAML)\n", 1)[1]
    assert yaml.safe_load(snippet) == {"alternates": ["Hvad tjener peers?"]}
    for private in ("12 34 56 78", "anna_peer", "leve mere"):
        assert private not in text


async def test_csv_format(fixture_report: reporting.Report) -> None:
    table = list(csv.reader(io.StringIO(report_csv(fixture_report))))
    assert table[0] == list(reporting.CSV_HEADER)
    assert all(len(row) == len(table[0]) for row in table)
    by_section: dict[str, list[list[str]]] = {}
    for row in table[1:]:
        by_section.setdefault(row[0], []).append(row[1:])
    assert ["total", "Spørgsmål i alt", "14", "4", "10"] in by_section["status"]
    assert ["safety", "Krisebeskeder (kun talt)", "1", "0", "1"] in by_section["status"]
    assert by_section["emne"][0] == [
        "peer-opgaver",
        "Hvad laver en peer-medarbejder?",
        "5",
        "2",
        "3",
    ]
    assert ["Løn og ansættelse", "Løn og ansættelse", "4", "0", "4"] in by_section["kategori"]
    assert len(by_section["uge"]) == 3 * len(STATUSES)
    assert by_section["ubesvaret"][0][1:3] == ["Hvad tjener peers?", "2"]
    assert by_section["tommel_ned"][0] == [
        "peer-opgaver",
        "Hvad laver en peer-medarbejder?",
        "2",
        "",
        "",
    ]
    assert by_section["alternativ"] == [["peer-loen", "Hvad tjener peers?", "1", "", ""]]


class _Text(HTMLParser):
    """The page's visible text (style and title left out), its tags and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def page_text(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


async def test_html_format_is_self_contained(fixture_report: reporting.Report) -> None:
    html = report_html(fixture_report)
    page = page_text(html)
    assert "script" not in page.tags
    assert page.tags.count("svg") == 2 and "style" in page.tags
    for name, value in page.attributes:
        if name in ("src", "href"):
            pytest.fail(f"external reference {name}={value}")
    assert "http://www.w3.org/2000/svg" in html  # the SVG namespace, not a fetch
    assert html.count("http") == html.count("http://www.w3.org/2000/svg")
    assert '<html lang="da">' in html
    text = page.text
    for expected in (
        "Spørgsmål i alt 14 før: 4 (+10)",
        "Krisebeskeder (kun talt) 1 før: 0 (ny)",
        "Hvad laver en peer-medarbejder? 5 2 +3",
        "uge 47 2026 4 3 1 1 0 9",
        "2 Hvad tjener peers?",
        "I alt 3 ned og 2 op i perioden.",
        '- "Hvad tjener peers?"',
    ):
        assert expected in text
    for private in ("12 34 56 78", "anna_peer", "leve mere"):
        assert private not in html


async def test_html_escapes_what_people_wrote(tmp_path: Path) -> None:
    log = await QuestionLog.open(
        tmp_path / "x.sqlite3", secret=b"s", keep_text=KeepText.ALL, retention_days=90
    )
    try:
        log.log_question(
            question='<script>alert("x")</script> & <b>fed</b>',
            status="no_match",
            item_id="<i>",
            score=0.1,
            latency_ms=1.0,
            chat_kind="group",
            user_id=None,
        )
        log.log_question(
            question="ok",
            status="answered",
            item_id='"><img src=x>',
            score=0.9,
            latency_ms=1.0,
            chat_kind="group",
            user_id=None,
        )
        html = report_html(await build_report(log, days=7))
    finally:
        await log.close()
    page = page_text(html)
    assert "script" not in page.tags and "img" not in page.tags
    assert "<b>fed</b>" not in html and "&lt;b&gt;fed&lt;/b&gt;" in html
    assert '<script>alert("x")</script> & <b>fed</b>' in page.text
    assert '"><img src=x>' in page.text


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_png_format(fixture_report: reporting.Report) -> None:
    data = report_png(fixture_report)
    width, height = png_size(data)
    assert width == 900 and height > 150
    assert len(data) > 5000


async def test_empty_log_renders_in_every_format(tmp_path: Path) -> None:
    log = await QuestionLog.open(
        tmp_path / "empty.sqlite3", secret=b"s", keep_text=KeepText.NONE, retention_days=90
    )
    try:
        built = await build_report(log, days=7, now=NOW, kb=make_kb())
    finally:
        await log.close()
    assert built.total.count == 0 and built.items == () and len(built.weeks) == 2
    assert "Spørgsmål i alt: 0 (perioden før: 0, ±0)" in report_text(built)
    assert "Ingen besvarede spørgsmål i perioden." in report_html(built)
    assert report_csv(built).count("\n") == 1 + 1 + (len(STATUSES) + 1) + 2 * len(STATUSES)
    png_size(report_png(built))


# --------------------------------------------------------------------------------------------
# The HTML in a real browser
# --------------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def run_chromium(chromium: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [chromium, *flags, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(profile)},
        check=False,
    )


async def test_html_renders_in_headless_chromium(
    fixture_report: reporting.Report, tmp_path: Path
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium; .ci/run does it), "
            "so the HTML report cannot be rendered"
        )
    page = tmp_path / "rapport.html"
    page.write_text(report_html(fixture_report), encoding="utf-8")
    screenshot = tmp_path / "shot.png"
    shot = run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1000,1400",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert screenshot.is_file(), shot.stderr[-2000:]
    pixels = matplotlib.image.imread(screenshot)  # floats 0..1, height x width x channels
    assert pixels.shape[:2] == (1400, 1000)
    rgb = pixels[:, :, :3]
    assert rgb.std() > 0.02, "the screenshot is blank"
    dark = int((rgb.mean(axis=2) < 0.4).sum())
    assert dark > 2000, "no text or bars were drawn"
    assert len({tuple(p) for p in rgb[::20, ::20].reshape(-1, 3).round(2)}) > 5

    dumped = run_chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    text = page_text(dumped.stdout).text
    for expected in (
        "Spørgsmål i alt 14 før: 4 (+10)",
        "Besvaret 7 før: 3 (+4)",
        "Uklart (forslag vist) 4 før: 0 (ny)",
        "Ikke besvaret 2 før: 1 (+1)",
        "Krisebeskeder (kun talt) 1 før: 0 (ny)",
        "Hvad laver en peer-medarbejder? 5 2 +3",
        "uge 46 2026 3 1 0 0 0 4",
        "2 Hvad tjener peers?",
    ):
        assert expected in text


async def test_days_and_weeks_are_danish_local_time(tmp_path: Path) -> None:
    clock = Clock()
    log = await open_log(tmp_path / "local.sqlite3", clock, KeepText.ALL)
    try:
        # Sunday 22 Nov 23:30 UTC (12.5 hours before NOW) is Monday 23 Nov 00:30 in Copenhagen:
        # the new week, that day.
        ask_at(log, clock, 12.5 / 24, "no_match", None, "Hvem betaler kantinen?")
        assert clock.now == datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
        built = await build_report(log, days=7, now=NOW, kb=make_kb())
    finally:
        await log.close()
    assert [(week.start.isoformat(), week.total) for week in built.weeks][-1] == ("2026-11-23", 1)
    assert "ubesvaret,2026-11-23," in report_csv(built)
