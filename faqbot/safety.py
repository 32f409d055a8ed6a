"""Crisis detection: checked before any matching, and never replaced by a FAQ answer.

The phrases live in ``knowledge/safety.yaml`` so maintainers can extend them. The rule:

* a message is a crisis when it contains one of ``phrases`` (suicide, self-harm, acute danger),
* unless it also contains one of ``policy_phrases`` (it asks about a rule that merely names the
  subject: the duty to report when a patient is a danger to themselves, "hvad gør vi hvis ..."),
* but an ``urgent_phrases`` hit (first person, happening now) makes it a crisis again.

Phrases are compared word by word on folded, stemmed words (stop words kept: "mit liv" matters),
in order, with up to two other words between them. A phrase word also matches a longer word that
starts with it ("selvmord" in "selvmordstanker") and, from six letters, a near spelling
("selvmort").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

from faqbot.kb import SafetyRules
from faqbot.text import stem, words

MAX_GAP = 2
"""Other words allowed between two words of a phrase."""
PREFIX_MIN = 5
"""A phrase word this long also matches words that start with it."""
FUZZY_MIN = 6
"""A phrase word this long also matches a near spelling."""
FUZZY_CUTOFF = 85.0


def _terms(text: str) -> tuple[str, ...]:
    return tuple(stem(word) for word in words(text))


@dataclass(frozen=True)
class _Phrase:
    text: str
    terms: tuple[str, ...]


class _Phrases:
    """A list of phrases, indexed by first term: a message is only compared with the phrases
    whose first word it contains."""

    def __init__(self, texts: Iterable[str]) -> None:
        compiled = (_Phrase(text, _terms(text)) for text in texts)
        self.phrases = tuple(phrase for phrase in compiled if phrase.terms)
        self._by_first: dict[str, list[int]] = {}
        for index, phrase in enumerate(self.phrases):
            self._by_first.setdefault(phrase.terms[0], []).append(index)

    def first_in(self, hits: dict[str, set[int]]) -> _Phrase | None:
        """The first phrase (in file order) that the message contains."""
        candidates = sorted(index for term in hits for index in self._by_first.get(term, ()))
        return next(
            (self.phrases[i] for i in candidates if _contains(hits, self.phrases[i].terms)), None
        )


class SafetyLevel(StrEnum):
    """How a message touches on danger, and so what the bot does with it."""

    ACUTE = "acute"
    """Danger now: the safety response alone, never a FAQ answer."""
    NOTE = "note"
    """Touches on danger but reads as a question: the normal reply with a short safety note."""
    NONE = "none"
    """Nothing of the kind: the normal reply."""


class SafetyDetector:
    """Decides whether a message speaks of suicide, self-harm or acute danger to someone."""

    def __init__(self, rules: SafetyRules) -> None:
        self.rules = rules
        self.response = rules.response
        self._phrases = _Phrases(rules.phrases)
        self._policy = _Phrases(rules.policy_phrases)
        self._urgent = _Phrases(rules.urgent_phrases)
        vocabulary = {
            term
            for phrases in (self._phrases, self._policy, self._urgent)
            for phrase in phrases.phrases
            for term in phrase.terms
        }
        self._exact = frozenset(vocabulary)
        self._prefixes = frozenset(t for t in vocabulary if len(t) >= PREFIX_MIN)
        self._fuzzy = sorted(t for t in vocabulary if len(t) >= FUZZY_MIN)

    def _hits(self, message: tuple[str, ...]) -> dict[str, set[int]]:
        """phrase word -> positions of the message words it matches (each distinct word once)."""
        positions: dict[str, list[int]] = {}
        for position, word in enumerate(message):
            positions.setdefault(word, []).append(position)
        matched: dict[str, set[str]] = {word: set() for word in positions}
        for word, found in matched.items():
            if word in self._exact:
                found.add(word)
            for length in range(PREFIX_MIN, len(word)):
                if word[:length] in self._prefixes:
                    found.add(word[:length])
        candidates = [word for word in positions if len(word) >= FUZZY_MIN - 2]
        if candidates and self._fuzzy:
            scores = process.cdist(
                candidates, self._fuzzy, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
            )
            for row, column in zip(*scores.nonzero(), strict=True):
                word, term = candidates[row], self._fuzzy[column]
                if abs(len(word) - len(term)) <= 2:
                    matched[word].add(term)
        hits: dict[str, set[int]] = {}
        for word, terms in matched.items():
            for term in terms:
                hits.setdefault(term, set()).update(positions[word])
        return hits

    def crisis_phrase(self, message: str) -> str | None:
        """The crisis phrase the message contains (after the policy rule), or None."""
        terms = _terms(message)
        if not terms:
            return None
        hits = self._hits(terms)
        hit = self._phrases.first_in(hits)
        if hit is None:
            return None
        if self._policy.first_in(hits) and not self._urgent.first_in(hits):
            return None
        return hit.text

    def assess(self, message: str) -> SafetyLevel:
        """The message's safety level."""
        return SafetyLevel.ACUTE if self.crisis_phrase(message) is not None else SafetyLevel.NONE

    def is_crisis(self, message: str) -> bool:
        """True when the message must get the fixed safety response."""
        return self.assess(message) is SafetyLevel.ACUTE


def _contains(hits: dict[str, set[int]], phrase: tuple[str, ...]) -> bool:
    """Do the phrase's words occur in order, with at most MAX_GAP other words between them?"""
    if not phrase or any(term not in hits for term in phrase):
        return False
    for start in sorted(hits[phrase[0]]):
        position = start
        for term in phrase[1:]:
            candidates = hits[term]
            step = next(
                (p for p in range(position + 1, position + 2 + MAX_GAP) if p in candidates), None
            )
            if step is None:
                break
            position = step
        else:
            return True
    return False
