"""The HTML report in a real browser: headless Chromium lays out reports with long Danish labels
over 7, 112, 120 and 365 days, and every label, bar and line of both charts must lie inside its
chart and inside the window; the page must never scroll sideways.

How: a copy of the page gets a small script that, once the fonts are ready, writes every chart
element's ``getBoundingClientRect()`` into the page as JSON; ``chromium --dump-dom`` (with a
virtual-time budget so the script has run) prints the page and the test reads the boxes back.
No DevTools connection, no extra dependency. The report itself has no scripts.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from faqbot.kb import Item, KnowledgeBase, SafetyRules, Source, SourceRef
from faqbot.questionlog import QuestionLog
from faqbot.report import Report, build_report, report_html
from faqbot.settings import KeepText

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOLERANCE = 0.5  # pixels of anti-aliasing
LONG_QUESTIONS = (
    "Hvordan forbereder vi som ledelse personalegruppen på, at en ny peer-medarbejder med egen "
    "erfaring med psykisk sygdom og recovery starter i afdelingen efter sommerferien?",
    "Må peer-medarbejderen fortælle patienter, borgere og pårørende om sin egen historie med "
    "indlæggelser, medicin og tvang, og hvor går grænsen for selvafsløring?",
    "Arbejdsmiljøorganisationsrepræsentantsuppleantvalgperiodeforlængelsesmulighederne?",
    "Hvilken overenskomst, løn og hvilke tillæg får en peermedarbejder i regionen?",
    "Kan arbejdet som peer slide på peerens egen recovery eller give tilbagefald?",
    "Har peer-medarbejderen oplysningspligt, hvis en patient er til fare for sig selv eller "
    "andre, eller gælder tavshedspligten?",
    "Skal peer-medarbejderen kunne læse i patientjournalerne og dokumentere i dem?",
    "Hvad gør vi, hvis der opstår uenighed eller konflikt mellem peeren og kollegerne?",
    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW WWWWWWWWWWWWWWWWWWWWWWWWWWWWW?",
    "Får peermedarbejderen supervision, og hvor ofte?",
    "Hvad er CHIME?",
    "Hvordan skaber vi et godt samarbejde mellem peermedarbejderen og de øvrige faggrupper på "
    "et travlt sengeafsnit med mange vikarer?",
)
LONG_GAP = "Hvad med " + "sygefraværssamtaleforløbsbeskrivelsesskabelonen" * 5 + "?"


def long_kb() -> KnowledgeBase:
    ref = (SourceRef("guide", "Del 1"),)
    items = tuple(
        Item(
            f"item-{n}",
            f"Kategori med et langt dansk navn om samarbejde og arbejdsmiljø nr. {n % 4}",
            question,
            "Svar.",
            ref,
        )
        for n, question in enumerate(LONG_QUESTIONS)
    )
    return KnowledgeBase(
        directory=Path("."),
        sources=(Source("guide", "Guiden", "Regionen", "2023", "CC BY"),),
        items=items,
        synonyms=(),
        safety=SafetyRules(response="Ring 112.", phrases=()),
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Report]:
    """A log of 400 days with every item, gaps and off-topic questions; reports over 7, 112,
    120 and 365 days."""
    import asyncio

    async def build() -> dict[int, Report]:
        now = [NOW]
        log = await QuestionLog.open(
            tmp_path_factory.mktemp("browser") / "faqbot.sqlite3",
            secret=b"s",
            keep_text=KeepText.ALL,
            retention_days=500,
            clock=lambda: now[0],
        )
        try:
            for hour in range(0, 400 * 24, 7):
                now[0] = NOW - timedelta(hours=hour)
                index = (hour * 7) % (len(LONG_QUESTIONS) + 3)
                if index < len(LONG_QUESTIONS):
                    status, item, text = "answered", f"item-{index}", "x"
                elif index == len(LONG_QUESTIONS):
                    status, item, text = "no_match", None, LONG_GAP
                else:
                    status, item, text = "no_match", None, "Hvornår åbner kantinen?"
                log.log_question(
                    question=text,
                    status=status,
                    item_id=item,
                    score=0.5,
                    latency_ms=1.0,
                    chat_kind="private",
                    user_id=hour % 50,
                    off_topic=index > len(LONG_QUESTIONS),
                )
            kb = long_kb()
            return {
                days: await build_report(log, days=days, now=NOW, kb=kb)
                for days in (7, 112, 120, 365)
            }
        finally:
            await log.close()

    return asyncio.run(build())


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium; .ci/run does it), "
            "so the HTML report cannot be rendered"
        )
    return found


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
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [chromium, *flags, *arguments],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(profile)},
        check=False,
    )


MEASURE = """
<script>
window.addEventListener("load", () => document.fonts.ready.then(() => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  };
  const charts = [...document.querySelectorAll("svg")].map((svg) => ({
    label: svg.getAttribute("aria-label"),
    viewBox: svg.getAttribute("viewBox"),
    box: box(svg),
    items: [...svg.querySelectorAll("text, rect, line")].map((element) => ({
      tag: element.tagName, css: element.getAttribute("class"),
      text: element.textContent, box: box(element),
    })),
  }));
  const result = {width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
                  charts};
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
}));
</script>
"""


def measure(chromium: str, page: Path, width: int) -> dict[str, Any]:
    """Lay the page out at ``width`` CSS pixels and return the measured boxes."""
    measured = page.with_name(f"{page.stem}-measured.html")
    measured.write_text(
        page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8"
    )
    done = run_chromium(
        chromium,
        page.parent / "profile",
        f"--window-size={width},900",
        "--virtual-time-budget=5000",
        "--dump-dom",
        measured.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    start = done.stdout.find('<pre id="measured">')
    assert start >= 0, f"the measuring script did not run:\n{done.stderr[-2000:]}"
    body = done.stdout[start + len('<pre id="measured">') : done.stdout.index("</pre>", start)]
    return json.loads(html.unescape(body))


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["left"] >= outer["left"] - TOLERANCE
        and inner["right"] <= outer["right"] + TOLERANCE
        and inner["top"] >= outer["top"] - TOLERANCE
        and inner["bottom"] <= outer["bottom"] + TOLERANCE
    )


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"] - TOLERANCE
        and b["left"] < a["right"] - TOLERANCE
        and a["top"] < b["bottom"] - TOLERANCE
        and b["top"] < a["bottom"] - TOLERANCE
    )


def check_layout(result: dict[str, Any], where: str) -> None:
    window = {"left": 0.0, "right": float(result["width"]), "top": -1e9, "bottom": 1e9}
    assert result["scrollWidth"] <= result["width"], f"{where}: the page scrolls sideways"
    assert len(result["charts"]) == 2, where
    for chart in result["charts"]:
        assert chart["viewBox"].startswith("0 0 "), where
        assert inside(chart["box"], window), f"{where}: {chart['label']} is wider than the window"
        texts = [item for item in chart["items"] if item["tag"] == "text"]
        bars = [item for item in chart["items"] if item["tag"] == "rect"]
        assert texts and bars, f"{where}: {chart['label']} drew nothing"
        for item in chart["items"]:
            assert item["box"]["right"] > item["box"]["left"] or item["tag"] == "line"
            assert inside(item["box"], chart["box"]), (
                f"{where}: {item['tag']} {item['text']!r} lies outside {chart['label']}: "
                f"{item['box']} not in {chart['box']}"
            )
        labels = [t for t in texts if t["css"] in ("label", "axis")]
        for n, first in enumerate(labels):
            for second in labels[n + 1 :]:
                assert not overlaps(first["box"], second["box"]), (
                    f"{where}: labels {first['text']!r} and {second['text']!r} overlap"
                )


@pytest.mark.parametrize("days", [7, 112, 120, 365])
def test_charts_fit_with_long_danish_labels(
    days: int, reports: dict[int, Report], chromium: str, tmp_path: Path
) -> None:
    report = reports[days]
    assert report.trend.unit == ("dag" if days <= 14 else "uge" if days <= 112 else "måned")
    page = tmp_path / f"rapport-{days}.html"
    page.write_text(report_html(report), encoding="utf-8")
    result = measure(chromium, page, 1000)
    check_layout(result, f"{days} days at 1000 px")
    concerns, trend = result["charts"]
    shown = [t["text"] for t in concerns["items"] if t["css"] == "label"]
    assert len(shown) == min(15, len(report.concerns))
    assert any(label.endswith("…") for label in shown), "the long questions were not cut"
    columns = [r for r in trend["items"] if r["tag"] == "rect"]
    assert len({round(r["box"]["left"]) for r in columns}) == sum(
        1 for bucket in report.trend.buckets if bucket.total
    )
    if days == 365:  # a phone (headless Chromium lays out at least 500 px wide)
        phone = measure(chromium, page, 390)
        check_layout(phone, f"{days} days on a phone")


def test_the_page_renders_as_a_picture(
    reports: dict[int, Report], chromium: str, tmp_path: Path
) -> None:
    page = tmp_path / "rapport.html"
    page.write_text(report_html(reports[120]), encoding="utf-8")
    screenshot = tmp_path / "shot.png"
    shot = run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1000,1600",
        page.as_uri(),
    )
    assert screenshot.is_file(), shot.stderr[-2000:]
    pixels = matplotlib.image.imread(screenshot)  # floats 0..1, height x width x channels
    assert pixels.shape[:2] == (1600, 1000)
    rgb = pixels[:, :, :3]
    assert rgb.std() > 0.02, "the screenshot is blank"
    assert int((rgb.mean(axis=2) < 0.4).sum()) > 2000, "no text or bars were drawn"
    assert len({tuple(p) for p in rgb[::20, ::20].reshape(-1, 3).round(2)}) > 5
