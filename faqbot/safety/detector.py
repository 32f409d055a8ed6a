"""Judging one message: acute, a safety note, or nothing (the design is in ``faqbot.safety``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from faqbot.kb import SafetyExample, SafetyRules
from faqbot.safety.lexicon import Group, Hit, Lexicon, Sentence, iter_sentences, sentences
from faqbot.safety.model import Bag, Classifier, Text

ACUTE_WITH_CALM = 0.8
"""A danger phrase in a sentence that reads as a question about practice, rules, training or
research, or as the past, is still acute when the classifier gives the sentence this much (or
the sentence says it is happening now)."""
ACUTE_FROM_TOPIC = 0.5
"""A sentence that only names the subject (no danger phrase, no calm cue) is acute from this."""
NOTE_FROM_TOPIC = 0.3
"""Below that, it gets the safety note from this (or when it has a calm cue)."""
ACUTE_ALONE = 0.6
"""A sentence the lexicon finds nothing in is acute from this probability..."""
NOTE_ALONE = 0.5
"""...and gets the safety note from this one."""
CALM_MESSAGE = 0.3
"""...and is not acute when the whole message is below this (see ``SafetyDetector._sentences``)."""
SITUATION_ORDER = ("violence", "self_harm", "medical", "suicide")
"""When danger phrases of several situations tie, the first of these picks the safety text."""


class SafetyLevel(StrEnum):
    """How a message touches on danger, and so what the bot does with it."""

    ACUTE = "acute"
    """Danger now: the safety response alone, never a FAQ answer."""
    NOTE = "note"
    """Touches on danger but reads as a question: the normal reply with a short safety note."""
    NONE = "none"
    """Nothing of the kind: the normal reply."""


_RANK = {SafetyLevel.NONE: 0, SafetyLevel.NOTE: 1, SafetyLevel.ACUTE: 2}


@dataclass(frozen=True)
class SentenceJudgement:
    """Why one sentence got its level: the lexicon's findings and the classifier's probability."""

    words: tuple[str, ...]
    level: SafetyLevel
    hits: tuple[Hit, ...]
    probability: float | None


@dataclass(frozen=True)
class Judgement:
    """A message's level, the situation its safety text should fit, and every sentence's why."""

    level: SafetyLevel
    situation: str | None
    sentences: tuple[SentenceJudgement, ...] = ()


def marks(sentence: Sentence) -> tuple[str, ...]:
    """The classifier's ``g:`` features: how the sentence ends."""
    found = ("question",) if sentence.question else ()
    return (*found, "exclaims") if sentence.exclaims else found


def decide(groups: set[Group], probability: float | None) -> SafetyLevel:
    """One sentence's level from the lexicon groups found in it and the classifier's
    probability (None without examples to learn from: the lexicon alone decides, a topic
    getting the note)."""
    calm = Group.POLICY in groups or Group.PAST in groups
    sure = probability if probability is not None else 0.0
    if Group.DANGER in groups:
        if not calm or Group.URGENT in groups or sure >= ACUTE_WITH_CALM:
            return SafetyLevel.ACUTE
        return SafetyLevel.NOTE
    if Group.TOPIC in groups:
        if not calm and sure >= ACUTE_FROM_TOPIC:
            return SafetyLevel.ACUTE
        if calm or probability is None or probability >= NOTE_FROM_TOPIC:
            return SafetyLevel.NOTE
        return SafetyLevel.NONE
    if sure >= ACUTE_ALONE:
        return SafetyLevel.ACUTE
    return SafetyLevel.NOTE if sure >= NOTE_ALONE else SafetyLevel.NONE


class SafetyDetector:
    """Decides whether a message is about acute danger, touches on it, or neither."""

    def __init__(self, rules: SafetyRules) -> None:
        self.rules = rules
        self.response = rules.response
        self.lexicon, self.classifier = _build(rules)

    def judge(self, message: str) -> Judgement:
        """The message's level and situation, with each sentence's reasons. Never raises."""
        judged = tuple(
            SentenceJudgement(sentence.words, level, tuple(hits), probability)
            for sentence, hits, probability, level in self._sentences(message)
        )
        level = max((s.level for s in judged), key=_RANK.__getitem__, default=SafetyLevel.NONE)
        situation = None
        if level is SafetyLevel.ACUTE:
            situation = _situation(s for s in judged if s.level is SafetyLevel.ACUTE)
        return Judgement(level, situation, judged)

    def assess(self, message: str) -> SafetyLevel:
        """The message's safety level: ``judge``'s, by the shorter way (this runs before every
        answer): the lexicon only tells the groups a sentence's level needs, and the first
        sentence the lexicon makes acute ends the search."""
        level = SafetyLevel.NONE
        parts = []
        alone = False
        for sentence in iter_sentences(message):
            parts.append(sentence)
            groups = self.lexicon.groups(sentence)
            found = decide(groups, self._probability(sentence))
            if found is SafetyLevel.ACUTE:
                if groups & _SUBJECT:
                    return found
                alone = True
            elif found is SafetyLevel.NOTE:
                level = found
        if alone:
            return SafetyLevel.NOTE if len(parts) > 1 and self._calm(parts) else SafetyLevel.ACUTE
        return level

    def _sentences(
        self, message: str
    ) -> list[tuple[Sentence, list[Hit], float | None, SafetyLevel]]:
        """Each sentence with its hits, probability and level. A sentence the lexicon finds
        nothing in is acute by the classifier alone only when the whole message does not read
        calm to it (below ``CALM_MESSAGE``): a statement that gives context before an ordinary
        question ("Han har lige fået nøglekort. Hvad mangler han ellers?") gets the note."""
        parts = sentences(message)
        result = []
        alone = False
        for sentence in parts:
            hits = self.lexicon.hits(sentence)
            probability = self._probability(sentence)
            level = decide({hit.phrase.group for hit in hits}, probability)
            result.append((sentence, hits, probability, level))
            alone = alone or (level is SafetyLevel.ACUTE and not _subject(hits))
        if alone and len(parts) > 1 and self._calm(parts):
            result = [
                (sentence, hits, probability, SafetyLevel.NOTE)
                if level is SafetyLevel.ACUTE and not _subject(hits)
                else (sentence, hits, probability, level)
                for sentence, hits, probability, level in result
            ]
        return result

    def _calm(self, parts: Sequence[Sentence]) -> bool:
        """Does the message, read as one text, look calm to the classifier?"""
        words = tuple(word for sentence in parts for word in sentence.words)
        question = ("question",) if any(sentence.question for sentence in parts) else ()
        return self.classifier.probability(words, question) < CALM_MESSAGE

    def _probability(self, sentence: Sentence) -> float | None:
        if not self.classifier.trained:
            return None
        return self.classifier.probability(sentence.words, marks(sentence))

    def situation(self, message: str) -> str | None:
        """The situation whose safety text fits an acute message (None: the general text)."""
        return self.judge(message).situation

    def is_crisis(self, message: str) -> bool:
        """True when the message must get the safety response alone."""
        return self.assess(message) is SafetyLevel.ACUTE


_SUBJECT = frozenset({Group.DANGER, Group.TOPIC})


def _subject(hits: Iterable[Hit]) -> bool:
    """Did the lexicon find a danger or topic phrase?"""
    return any(hit.phrase.group in _SUBJECT for hit in hits)


def _situation(acute: Iterable[SentenceJudgement]) -> str | None:
    """The situation named in most acute sentences (by their danger phrases); a tie goes to the
    first in ``SITUATION_ORDER`` (a cut that bleeds is self-harm before it is medical)."""
    counts: Counter[str] = Counter(
        situation
        for sentence in acute
        for situation in {
            hit.phrase.situation
            for hit in sentence.hits
            if hit.phrase.group is Group.DANGER and hit.phrase.situation
        }
    )
    if not counts:
        return None
    most = max(counts.values())
    return next(name for name in SITUATION_ORDER if counts[name] == most)


def bags(examples: Sequence[SafetyExample]) -> list[Bag]:
    """The classifier's view of labelled messages: each sentence's words and marks."""
    return [
        Bag(
            tuple(Text(sentence.words, marks(sentence)) for sentence in sentences(example.text)),
            example.acute,
        )
        for example in examples
    ]


@lru_cache(maxsize=8)
def _build(rules: SafetyRules) -> tuple[Lexicon, Classifier]:
    """The lexicon and the trained classifier for these rules (built once per rules)."""
    lexicon = Lexicon(rules)
    return lexicon, Classifier(bags(rules.examples))
