"""The matcher: one pipeline per question, safety -> small talk -> score -> decide."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

from faqbot.kb import Item, KnowledgeBase
from faqbot.matcher.answerable import Answerability, Gap
from faqbot.matcher.decide import (
    CALIBRATION,
    Calibration,
    Evidence,
    OutOfScopeModel,
    OutsideEvidence,
    Result,
    Status,
    Suggestion,
    Thresholds,
    decide,
)
from faqbot.matcher.index import FloatArray, Index, build_index
from faqbot.matcher.query import MAX_QUERY_CHARS, Query, read_query
from faqbot.matcher.signals import (
    SIGNALS,
    Weights,
    coverage,
    negative,
    phrasing_overlaps,
    score,
    term_odds,
    unknown,
    word_odds,
)
from faqbot.safety import SafetyDetector, SafetyLevel
from faqbot.smalltalk import SmallTalk, SmallTalkDetector

SAFETY_MAX_CHARS = 4096
"""The crisis check reads a whole Telegram message (4096 characters)."""
OWN_PHRASING = 0.85
"""A question this close to one of the items' own phrasings is on topic whatever its words."""
SAME_ANSWER = 0.6
"""Two items whose answers' IDF-weighted term overlap (Dice) is at least this give the same
answer: the decision does not weigh one against the other, nor offer both."""
CANDIDATES = 5
"""How many of the best-ranked items the decision looks at."""


class Matcher:
    """Matches questions against one knowledge base. Build once; ``match`` is fast and pure."""

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        weights: Weights | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.kb = kb
        fitted = kb.decision  # calibration.yaml: fitted on this knowledge base's tuning sets
        self.thresholds = thresholds or Thresholds.fitted(fitted.get("thresholds", {}))
        self.weights = weights or Weights()
        self.calibration = calibration or (
            Calibration(**fitted["calibration"]) if "calibration" in fitted else CALIBRATION
        )
        self.out_of_scope: OutOfScopeModel | None = (
            OutOfScopeModel(**fitted["out_of_scope"]) if "out_of_scope" in fitted else None
        )
        """P(the question is outside the subject); None (never used) until it is fitted."""
        self.safety = SafetyDetector(kb.safety)
        self.small_talk = SmallTalkDetector(kb.small_talk)
        self.index: Index = build_index(kb)
        self.phrasing_groups = groups_of_phrasings(self.index)
        self.term_odds = term_odds(self.index)
        self.answerability = Answerability(kb)

    def without_author(self, author: str | None) -> Matcher:
        """This matcher with its index built without one author's labelled questions (dev.yaml),
        so that author's questions are as new to it as a colleague's; the crisis check, small
        talk and the decision are shared, not built again."""
        other = copy.copy(self)
        other.kb = self.kb.without_author(author)
        other.index = build_index(other.kb)
        other.phrasing_groups = groups_of_phrasings(other.index)
        other.term_odds = term_odds(other.index)
        return other

    def match(self, question: str) -> Result:
        """Decide what to do with one question. Never raises on any string."""
        if not isinstance(question, str):
            question = str(question)
        level = self.safety.assess(question[:SAFETY_MAX_CHARS])
        if level is SafetyLevel.ACUTE:
            situation = self.safety.situation(question[:SAFETY_MAX_CHARS])
            return Result(question, Status.SAFETY, None, 1.0, safety_situation=situation)
        if level is SafetyLevel.NONE and (talk := self.small_talk.detect(question)) is not None:
            return with_small_talk(question, talk, self._decide)
        result = self.with_task(self._decide(question))
        return replace(result, safety_note=True) if level is SafetyLevel.NOTE else result

    def with_task(self, result: Result) -> Result:
        """A no_match that asks the bot for a task ("skriv en mail ...") says so in its reply
        (``Gap.task``), whatever turned it away."""
        if result.status is not Status.NO_MATCH or result.not_covered is not None:
            return result
        task = self.answerability.task(result.question)
        return result if task is None else replace(result, not_covered=Gap(task=task.says))

    def _decide(self, question: str) -> Result:
        query = self.query(question)
        evidence, beyond, ranked = self._judge(query)
        probability = self.calibration.probability(evidence) if evidence else 0.0
        if evidence is not None and self.about_other_group(query, evidence):
            best = self.kb.items[ranked[0][0]]
            return Result(question, Status.NO_MATCH, best, round(probability, 4), off_topic=True)
        candidates = [(self.kb.items[i], s) for i, s in ranked]
        result = decide(question, candidates, probability, self.thresholds)
        if self.outside_subject(beyond, result.status):
            # Outside the subject by its own evidence: no answer and no "Mente du ...?".
            return replace(result, status=Status.NO_MATCH, suggestions=(), off_topic=True)
        if result.status in (Status.ANSWERED, Status.CLARIFY):
            result = self.answerable(result, query.asking.text)
        if result.status is Status.NO_MATCH:
            outside = evidence is None or evidence.negative > 0 or not evidence.on_topic
            if outside and (evidence is not None or self.index.vocabulary.subject):
                return replace(result, off_topic=True)
        return result

    def answerable(self, result: Result, asking: str | None = None) -> Result:
        """An answer or a "Mente du ...?" whose items do not hold what the question asks (a
        name they never name, a fact their answers do not show, a fact about one thing no
        sentence of theirs holds), or that asks for a task, becomes a no_match that says what
        the guides do not cover (``matcher.answerable``); ``asking``: the question's asking
        part when already cut (``Query.asking``)."""
        items = [s.item for s in result.suggestions] or ([result.item] if result.item else [])
        gap = self.answerability.unanswerable(result.question, items, asking)
        if gap is None:
            return result
        return replace(result, status=Status.NO_MATCH, suggestions=(), not_covered=gap)

    def assess(self, question: str) -> tuple[Evidence | None, list[tuple[int, float]]]:
        """The evidence about the best-ranked item, and the best-ranked items with genuinely
        different answers (indices and ranking scores), best first."""
        evidence, _, ranked = self.judge(question)
        return evidence, ranked

    def judge(
        self, question: str
    ) -> tuple[Evidence | None, OutsideEvidence | None, list[tuple[int, float]]]:
        """``assess``, and the evidence that the question is outside the subject."""
        return self._judge(self.query(question))

    def _judge(
        self, query: Query
    ) -> tuple[Evidence | None, OutsideEvidence | None, list[tuple[int, float]]]:
        if not query.terms:
            return None, None, []
        signals = self.signals(query)
        ranked = self._distinct(score(signals, self.weights))
        closest = negative(self.index, query)
        evidence = self.evidence(query, signals, ranked, closest)
        if evidence is None:
            return None, None, ranked
        asking = self.asking_query(query)
        return evidence, self.outside(query, asking, signals, ranked, evidence, closest), ranked

    def outside_subject(
        self, outside: OutsideEvidence | None, status: Status = Status.ANSWERED
    ) -> bool:
        """Is the question too likely outside the subject (by the out-of-scope model, when
        fitted) to be answered, or asked back (``status`` CLARIFY: ``Thresholds.turns_away``)?"""
        if outside is None or self.out_of_scope is None:
            return False
        return self.thresholds.turns_away(status, self.out_of_scope.probability(outside))

    # --------------------------------------------------------------------------------------

    def query(self, question: str) -> Query:
        """The question read once (its first ``MAX_QUERY_CHARS`` characters)."""
        return read_query(self.index, question[:MAX_QUERY_CHARS])

    def asking_query(self, query: Query) -> Query:
        """The question's asking part (``Query.asking``) read as a query; ``query`` itself when
        that is the whole question or has no terms."""
        return query.asking.query or query

    def signals(self, query: Query) -> dict[str, FloatArray]:
        """Every signal with a weight, for every item."""
        return {
            name: signal(self.index, query)
            for name, signal in SIGNALS.items()
            if self.weights.of(name)
        }

    def scores(self, question: str) -> FloatArray:
        """The ranking score in [0, 1] of every item (safety not checked)."""
        query = self.query(question)
        if not query.terms:
            return np.zeros(len(self.kb.items))
        return score(self.signals(query), self.weights)

    def ranked(self, question: str, limit: int = 10) -> list[tuple[Item, float]]:
        """The best items with their ranking scores, best first (safety not checked)."""
        scores = self.scores(question)
        order = sorted(np.flatnonzero(scores > 0), key=lambda i: (-scores[i], i))[:limit]
        return [(self.kb.items[i], round(float(scores[i]), 4)) for i in order]

    def on_topic(self, query: Query) -> bool:
        """Does the question name a subject term (also inside a compound: "peeruddannelsen")?"""
        subject = self.index.vocabulary.subject
        return not subject or any(s in term for term in query.terms for s in subject)

    def other_groups(self, terms: Iterable[str]) -> frozenset[str]:
        """The other staff groups (other_groups.yaml) the terms name, also as the last part
        of a compound ("psykiatrisygeplejersken")."""
        groups = self.index.vocabulary.other_groups
        return frozenset(g for term in terms for g in groups if term.endswith(g))

    def about_other_group(self, query: Query, evidence: Evidence) -> bool:
        """Out of scope outright: the question asks about another staff group (a nurse's hours,
        a doctor's supervision) and nothing in it is about the subject (``in_scope``)."""
        return not evidence.on_topic and bool(self.other_groups(query.terms))

    def in_scope(self, query: Query, phrasing: float, best: int) -> bool:
        """Is the question about this knowledge base's subject? It is when it names a subject
        word. Without one, it is when it is close to one of the best item's own phrasings
        (``phrasing``: the closest one's overlap); a question naming another staff group ("Hvor
        mange timer arbejder en sygeplejerske?") only when the close phrasing names the same
        group: the other group is what it asks about, and wording near an item's ("Hvem er
        kontaktperson for en ny ...?") must not carry it into scope."""
        if self.on_topic(query):
            return True
        if phrasing < OWN_PHRASING:
            return False
        named = self.other_groups(query.terms)
        if not named:
            return True
        bounds = self.index.phrasings.item_bounds
        first, end = int(bounds[best]), int(bounds[best + 1])
        overlaps = phrasing_overlaps(self.index, query)
        return any(
            overlaps[p] >= OWN_PHRASING and named <= self.phrasing_groups.get(p, frozenset())
            for p in range(first, end)
        )

    def evidence(
        self,
        query: Query,
        signals: dict[str, FloatArray],
        ranked: list[tuple[int, float]],
        closest: float,
    ) -> Evidence | None:
        """What the decision reads about the best-ranked item (None when nothing ranks);
        ``closest``: the best out-of-scope example's overlap (``signals.negative``)."""
        if not ranked:
            return None
        best, best_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        phrasing = float(signals["phrasing"][best]) if "phrasing" in signals else 0.0
        return Evidence(
            score=best_score,
            margin=best_score - runner_up,
            negative=max(0.0, closest - phrasing),
            on_topic=float(self.in_scope(query, phrasing, best)),
            phrasing_lead=lead(signals.get("phrasing"), best),
            bayes_lead=lead(signals.get("bayes"), best),
            surface_lead=lead(signals.get("surface"), best),
            agreement=agreement(signals, best),
            coverage=coverage(self.index, query, best),
        )

    def outside(
        self,
        query: Query,
        asking: Query,
        signals: dict[str, FloatArray],
        ranked: list[tuple[int, float]],
        evidence: Evidence,
        closest: float,
    ) -> OutsideEvidence:
        """What the out-of-scope decision reads about the question (``ranked`` not empty);
        ``asking``: its asking part (``asking_query``), ``closest`` as in ``evidence``."""
        best = ranked[0][0]
        phrasing = float(signals["phrasing"][best]) if "phrasing" in signals else 0.0
        return OutsideEvidence(
            off_topic=1.0 - evidence.on_topic,
            negative_gap=closest - phrasing,
            unknown=unknown(self.index, query),
            coverage=evidence.coverage if asking is query else coverage(self.index, asking, best),
            word_odds=word_odds(self.index, self.term_odds, query),
            margin=evidence.margin,
        )

    def _distinct(self, scores: FloatArray) -> list[tuple[int, float]]:
        """The best-ranked items with genuinely different answers (an item whose answer is the
        same as a better one's is left out), best first."""
        count = min(CANDIDATES, len(scores))
        if count == 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        order = sorted((int(i) for i in top if scores[i] > 0), key=lambda i: (-scores[i], i))
        kept: list[int] = []
        for item in order:
            if not any(self.same_answer(item, other) for other in kept):
                kept.append(item)
        return [(item, float(scores[item])) for item in kept]

    def same_answer(self, first: int, second: int) -> bool:
        """Do two items give the same answer (IDF-weighted Dice of their answers' terms)?"""
        answers = self.index.answer_terms
        shared = list(answers[first] & answers[second])
        total = float(self.index.answer_mass[first] + self.index.answer_mass[second])
        return total > 0 and 2 * float(self.index.idf[shared].sum()) / total >= SAME_ANSWER


def groups_of_phrasings(index: Index) -> dict[int, frozenset[str]]:
    """The other staff groups each indexed phrasing names (by its place in the index's order),
    for the few phrasings that name one: the terms are looked at once, not per phrasing."""
    groups = index.vocabulary.other_groups
    endings = tuple(groups)
    naming = {
        t: frozenset(g for g in groups if term.endswith(g))
        for t, term in enumerate(index.vocabulary.terms)
        if endings and term.endswith(endings)
    }
    return {
        p: frozenset().union(*(naming[t] for t in phrasing if t in naming))
        for p, phrasing in enumerate(index.vocabulary.phrasings)
        if any(t in naming for t in phrasing)
    }


def lead(values: FloatArray | None, item: int) -> float:
    """How far ``item`` leads every other item in one signal (negative when it trails the
    best); 0 for a signal without weight."""
    if values is None or len(values) < 2:
        return 0.0
    before, after = values[:item], values[item + 1 :]
    others = max(before.max(initial=-np.inf), after.max(initial=-np.inf))
    return float(values[item] - others)


def agreement(signals: dict[str, FloatArray], item: int) -> float:
    """The share of the signals whose best item is ``item``."""
    if not signals:
        return 0.0
    return sum(int(np.argmax(values)) == item for values in signals.values()) / len(signals)


def with_small_talk(question: str, talk: SmallTalk, decide: Callable[[str], Result]) -> Result:
    """Small talk's own result; a question in another language keeps the engine's best items,
    but as suggestions only (its words are not understood well enough to answer it outright),
    and always the short safety note: the crisis check reads Danish and a little English, so a
    message it cannot read must still show where help is."""
    if not talk.foreign:
        return Result(question, Status.SMALLTALK, None, 1.0, (), small_talk=talk)
    result = replace(decide(question), small_talk=talk, safety_note=True)
    if result.status is Status.ANSWERED and result.item is not None:
        suggestion = Suggestion(result.item, result.score)
        return replace(result, status=Status.CLARIFY, suggestions=(suggestion,))
    return result
