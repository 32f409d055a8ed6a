"""Chart geometry for the HTML report's inline SVG: every label measured, wrapped or cut to a
known width, every shape inside a fixed ``viewBox``, so the charts scale with the page and
nothing falls outside them at any period length.

Text is measured with DejaVu Sans's metrics (matplotlib ships the font) and the SVG asks for
that font first; the usual fallbacks (Liberation Sans, Arial, Helvetica) are narrower, so a label
measured to fit still fits. The template only writes out these shapes; escaping is its job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from faqbot.report import wording as w
from faqbot.report.model import OUTCOME_LABELS, OUTCOMES, Bucket, Count, Trend

FONT_FAMILY = "'DejaVu Sans', Verdana, sans-serif"
FONT_SIZE = 13.0
SMALL_SIZE = 11.0
LINE_HEIGHT = 16.0
WIDTH = 960.0
"""Every chart's viewBox width; the page scales it to fit."""
COLOURS = {
    "answered": "#2f6f9f",
    "picked": "#4f9d69",
    "gap": "#c0392b",
    "off_topic": "#9aa5b1",
    "smalltalk": "#d8c17a",
    "crisis": "#6b4fa0",
}
BAR_COLOUR = "#2f6f9f"


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    lines: tuple[str, ...]
    anchor: str = "start"
    size: float = FONT_SIZE
    css: str = "label"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str = ""
    opacity: float = 1.0


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#d8e1ea"
    title: str = ""


@dataclass(frozen=True)
class Chart:
    """An SVG chart: ``viewBox="0 0 width height"`` and its shapes."""

    title: str
    width: float
    height: float
    rects: tuple[Rect, ...]
    lines: tuple[Line, ...]
    texts: tuple[Text, ...]
    font_family: str = FONT_FAMILY


# --------------------------------------------------------------------------------------------
# Measuring and fitting text
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _text_to_path() -> Any:
    from matplotlib.textpath import TextToPath

    return TextToPath()


@lru_cache(maxsize=4096)
def text_width(text: str, size: float = FONT_SIZE) -> float:
    """The width of ``text`` in DejaVu Sans at ``size`` user units (2 % to spare)."""
    from matplotlib.font_manager import FontProperties

    width, _, _ = _text_to_path().get_text_width_height_descent(
        text, FontProperties(family="DejaVu Sans", size=size), ismath=False
    )
    return float(width) * 1.02


def _cut(text: str, width: float, size: float) -> str:
    """``text`` cut to fit ``width`` with a trailing "…" (at a word boundary where one is near)."""
    if text_width(text, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its ellipsis
        middle = (low + high + 1) // 2
        if text_width(text[:middle].rstrip() + "…", size) <= width:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-") + "…"


def fit_lines(
    text: str, width: float, *, size: float = FONT_SIZE, max_lines: int = 2
) -> tuple[str, ...]:
    """``text`` word-wrapped into at most ``max_lines`` lines no wider than ``width``; the last
    line ends in "…" when the rest does not fit, and a word too long for a line is cut."""
    words = text.split()
    lines: list[str] = []
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size) <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words:
        lines[-1] = _cut(" ".join([lines[-1], *words]), width, size)
    return tuple(_cut(line, width, size) for line in lines) or ("",)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def bar_chart(counts: tuple[Count, ...], title: str) -> Chart:
    """Horizontal bars, one per count, labelled with the (wrapped) question, and a thin mark
    where the period before stood."""
    label_width, gap = 390.0, 12.0
    values = [f"{count.count} ({w.change(count)})" for count in counts]
    value_room = max((text_width(value) for value in values), default=0.0) + 12
    bars_x = label_width + gap
    bars_width = WIDTH - bars_x - value_room
    largest = max((max(c.count, c.previous) for c in counts), default=0) or 1
    rects, lines, texts = [], [], []
    y = 8.0
    for count, value in zip(counts, values, strict=True):
        label = fit_lines(count.label, label_width)
        row = max(30.0, LINE_HEIGHT * len(label) + 12)
        middle = y + row / 2
        first_baseline = middle - (len(label) - 1) * LINE_HEIGHT / 2 + 4.5
        texts.append(Text(label_width, first_baseline, label, anchor="end"))
        width = max(2.0, bars_width * count.count / largest)
        tooltip = f"{count.label}: {count.count} (før: {count.previous})"
        rects.append(Rect(bars_x, middle - 10, width, 20, BAR_COLOUR, tooltip))
        end = bars_x + width
        if count.previous:
            x = bars_x + bars_width * count.previous / largest
            lines.append(Line(x, middle - 13, x, middle + 13, "#1d2733", f"før: {count.previous}"))
            end = max(end, x)
        texts.append(Text(end + 6, middle + 4.5, (value,), css="value"))
        y += row
    return Chart(title, WIDTH, y + 8, tuple(rects), tuple(lines), tuple(texts))


def _ticks(largest: int) -> list[int]:
    """Round gridline values from 0 to at least ``largest`` (about four of them)."""
    if largest <= 0:
        return [0, 1]
    raw = largest / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return list(range(0, largest + step, step))


def trend_chart(trend: Trend) -> Chart:
    """Stacked columns per week or month (lighter where the bucket is partial), a y axis with
    round gridlines, and as many x labels as fit without touching."""
    left, right, top, bottom = 46.0, 12.0, 22.0, 34.0
    height = 260.0
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    buckets = trend.buckets
    ticks = _ticks(max((b.total for b in buckets), default=0))
    scale = plot_height / ticks[-1]
    pitch = plot_width / max(1, len(buckets))
    column = max(1.0, pitch * 0.72)
    rects: list[Rect] = []
    lines: list[Line] = []
    texts: list[Text] = []
    for tick in ticks:
        y = top + plot_height - tick * scale
        lines.append(Line(left, y, WIDTH - right, y))
        texts.append(Text(left - 6, y + 4, (str(tick),), anchor="end", size=SMALL_SIZE, css="axis"))
    for index, bucket in enumerate(buckets):
        x = left + index * pitch + (pitch - column) / 2
        base = top + plot_height
        for key in OUTCOMES:
            value = bucket.counts[key]
            if not value:
                continue
            h = value * scale
            base -= h
            tooltip = f"{w.bucket_text(bucket)}: {OUTCOME_LABELS[key]} {value}"
            rects.append(
                Rect(x, base, column, h, COLOURS[key], tooltip, 0.5 if bucket.partial else 1)
            )
        total = str(bucket.total)
        if bucket.total and text_width(total, SMALL_SIZE) <= pitch - 2:
            texts.append(
                Text(
                    x + column / 2,
                    base - 4,
                    (total,),
                    anchor="middle",
                    size=SMALL_SIZE,
                    css="value",
                )
            )
    texts += _x_labels(buckets, left, pitch, height - bottom + 16)
    return Chart(w.trend_heading(trend), WIDTH, height, tuple(rects), tuple(lines), tuple(texts))


def _x_labels(buckets: tuple[Bucket, ...], left: float, pitch: float, y: float) -> list[Text]:
    """Labels under the columns, every k-th so they never touch, none past either edge."""
    if not buckets:
        return []
    names = [bucket.label + ("*" if bucket.partial else "") for bucket in buckets]
    widest = max(text_width(name, SMALL_SIZE) for name in names)
    step = max(1, math.ceil((widest + 10) / pitch))
    labels: list[Text] = []
    right_of_last = -math.inf
    for index in range(0, len(buckets), step):
        half = text_width(names[index], SMALL_SIZE) / 2
        centre = left + (index + 0.5) * pitch
        centre = min(max(centre, half + 1), WIDTH - half - 1)
        if centre - half < right_of_last + 8:
            continue
        labels.append(
            Text(centre, y, (names[index],), anchor="middle", size=SMALL_SIZE, css="axis")
        )
        right_of_last = centre + half
    return labels
