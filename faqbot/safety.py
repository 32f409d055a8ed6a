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

from rapidfuzz import fuzz

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


def _word_matches(phrase_term: str, word: str) -> bool:
    if word == phrase_term:
        return True
    if len(phrase_term) >= PREFIX_MIN and word.startswith(phrase_term):
        return True
    return (
        len(phrase_term) >= FUZZY_MIN
        and abs(len(word) - len(phrase_term)) <= 2
        and fuzz.ratio(phrase_term, word) >= FUZZY_CUTOFF
    )


def _contains(message: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Do the phrase's words occur in order, with at most MAX_GAP other words between them?"""
    if not phrase:
        return False
    for start, word in enumerate(message):
        if not _word_matches(phrase[0], word):
            continue
        position, ok = start, True
        for term in phrase[1:]:
            window = message[position + 1 : position + 2 + MAX_GAP]
            step = next((i for i, w in enumerate(window) if _word_matches(term, w)), None)
            if step is None:
                ok = False
                break
            position += step + 1
        if ok:
            return True
    return False


class SafetyDetector:
    """Decides whether a message speaks of suicide, self-harm or acute danger to someone."""

    def __init__(self, rules: SafetyRules) -> None:
        self.rules = rules
        self.response = rules.response
        self._phrases = self._compile(rules.phrases)
        self._policy = self._compile(rules.policy_phrases)
        self._urgent = self._compile(rules.urgent_phrases)

    @staticmethod
    def _compile(phrases: Iterable[str]) -> tuple[_Phrase, ...]:
        return tuple(_Phrase(text, _terms(text)) for text in phrases if _terms(text))

    def crisis_phrase(self, message: str) -> str | None:
        """The crisis phrase the message contains (after the policy rule), or None."""
        terms = _terms(message)
        if not terms:
            return None
        hit = next((p.text for p in self._phrases if _contains(terms, p.terms)), None)
        if hit is None:
            return None
        if any(_contains(terms, p.terms) for p in self._policy) and not any(
            _contains(terms, p.terms) for p in self._urgent
        ):
            return None
        return hit

    def is_crisis(self, message: str) -> bool:
        """True when the message must get the fixed safety response."""
        return self.crisis_phrase(message) is not None
