"""The leaders' report: what comes up, what goes unanswered, what helped.

``build_report`` reads the question log into a ``Report`` (plain data); ``report_text``,
``report_csv``, ``report_html`` (one self-contained file with inline CSS and SVG) and
``report_png`` (a matplotlib bar chart, for the bot's /rapport) only format it. Everything a
leader reads is Danish. Item ids become questions and categories when a ``KnowledgeBase`` is
given; the report knows nothing of Telegram.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
from rapidfuzz import fuzz

from faqbot.kb import KnowledgeBase
from faqbot.questionlog import STATUSES, UNANSWERED, QuestionLog, connect, to_timestamp

STATUS_LABELS: Mapping[str, str] = {
    "answered": "Besvaret",
    "clarify": "Uklart (forslag vist)",
    "no_match": "Ikke besvaret",
    "safety": "Krisebeskeder (kun talt)",
    "smalltalk": "Småsnak (hej, tak …)",
}
TOP_ITEMS = 10
TOP_TEXT_GROUPS = 25
SIMILAR = 88.0
"""rapidfuzz ratio (0-100) from which two normalised unanswered texts count as one line."""
UNKNOWN_CATEGORY = "Ukendt (fjernet fra vidensbasen)"


class ReportError(Exception):
    """The report cannot be built; the message is one sentence."""


@dataclass(frozen=True)
class Count:
    """A count in this period and the one before."""

    key: str
    label: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True)
class Week:
    """One ISO week's questions per status (only the days inside the period)."""

    start: date
    counts: Mapping[str, int]

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"uge {week} {year}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class TextGroup:
    """Near-identical unanswered questions as one line, with how often they came."""

    text: str
    count: int
    last_asked: datetime
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Votes:
    """Thumbs up and down for one answer."""

    key: str
    label: str
    down: int
    up: int


@dataclass(frozen=True)
class Phrasings:
    """What people wrote before picking this item among the suggestions."""

    key: str
    label: str
    phrasings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Report:
    """The report as data; every renderer formats exactly this."""

    days: int
    start: datetime
    end: datetime
    statuses: Mapping[str, Count]
    items: tuple[Count, ...]
    categories: tuple[Count, ...]
    weeks: tuple[Week, ...]
    unanswered: tuple[TextGroup, ...]
    downvoted: tuple[Votes, ...]
    alternates: tuple[Phrasings, ...]
    votes_up: int = 0
    votes_down: int = 0
    labelled: bool = field(default=False)

    @property
    def total(self) -> Count:
        return Count(
            "total",
            "Spørgsmål i alt",
            sum(c.count for c in self.statuses.values()),
            sum(c.previous for c in self.statuses.values()),
        )


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


async def build_report(
    source: Path | str | QuestionLog,
    *,
    days: int,
    now: datetime | None = None,
    kb: KnowledgeBase | None = None,
) -> Report:
    """Read the log (an open ``QuestionLog`` or a database path) for the last ``days`` days."""
    if days < 1:
        raise ReportError(f"the report needs at least 1 day, got {days}.")
    end = (now or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(days=days)
    previous_start = start - timedelta(days=days)
    if isinstance(source, QuestionLog):
        await source.flush()
        return await _build(source.connection, days, previous_start, start, end, kb)
    path = Path(source)
    if not path.is_file():
        raise ReportError(
            f"there is no question log at {path} yet; it is created when the bot answers "
            "its first question."
        )
    db = await connect(path)
    try:
        return await _build(db, days, previous_start, start, end, kb)
    finally:
        await db.close()


async def _rows(db: aiosqlite.Connection, sql: str, parameters: Iterable[object]) -> list[Any]:
    cursor = await db.execute(sql, tuple(parameters))
    rows = await cursor.fetchall()
    await cursor.close()
    return list(rows)


async def _build(
    db: aiosqlite.Connection,
    days: int,
    previous_start: datetime,
    start: datetime,
    end: datetime,
    kb: KnowledgeBase | None,
) -> Report:
    bounds = (to_timestamp(previous_start), to_timestamp(end))
    split = to_timestamp(start)
    questions = await _rows(
        db,
        "SELECT asked_at, status, item_id, text FROM questions "
        "WHERE asked_at >= ? AND asked_at < ? ORDER BY asked_at",
        bounds,
    )
    picks = await _rows(
        db,
        "SELECT picks.picked_at, picks.item_id, questions.text FROM picks "
        "LEFT JOIN questions ON questions.id = picks.question_id "
        "WHERE picks.picked_at >= ? AND picks.picked_at < ? ORDER BY picks.picked_at",
        bounds,
    )
    votes = await _rows(
        db,
        "SELECT item_id, helpful FROM votes WHERE voted_at >= ? AND voted_at < ?",
        (split, bounds[1]),
    )

    def label(item_id: str) -> str:
        item = kb.get_item(item_id) if kb else None
        return item.question if item else item_id

    now_status: Counter[str] = Counter()
    before_status: Counter[str] = Counter()
    now_items: Counter[str] = Counter()
    before_items: Counter[str] = Counter()
    week_counts: dict[date, Counter[str]] = defaultdict(Counter)
    unanswered: list[tuple[float, str]] = []
    for asked_at, status, item_id, text in questions:
        current = asked_at >= split
        (now_status if current else before_status)[status] += 1
        if status == "answered" and item_id:
            (now_items if current else before_items)[item_id] += 1
        if current:
            week_counts[_monday(asked_at)][status] += 1
            if status in UNANSWERED and text:
                unanswered.append((asked_at, text))
    picked: dict[str, list[str]] = defaultdict(list)
    for picked_at, item_id, text in picks:
        current = picked_at >= split
        (now_items if current else before_items)[item_id] += 1
        if current and text:
            picked[item_id].append(text)

    statuses = {s: Count(s, STATUS_LABELS[s], now_status[s], before_status[s]) for s in STATUSES}
    items = sorted(
        (Count(i, label(i), now_items[i], before_items[i]) for i in now_items),
        key=lambda c: (-c.count, c.key),
    )
    categories: list[Count] = []
    if kb is not None:
        now_cat: Counter[str] = Counter()
        before_cat: Counter[str] = Counter()
        for counter, target in ((now_items, now_cat), (before_items, before_cat)):
            for item_id, count in counter.items():
                item = kb.get_item(item_id)
                target[item.category if item else UNKNOWN_CATEGORY] += count
        categories = sorted(
            (Count(c, c, now_cat[c], before_cat[c]) for c in now_cat),
            key=lambda c: (-c.count, c.key),
        )
    weeks = []
    monday = _monday(split)
    while monday <= _monday(to_timestamp(end) - 1e-6):
        weeks.append(Week(monday, {s: week_counts[monday][s] for s in STATUSES}))
        monday += timedelta(days=7)

    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item_id, helpful in votes:
        if item_id:
            tally[item_id][1 if helpful else 0] += 1
    downvoted = sorted(
        (Votes(i, label(i), down, up) for i, (down, up) in tally.items() if down),
        key=lambda v: (-v.down, v.up, v.key),
    )
    known: dict[str, set[str]] = {}
    if kb is not None:
        known = {item.id: {_normalise(p) for p in item.phrasings} for item in kb.items}
    alternates = []
    for item_id, texts in picked.items():
        counted = _distinct(texts, skip=known.get(item_id, set()))
        if counted:
            alternates.append(Phrasings(item_id, label(item_id), counted))
    alternates.sort(key=lambda p: (-sum(n for _, n in p.phrasings), p.key))
    return Report(
        days=days,
        start=start,
        end=end,
        statuses=statuses,
        items=tuple(items),
        categories=tuple(categories),
        weeks=tuple(weeks),
        unanswered=tuple(group_similar(unanswered)),
        downvoted=tuple(downvoted),
        alternates=tuple(alternates),
        votes_up=sum(up for _, up in tally.values()),
        votes_down=sum(down for down, _ in tally.values()),
        labelled=kb is not None,
    )


LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
"""Days and weeks are Danish ones: a question asked at 00:30 belongs to that day, not to the
evening before (the log itself keeps UTC seconds)."""


def _local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


def _monday(timestamp: float) -> date:
    day = datetime.fromtimestamp(timestamp, tz=LOCAL_TIME).date()
    return day - timedelta(days=day.weekday())


_PUNCTUATION = re.compile(r"[^\w\[\]]+")


def _normalise(text: str) -> str:
    """Casefolded words only, for telling near-identical texts apart."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())


def _distinct(texts: Iterable[str], *, skip: set[str]) -> tuple[tuple[str, int], ...]:
    """Exact-after-normalising duplicates merged, most frequent first; known phrasings left out."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for text in texts:
        key = _normalise(text)
        if not key or key in skip:
            continue
        first.setdefault(key, text.strip())
        counts[key] += 1
    return tuple((first[k], n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def group_similar(texts: Iterable[tuple[float, str]]) -> list[TextGroup]:
    """Group near-identical texts (normalised, rapidfuzz ratio >= ``SIMILAR``) into lines.

    Each line shows the group's most frequent wording; groups are sorted by count, then by
    the latest question.
    """
    groups: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}  # exact normalised repeats skip the fuzzy scan
    for asked_at, text in texts:
        key = _normalise(text)
        if not key:
            continue
        group = by_key.get(key)
        if group is None:
            for candidate in groups:
                if fuzz.ratio(key, candidate["key"]) >= SIMILAR:
                    group = candidate
                    break
            else:
                group = {"key": key, "texts": Counter(), "last": asked_at}
                groups.append(group)
            by_key[key] = group
        group["texts"][text.strip()] += 1
        group["last"] = max(group["last"], asked_at)
    result = []
    for group in groups:
        wordings = sorted(group["texts"].items(), key=lambda kv: (-kv[1], kv[0]))
        result.append(
            TextGroup(
                text=wordings[0][0],
                count=sum(group["texts"].values()),
                last_asked=datetime.fromtimestamp(group["last"], tz=UTC),
                variants=tuple(w for w, _ in wordings[1:]),
            )
        )
    result.sort(key=lambda g: (-g.count, -g.last_asked.timestamp(), g.text))
    return result


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    day = _local_date(moment)
    return f"{day.day}.{day.month}.{day.year}"


def period_text(report: Report) -> str:
    """E.g. ``24.10.2026–23.11.2026 (30 dage)``."""
    unit = "dag" if report.days == 1 else "dage"
    return f"{_day(report.start)}–{_day(report.end)} ({report.days} {unit})"


def change_text(count: Count) -> str:
    """Change against the previous period: ``+3``, ``-2``, ``±0`` or ``ny``."""
    if count.previous == 0 and count.count > 0:
        return "ny"
    if count.change == 0:
        return "±0"
    return f"{count.change:+d}"


def alternates_yaml(phrasings: Phrasings) -> str:
    """Ready to paste under the item in its YAML file."""
    lines = [f"# {phrasings.key}: {phrasings.label}", "alternates:"]
    lines += [f"  - {json.dumps(text, ensure_ascii=False)}" for text, _ in phrasings.phrasings]
    return "\n".join(lines)


def report_text(report: Report) -> str:
    """The report as plain text (terminal, the bot's /rapport message)."""
    out: list[str] = []
    total = report.total
    out.append("Rapport: spørgsmål om peer-medarbejdere")
    out.append(f"Periode: {period_text(report)}, sammenlignet med perioden før.")
    out.append("")
    out.append(
        f"Spørgsmål i alt: {total.count} (perioden før: {total.previous}, {change_text(total)})"
    )
    width = max(len(c.label) for c in report.statuses.values())
    for count in report.statuses.values():
        out.append(
            f"  {count.label:<{width}}  {count.count:>5}  (før: {count.previous}, "
            f"{change_text(count)})"
        )
    out.append("")
    out.append("Mest spurgte emner (besvaret eller valgt blandt forslag)")
    out += _count_lines(report.items[:TOP_ITEMS], show_key=report.labelled)
    if report.labelled:
        out.append("")
        out.append("Mest spurgte kategorier")
        out += _count_lines(report.categories, show_key=False)
    out.append("")
    out.append("Uge for uge")
    for week in report.weeks:
        parts = ", ".join(
            f"{STATUS_LABELS[s].split(' (')[0].lower()} {week.counts[s]}" for s in STATUSES
        )
        out.append(f"  {week.label:<12} {week.total:>5}  ({parts})")
    out.append("")
    out.append("Spørgsmål botten ikke kunne besvare (anonymiseret)")
    if report.unanswered:
        for group in report.unanswered[:TOP_TEXT_GROUPS]:
            out.append(f"  {group.count:>3} × {group.text}")
        if len(report.unanswered) > TOP_TEXT_GROUPS:
            out.append(f"  … og {len(report.unanswered) - TOP_TEXT_GROUPS} andre")
    else:
        out.append("  (ingen gemte spørgsmål)")
    out.append("")
    out.append(
        f"Svar med flest tommelfinger ned (i alt: {report.votes_down} ned, {report.votes_up} op)"
    )
    if report.downvoted:
        for votes in report.downvoted[:TOP_ITEMS]:
            out.append(f"  {votes.down:>3} ned, {votes.up:>3} op  {_labelled(votes, report)}")
    else:
        out.append("  (ingen)")
    out.append("")
    out.append("Formuleringer før et valgt forslag (kandidater til alternates i YAML)")
    if report.alternates:
        for phrasings in report.alternates:
            out.append(_indent(alternates_yaml(phrasings)))
    else:
        out.append("  (ingen)")
    return "\n".join(out) + "\n"


def _labelled(entry: Count | Votes, report: Report) -> str:
    return f"{entry.label} ({entry.key})" if report.labelled else entry.key


def _count_lines(counts: Iterable[Count], *, show_key: bool) -> list[str]:
    lines = []
    for rank, count in enumerate(counts, start=1):
        name = f"{count.label} ({count.key})" if show_key else count.label
        lines.append(f"  {rank:>2}. {count.count:>4}  ({change_text(count):>3})  {name}")
    return lines or ["  (ingen)"]


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


CSV_HEADER = ("afsnit", "nøgle", "tekst", "antal", "forrige_periode", "ændring")


def report_csv(report: Report) -> str:
    """Every section as rows of one table (afsnit, nøgle, tekst, antal, forrige, ændring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(
        ("periode", _local_date(report.start).isoformat(), period_text(report), report.days, "", "")
    )
    for count in (report.total, *report.statuses.values()):
        writer.writerow(
            ("status", count.key, count.label, count.count, count.previous, count.change)
        )
    for count in report.items:
        writer.writerow(("emne", count.key, count.label, count.count, count.previous, count.change))
    for count in report.categories:
        writer.writerow(
            ("kategori", count.key, count.label, count.count, count.previous, count.change)
        )
    for week in report.weeks:
        for status in STATUSES:
            writer.writerow(
                (
                    "uge",
                    week.start.isoformat(),
                    f"{week.label}: {STATUS_LABELS[status]}",
                    week.counts[status],
                    "",
                    "",
                )
            )
    for group in report.unanswered:
        asked = _local_date(group.last_asked).isoformat()
        writer.writerow(("ubesvaret", asked, group.text, group.count, "", ""))
    for votes in report.downvoted:
        writer.writerow(("tommel_ned", votes.key, votes.label, votes.down, "", ""))
        writer.writerow(("tommel_op", votes.key, votes.label, votes.up, "", ""))
    for phrasings in report.alternates:
        for text, times in phrasings.phrasings:
            writer.writerow(("alternativ", phrasings.key, text, times, "", ""))
    return buffer.getvalue()


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;
max-width:60rem;padding:0 1rem;color:#1d2733;background:#fff;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:2px solid #d8e1ea;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e6ecf1;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.muted{color:#5b6b7b}.up{color:#1b7a3d}.down{color:#b3261e}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{flex:1 1 10rem;border:1px solid #d8e1ea;border-radius:.5rem;padding:.6rem .8rem;
background:#f6f9fb}
.card b{display:block;font-size:1.8rem}
pre{background:#f6f9fb;border:1px solid #d8e1ea;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
svg{max-width:100%;height:auto}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _change_cell(count: Count) -> str:
    css = "up" if count.change > 0 else "down" if count.change < 0 else "muted"
    return f'<td class="n {css}">{_e(change_text(count))}</td>'


def _bar_svg(counts: tuple[Count, ...], title: str) -> str:
    """A horizontal bar chart of counts as inline SVG."""
    if not counts:
        return '<p class="muted">Ingen besvarede spørgsmål i perioden.</p>'
    row, label_width, bar_width = 30, 330, 300
    height = row * len(counts) + 10
    largest = max(c.count for c in counts) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 60}" '
        f'height="{height}" role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>'
    ]
    for index, count in enumerate(counts):
        y = index * row + 5
        name = count.label if len(count.label) <= 48 else count.label[:47] + "…"
        width = max(2, round(bar_width * count.count / largest))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" font-size="13" '
            f'fill="#1d2733">{_e(name)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{width}" height="{row - 8}" rx="3" '
            f'fill="#2f6f9f"/>'
            f'<text x="{label_width + width + 6}" y="{y + 19}" font-size="13" '
            f'fill="#1d2733">{count.count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _week_svg(weeks: tuple[Week, ...]) -> str:
    """Stacked columns per week (answered / clarify / no match / safety) as inline SVG."""
    colours = {
        "answered": "#2f6f9f",
        "clarify": "#e0a526",
        "no_match": "#b3261e",
        "safety": "#6b4fa0",
        "smalltalk": "#9aa5b1",
    }
    column, gap, chart_height = 44, 16, 160
    largest = max((w.total for w in weeks), default=0) or 1
    width = len(weeks) * (column + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{chart_height + 64}" '
        'role="img" aria-label="Spørgsmål uge for uge"><title>Spørgsmål uge for uge</title>'
    ]
    for index, week in enumerate(weeks):
        x = gap + index * (column + gap)
        top: float = chart_height + 24
        for status in STATUSES:
            h: float = chart_height * week.counts[status] / largest
            if h:
                top -= h
                parts.append(
                    f'<rect x="{x}" y="{top:.1f}" width="{column}" height="{h:.1f}" '
                    f'fill="{colours[status]}"/>'
                )
        parts.append(
            f'<text x="{x + column / 2}" y="{top - 4:.1f}" text-anchor="middle" font-size="12">'
            f"{week.total}</text>"
            f'<text x="{x + column / 2}" y="{chart_height + 42}" text-anchor="middle" '
            f'font-size="11" fill="#5b6b7b">{_e(week.label.rsplit(" ", 1)[0])}</text>'
        )
    parts.append("</svg>")
    legend = " · ".join(
        f'<span style="color:{colours[s]}">■</span> {_e(STATUS_LABELS[s])}' for s in STATUSES
    )
    return "".join(parts) + f'<p class="muted">{legend}</p>'


def report_html(report: Report) -> str:
    """One self-contained HTML page (inline CSS and SVG, no scripts) to open or e-mail."""
    total = report.total
    cards = "".join(
        f'<div class="card"><span class="muted">{_e(c.label)}</span><b>{c.count}</b>'
        f'<span class="muted">før: {c.previous} ({_e(change_text(c))})</span></div>'
        for c in (total, *report.statuses.values())
    )
    body = [
        "<h1>Rapport: spørgsmål om peer-medarbejdere</h1>",
        f'<p class="muted">Periode: {_e(period_text(report))}, sammenlignet med perioden før.</p>',
        f'<div class="cards">{cards}</div>',
        "<h2>Mest spurgte emner</h2>",
        '<p class="muted">Besvaret direkte eller valgt blandt forslag.</p>',
        _bar_svg(report.items[:TOP_ITEMS], "Mest spurgte emner"),
        _count_table(report.items[:TOP_ITEMS], "Emne"),
    ]
    if report.labelled:
        body += ["<h2>Mest spurgte kategorier</h2>", _count_table(report.categories, "Kategori")]
    body += ["<h2>Uge for uge</h2>", _week_svg(report.weeks), _week_table(report.weeks)]
    body.append("<h2>Spørgsmål botten ikke kunne besvare</h2>")
    body.append('<p class="muted">Anonymiseret; næsten ens spørgsmål er samlet på én linje.</p>')
    rows = "".join(
        f'<tr><td class="n">{g.count}</td><td>{_e(g.text)}</td>'
        f'<td class="n muted">{_e(_day(g.last_asked))}</td></tr>'
        for g in report.unanswered[:TOP_TEXT_GROUPS]
    )
    head = '<th class="n">Antal</th><th>Spørgsmål</th><th class="n">Senest</th>'
    body.append(_table(head, rows, "Ingen gemte spørgsmål."))
    body.append("<h2>Svar med flest tommelfinger ned</h2>")
    body.append(
        f'<p class="muted">I alt {report.votes_down} ned og {report.votes_up} op i perioden.</p>'
    )
    rows = "".join(
        f'<tr><td>{_e(v.label)}</td><td class="n down">{v.down}</td>'
        f'<td class="n up">{v.up}</td></tr>'
        for v in report.downvoted[:TOP_ITEMS]
    )
    body.append(_table('<th>Svar</th><th class="n">Ned</th><th class="n">Op</th>', rows))
    body.append("<h2>Formuleringer før et valgt forslag</h2>")
    body.append('<p class="muted">Kandidater til alternates, klar til at sætte ind i YAML.</p>')
    if report.alternates:
        body += [f"<pre>{_e(alternates_yaml(p))}</pre>" for p in report.alternates]
    else:
        body.append('<p class="muted">Ingen.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="da">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Rapport {_e(period_text(report))}</title>\n<style>{_CSS}</style>\n</head>\n"
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _count_table(counts: Iterable[Count], heading: str) -> str:
    rows = "".join(
        f'<tr><td>{_e(c.label)}</td><td class="n">{c.count}</td>'
        f'<td class="n muted">{c.previous}</td>{_change_cell(c)}</tr>'
        for c in counts
    )
    head = f'<th>{_e(heading)}</th><th class="n">Antal</th><th class="n">Før</th>'
    return _table(head + '<th class="n">Ændring</th>', rows)


def _table(head: str, rows: str, empty: str = "Ingen.") -> str:
    """A table with one header row, or a muted line saying ``empty`` when there are no rows."""
    if not rows:
        return f'<p class="muted">{empty}</p>'
    return f"<table><tr>{head}</tr>{rows}</table>"


def _week_table(weeks: Iterable[Week]) -> str:
    head = "".join(f'<th class="n">{_e(STATUS_LABELS[s])}</th>' for s in STATUSES)
    rows = "".join(
        f"<tr><td>{_e(w.label)}</td>"
        + "".join(f'<td class="n">{w.counts[s]}</td>' for s in STATUSES)
        + f'<td class="n">{w.total}</td></tr>'
        for w in weeks
    )
    return f'<table><tr><th>Uge</th>{head}<th class="n">I alt</th></tr>{rows}</table>'


def report_png(report: Report) -> bytes:
    """A bar chart of the most-asked items as PNG bytes (matplotlib, Agg; no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    counts = list(report.items[:TOP_ITEMS])
    figure = Figure(figsize=(9, 1.2 + 0.45 * max(len(counts), 2)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    title = f"Mest spurgte emner, {period_text(report)}"
    if counts:
        names = [c.label if len(c.label) <= 55 else c.label[:54] + "…" for c in reversed(counts)]
        values = [c.count for c in reversed(counts)]
        bars = axes.barh(names, values, color="#2f6f9f")
        axes.bar_label(bars, padding=3)
        axes.set_xlabel("Antal spørgsmål")
        axes.set_xlim(0, max(values) * 1.15)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.spines[["top", "right"]].set_visible(False)
    else:
        axes.axis("off")
        axes.text(0.5, 0.5, "Ingen besvarede spørgsmål i perioden", ha="center", va="center")
    axes.set_title(title, loc="left", fontsize=11)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
