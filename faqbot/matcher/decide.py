"""The decision: answer, ask back (clarify) or admit that nothing fits, on a calibrated
probability that the best-ranked item is the right one.

The probability is a logistic model over the evidence about the best item (its blended score,
its lead over the best genuinely different answer, the pull of an out-of-scope example, whether
the question names the subject, and its lead in each independent signal alone, which says how
far the signals agree on it, how many of them rank it first, and how much of the question's
words it explains), fitted on the
tuning sets by ``bench/calibrate.py`` (``knowledge/eval.yaml`` and the development set
``knowledge/dev.yaml``), so the thresholds mean what they say: answer at ``answer`` or above,
ask back between ``clarify`` and ``answer``, else no match.

Whether the question is outside the subject altogether is a decision of its own, on evidence
of its own (``OutsideEvidence``: no subject word, an out-of-scope example as close as any
phrasing, words no item has, words that out-of-scope examples use, a best item that barely
leads the next answer): a second logistic model, P(out of scope), fitted by the same script
on the same sets' in-scope and out-of-scope questions. At ``reject`` or above the engine says
it cannot answer where it would otherwise answer, at ``reject_clarify`` or above where it would
ask back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING

from faqbot.kb import Item
from faqbot.matcher.answerable import Gap
from faqbot.smalltalk import SmallTalk

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Status(StrEnum):
    """What the engine decided to do with a question."""

    ANSWERED = "answered"
    CLARIFY = "clarify"
    NO_MATCH = "no_match"
    SAFETY = "safety"
    SMALLTALK = "smalltalk"
    """Greetings, thanks, questions about the bot: a short reply, not an unanswered question."""


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
    safety_situation: str | None = None
    """For ``Status.SAFETY``: the situation whose safety text fits (None: the general one)."""
    small_talk: SmallTalk | None = None
    """Small talk (status SMALLTALK, its reply) or a question in another language (its note is
    shown above the suggestions)."""
    not_covered: Gap | None = None
    """A no_match because the question asks for something the best items do not hold (a name
    they never name, a kind of fact their answers lack: ``matcher.answerable``)."""
    off_topic: bool = False
    """A no_match because the question is outside the subject (an out-of-scope example fits it
    better than any phrasing, or it names no subject word), not a gap in the knowledge base."""


@dataclass(frozen=True)
class Evidence:
    """What the decision reads about the best-ranked item."""

    score: float
    """Its ranking score: the blend of the independent signals, in [0, 1]."""
    margin: float
    """Its lead in ranking score over the best item with a genuinely different answer."""
    negative: float
    """How much closer the question is to an out-of-scope example than to the item's best
    phrasing (0 when it is not)."""
    on_topic: float
    """1 when the question names the subject ("peer", "brugerbaggrund"...) or is close to one
    of the items' own phrasings (which, when it names another staff group, name it too), else 0."""
    phrasing_lead: float
    """Its lead in the phrasing signal alone over the best other item (negative when another
    item leads that signal); with the two below, how far the independent signals agree (worth
    about two points of answered-right at the same wrong on the development set)."""
    bayes_lead: float
    """Its lead in the classifier's probability over the best other item."""
    surface_lead: float
    """Its lead in surface (trigram) likeness over the best other item."""
    agreement: float
    """The share of the signals that rank it first (1: every signal picks it on its own)."""
    coverage: float
    """The share of the question's terms (by IDF) that its phrasings and tags contain: an item
    that explains only a part of the question is more often the wrong one."""


@dataclass(frozen=True)
class OutsideEvidence:
    """What says that a question is outside the subject, whatever item ranks first."""

    off_topic: float
    """1 when the question names no subject word and is not close to an item's own phrasing
    (``Evidence.on_topic`` turned round), else 0."""
    negative_gap: float
    """The best out-of-scope example's overlap with the question minus the best item's best
    phrasing's (``Evidence.negative`` before it is cut at 0: "nearly as close" counts too)."""
    unknown: float
    """The share of the question's term mass (by IDF) that no item has in its phrasings, tags
    or answer (a word nobody wrote in the knowledge base)."""
    coverage: float
    """As ``Evidence.coverage``, over the question's asking part (``answerable.asking_part``:
    without "Jeg er leder i Vejle Kommune, ..."): how much of what is asked the best item
    explains, whatever the asker says about themselves first."""
    word_odds: float
    """How much more often out-of-scope examples than phrasings use the question's words: the
    IDF-weighted mean log odds of its terms (``signals.term_odds``)."""
    margin: float
    """As ``Evidence.margin``: how far the best item leads the best different answer. A
    question from outside the subject rarely picks one item clearly, it brushes several (worth
    about a point of out-of-scope rejected, leave-one-author-out, at no in-scope cost)."""


@dataclass(frozen=True)
class LogisticModel:
    """sigmoid(intercept + the sum of weight x evidence): a subclass has one weight per field
    of the evidence it reads, under the same name."""

    intercept: float

    def probability(self, evidence: DataclassInstance) -> float:
        z = self.intercept + sum(
            getattr(self, field.name) * getattr(evidence, field.name) for field in fields(evidence)
        )
        return 1.0 / (1.0 + math.exp(-min(max(z, -50.0), 50.0)))


@dataclass(frozen=True)
class OutOfScopeModel(LogisticModel):
    """P(the question is outside the subject), one weight per ``OutsideEvidence`` field."""

    off_topic: float
    negative_gap: float
    unknown: float
    coverage: float
    word_odds: float
    margin: float = 0.0
    """0 (not read) in a calibration.yaml fitted before the margin was evidence."""


@dataclass(frozen=True)
class Calibration(LogisticModel):
    """P(the best item is right), one weight per ``Evidence`` field."""

    score: float
    margin: float
    negative: float
    on_topic: float
    phrasing_lead: float
    bayes_lead: float
    surface_lead: float
    agreement: float
    coverage: float


CALIBRATION = Calibration(
    intercept=-3.568,
    score=4.762,
    margin=5.743,
    negative=-13.192,
    on_topic=1.449,
    phrasing_lead=0.0,
    bayes_lead=0.0,
    surface_lead=0.0,
    agreement=0.0,
    coverage=0.0,
)
"""The default for a knowledge base without ``calibration.yaml`` (fitted on an earlier
knowledge/eval.yaml and cross-validated alternates). A knowledge base with tuning sets gets its
own from ``bench/calibrate.py --write``; refit when the signals or the knowledge base change."""


@dataclass(frozen=True)
class Thresholds:
    """Every number the decision uses, in one place."""

    answer: float = 0.65
    """Answer when the probability that the best item is right is at least this..."""
    tie: float = 0.03
    """...and it leads the best genuinely different answer by at least this much in ranking
    score (closer is a tie, so the user chooses)..."""
    clarify: float = 0.5
    """...ask back when the probability is at least this, else admit that nothing fits.
    (These are the defaults for a knowledge base without ``calibration.yaml``; the real one's
    are chosen there by ``bench/calibrate.py`` so that fresh questions are rarely answered
    wrong.)"""
    suggest_window: float = 0.15
    """Suggestions are items whose ranking score is within this of the best one..."""
    max_suggestions: int = 3
    """...at most this many, and only items with genuinely different answers."""
    reject: float = 0.99
    """Say that nothing fits when P(out of scope) (``OutOfScopeModel``) is at least this,
    whatever the other numbers say (only with a fitted model: without one, never)..."""
    reject_clarify: float = 0.99
    """...and, where the engine would ask back, when it is at least this (at most ``reject``):
    a "Mente du ...?" stands on weaker evidence that an item fits, so weaker evidence that the
    question is outside the subject outweighs it."""

    def turns_away(self, status: Status, outside: float) -> bool:
        """Does P(out of scope) ``outside`` turn away an answer or a "Mente du ...?"?"""
        if status is Status.ANSWERED:
            return outside >= self.reject
        return status is Status.CLARIFY and outside >= min(self.reject, self.reject_clarify)

    @classmethod
    def fitted(cls, numbers: Mapping[str, float]) -> Thresholds:
        """The thresholds of calibration.yaml; the defaults for any it does not give
        (``reject_clarify``: ``reject``, as before it was fitted)."""
        default = cls()
        reject = numbers.get("reject", default.reject)
        return cls(
            answer=numbers.get("answer", default.answer),
            tie=numbers.get("tie", default.tie),
            clarify=numbers.get("clarify", default.clarify),
            suggest_window=numbers.get("suggest_window", default.suggest_window),
            reject=reject,
            reject_clarify=numbers.get("reject_clarify", reject),
        )


def decide(
    question: str,
    ranked: Sequence[tuple[Item, float]],
    probability: float,
    thresholds: Thresholds,
) -> Result:
    """The four-way decision (safety aside) from the candidates with genuinely different
    answers, ranked best first with their ranking scores, and the probability that the first
    is right."""
    if not ranked:
        return Result(question, Status.NO_MATCH, None, 0.0)
    best, best_score = ranked[0]
    probability = round(probability, 4)
    lead = best_score - ranked[1][1] if len(ranked) > 1 else best_score
    if probability >= thresholds.answer and lead >= thresholds.tie:
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
