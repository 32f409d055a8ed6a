"""The report's chart as a PNG for Telegram (/rapport and the weekly digest): the most-asked
questions as bars labelled with the question itself (wrapped, cut with "…" where needed), and the
questions week by week (or month by month) stacked by outcome. matplotlib with the Agg canvas
and no pyplot state, so it is safe in a worker thread; DejaVu Sans is matplotlib's own font, so
the labels are measured in the font they are drawn in."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import cast

from faqbot.report import wording as w
from faqbot.report.model import OUTCOME_LABELS, OUTCOMES, Report
from faqbot.report.svg import BAR_COLOUR, COLOURS, fit_lines

TOP_CONCERNS = 10
DPI = 100
WIDTH_INCHES = 10.0
LABEL_POINTS = 10.0
LABEL_WIDTH_POINTS = 0.42 * WIDTH_INCHES * 72
"""The question labels get 42 % of the width; the bars the rest."""


def report_png(report: Report) -> bytes:
    """The chart as PNG bytes (1000 pixels wide; taller with more questions)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    concerns = list(report.concerns[:TOP_CONCERNS])
    labels = [
        "\n".join(fit_lines(c.label, LABEL_WIDTH_POINTS, size=LABEL_POINTS)) for c in concerns
    ]
    lines = sum(label.count("\n") + 1 for label in labels)
    concerns_height = 1.0 + 0.2 * max(lines, 3) + 0.12 * len(labels)
    figure = Figure(figsize=(WIDTH_INCHES, concerns_height + 3.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(
        f"Hvad kollegerne spørger om, {w.period_text(report.period)}",
        x=0.01,
        ha="left",
        fontsize=13,
    )
    # Two subfigures, so the trend gets the full width rather than the bars' label margin.
    upper, lower = cast(
        "Sequence[SubFigure]", figure.subfigures(2, 1, height_ratios=[concerns_height, 3.6])
    )
    top = upper.subplots()
    top.set_title("Mest spurgte (besvaret eller valgt blandt forslag)", loc="left", fontsize=11)
    if concerns:
        values = [c.count for c in concerns]
        bars = top.barh(range(len(concerns)), values, color=BAR_COLOUR)
        top.set_yticks(range(len(concerns)), labels, fontsize=LABEL_POINTS)
        top.invert_yaxis()
        top.bar_label(
            bars, labels=[f"{c.count} ({w.change(c)})" for c in concerns], padding=3, fontsize=9
        )
        top.set_xlim(0, max(values) * 1.2)
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.spines[["top", "right"]].set_visible(False)
    else:
        top.axis("off")
        top.text(0.5, 0.5, "Ingen besvarede spørgsmål i perioden", ha="center", va="center")

    bottom = lower.subplots()
    buckets = report.trend.buckets
    bottom.set_title(
        f"{w.trend_heading(report.trend)} (lysere søjle = kun en del af "
        f"{w.partial_unit(report.trend)})",
        loc="left",
        fontsize=11,
    )
    positions = range(len(buckets))
    base = [0] * len(buckets)
    for key in OUTCOMES:
        heights = [bucket.counts[key] for bucket in buckets]
        colours = [COLOURS[key] + ("80" if bucket.partial else "") for bucket in buckets]
        bottom.bar(positions, heights, bottom=base, color=colours, width=0.75)
        base = [b + h for b, h in zip(base, heights, strict=True)]
    step = max(1, math.ceil(len(buckets) / 12))
    ticks = list(positions)[::step]
    names = [buckets[i].label + ("*" if buckets[i].partial else "") for i in ticks]
    bottom.set_xticks(ticks, names)
    bottom.tick_params(axis="x", labelsize=9)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_ylim(0, max(max(base, default=0), 1) * 1.1)
    bottom.spines[["top", "right"]].set_visible(False)
    lower.legend(
        handles=[Patch(color=COLOURS[key], label=OUTCOME_LABELS[key]) for key in OUTCOMES],
        loc="outside lower center",
        ncols=3,
        fontsize=9,
        frameon=False,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
