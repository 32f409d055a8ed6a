"""The decision: answer, ask back (clarify) or admit that nothing fits, on a calibrated
probability that the best-ranked item is the right one.

The probability is a logistic model over a few pieces of evidence about the best item, fitted
on the tuning data (``bench/calibrate.py``: cross-validation over the items' own phrasings,
``knowledge/eval.yaml`` and the out-of-scope examples), so the thresholds mean what they say:
answer at ``answer`` or above, ask back between ``clarify`` and ``answer``, else no match. The
evidence includes agreement between independent signals: an item that the phrasing overlap,
the item's words, its trigrams, its answer and the classifier all rank first is likelier right
than one that wins the blend by a hair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import StrEnum

from faqbot.kb import Item


class Status(StrEnum):
    """What the engine decided to do with a question."""

    ANSWERED = "answered"
    CLARIFY = "clarify"
    NO_MATCH = "no_match"
    SAFETY = "safety"


@dataclass(frozen=True)
class Suggestion:
    """An item offered to the user when the question was ambiguous."""

    item: Item
    score: float


@dataclass(frozen=True)
class Result:
    """The engine's answer to one question. ``score`` is the probability that ``item`` (the
    best-ranked item) is the right one; 1.0 for the safety response."""

    question: str
    status: Status
    item: Item | None
    score: float
    suggestions: tuple[Suggestion, ...] = ()
    safety_note: bool = False
    """The message touches on danger but reads as a question: show the short safety note first."""


@dataclass(frozen=True)
class Evidence:
    """What the decision reads about the best-ranked item, each in [0, 1] (``margin`` in
    [-1, 1])."""

    score: float
    """Its ranking score (the blend of every signal)."""
    margin: float
    """Its lead over the best item with a genuinely different answer."""
    phrasing: float
    """Its best phrasing's overlap with the question."""
    coverage: float
    """The share of the question's words it explains."""
    agreement: float
    """The share of the signals that rank it first on their own."""
    negative: float
    """How much closer the question is to an out-of-scope example than to its best phrasing
    (0 when it is not)."""
    on_topic: float
    """1 when the question names the subject ("peer", "brugerbaggrund"...) or is close to one
    of the items' own phrasings, else 0."""


@dataclass(frozen=True)
class Calibration:
    """A logistic model of P(the best item is right): sigmoid(intercept + sum of weight x
    evidence), one weight per ``Evidence`` field."""

    intercept: float
    score: float
    margin: float
    phrasing: float
    coverage: float
    agreement: float
    negative: float
    on_topic: float

    def probability(self, evidence: Evidence) -> float:
        z = self.intercept + sum(
            getattr(self, field.name) * getattr(evidence, field.name) for field in fields(Evidence)
        )
        return 1.0 / (1.0 + math.exp(-z))


CALIBRATION = Calibration(
    intercept=-6.0,
    score=8.0,
    margin=6.0,
    phrasing=2.0,
    coverage=2.0,
    agreement=1.0,
    negative=-4.0,
    on_topic=1.5,
)
"""Fitted by ``bench/calibrate.py``; refit when the signals change."""


@dataclass(frozen=True)
class Thresholds:
    """Every number the decision uses, in one place."""

    answer: float = 0.5
    """Answer when the probability that the best item is right is at least this..."""
    clarify: float = 0.2
    """...ask back when it is at least this, else admit that nothing fits."""
    suggest_window: float = 0.15
    """Suggestions are items whose ranking score is within this of the best one..."""
    max_suggestions: int = 3
    """...at most this many, and only items with genuinely different answers."""


def decide(
    question: str,
    ranked: Sequence[tuple[Item, float]],
    probability: float,
    thresholds: Thresholds,
) -> Result:
    """The four-way decision (safety aside) from the distinct candidates ranked best first
    (with their ranking scores) and the probability that the first is right."""
    if not ranked:
        return Result(question, Status.NO_MATCH, None, 0.0)
    best, best_score = ranked[0]
    probability = round(probability, 4)
    if probability >= thresholds.answer:
        return Result(question, Status.ANSWERED, best, probability)
    if probability < thresholds.clarify:
        return Result(question, Status.NO_MATCH, best, probability)
    floor = best_score - thresholds.suggest_window
    suggestions = tuple(
        Suggestion(item, round(score, 4))
        for item, score in ranked[: thresholds.max_suggestions]
        if score >= floor
    )
    return Result(question, Status.CLARIFY, best, probability, suggestions)
