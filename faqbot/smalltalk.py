"""Small talk and other languages: messages that are not questions about peer colleagues.

"hej", "tak", "hvem er du", "virker du?" get a short friendly reply instead of an answer, a list
of suggestions or "no match"; a question in English (or another language) gets a one-line note
that the bot answers in Danish, from Danish guides, above its suggestions. The phrases, replies
and word lists live in ``knowledge/smalltalk.yaml``.

The rule is strict on purpose: a message is small talk only when *every* word in it belongs to one
of the phrases or to the filler words ("lige", "bare", "bot"), so "tak for svaret, men hvad med
løn?" stays a question. Words are compared as ``faqbot.text.words`` folds them (case, æøå,
punctuation and emoji ignored); a word of six letters or more also matches a near spelling of a
phrase word ("godmorgn"). A message of only emoji counts when a kind lists them (👋, 👍). The
matcher asks only after its safety check: a message about danger is never small talk.

A message is in another language when it holds none of the Danish marker words and either most of
its letters are outside the Latin alphabet, or it has a letter Danish never uses ("ä", "ł"), or
at least two of its words are function words of another language ("what", "the", "ist").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from faqbot.kb import SmallTalkRules
from faqbot.text import words

FOREIGN = "foreign"
"""The kind of a question in another language (its reply is the note)."""
MAX_WORDS = 16
"""Longer messages are never small talk."""
NEAR_MIN = 6
"""A word this long also matches a near spelling of a phrase word..."""
NEAR_CUTOFF = 88.0
"""...this close (rapidfuzz ratio, 0-100) and with the same first letter."""
FOREIGN_WORDS_MIN = 2
"""This many function words of another language (and no Danish one) mark a message."""
_EMOJI_EXTRAS = frozenset("\ufe0f\u200d\u20e3") | {chr(c) for c in range(0x1F3FB, 0x1F400)}
"""Variation selectors, joiners and skin tones: parts of an emoji, not emoji of their own."""


@dataclass(frozen=True)
class SmallTalk:
    """What a message is when it is not an ordinary question: its kind and the bot's words."""

    kind: str
    """A kind from smalltalk.yaml ("greeting", "thanks", ...) or ``FOREIGN``."""
    reply: str
    """The reply to small talk; for ``FOREIGN`` the note shown above the suggestions."""

    @property
    def foreign(self) -> bool:
        """A question in another language: still matched, shown with the note."""
        return self.kind == FOREIGN


class SmallTalkDetector:
    """Tells small talk and other languages apart from questions, by the rules of one file."""

    def __init__(self, rules: SmallTalkRules | None) -> None:
        self.rules = rules or SmallTalkRules(())
        self._replies = {kind.kind: kind.reply for kind in self.rules.kinds}
        self._phrases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for rank, kind in enumerate(self.rules.kinds):
            for phrase in kind.phrases:
                folded = tuple(words(phrase))
                if folded:
                    self._phrases.setdefault(folded[0], []).append((folded, rank))
        for entries in self._phrases.values():
            entries.sort(key=lambda entry: -len(entry[0]))  # the longest phrase first
        self._filler = frozenset(word for text in self.rules.filler for word in words(text))
        vocabulary = {word for kind in self.rules.kinds for p in kind.phrases for word in words(p)}
        self._known = frozenset(vocabulary | self._filler)
        self._by_letter: dict[str, list[str]] = {}
        for word in sorted(vocabulary - self._filler):
            self._by_letter.setdefault(word[0], []).append(word)
        self._emoji = {
            character: rank
            for rank, kind in reversed(list(enumerate(self.rules.kinds)))
            for text in kind.emoji
            for character in text
            if character not in _EMOJI_EXTRAS
        }
        foreign = self.rules.foreign
        self._danish = frozenset(
            w for t in (foreign.danish_words if foreign else ()) for w in words(t)
        )
        self._foreign = frozenset(
            w for t in (foreign.foreign_words if foreign else ()) for w in words(t)
        )
        self._letters = frozenset(foreign.foreign_letters.lower() if foreign else "")

    def detect(self, message: str) -> SmallTalk | None:
        """Small talk, a question in another language, or None for an ordinary question."""
        tokens = words(message)
        rank = self._kind(message, tokens)
        if rank is not None:
            kind = self.rules.kinds[rank]
            return SmallTalk(kind.kind, kind.reply)
        if self.rules.foreign is not None and self._foreign_words(message, tokens):
            return SmallTalk(FOREIGN, self.rules.foreign.note)
        return None

    def _kind(self, message: str, tokens: list[str]) -> int | None:
        """The first kind (in file order) among the phrases that make up the whole message."""
        if not tokens:
            return self._emoji_kind(message)
        if len(tokens) > MAX_WORDS:
            return None
        for index, token in enumerate(tokens):
            if token not in self._known:
                spelling = self._spelling(token)
                if spelling is None:
                    return None  # a word no phrase has: a question, however short
                tokens[index] = spelling
        found: list[int] = []
        position = 0
        while position < len(tokens):
            match = self._phrase_at(tokens, position)
            if match is not None:
                length, rank = match
                found.append(rank)
                position += length
            elif tokens[position] in self._filler:
                position += 1
            else:
                return None
        return min(found) if found else None

    def _phrase_at(self, tokens: list[str], position: int) -> tuple[int, int] | None:
        for phrase, rank in self._phrases.get(tokens[position], ()):
            if tuple(tokens[position : position + len(phrase)]) == phrase:
                return len(phrase), rank
        return None

    def _spelling(self, token: str) -> str | None:
        """The phrase word an unknown token is a near spelling of ("godmorgn" -> "godmorgen")."""
        if len(token) < NEAR_MIN:
            return None
        candidates = self._by_letter.get(token[0], ())
        best = process.extractOne(token, candidates, scorer=fuzz.ratio, score_cutoff=NEAR_CUTOFF)
        return str(best[0]) if best else None

    def _emoji_kind(self, message: str) -> int | None:
        """A message of emoji only (and punctuation): the kind of its first emoji, if listed."""
        characters = [c for c in message if not c.isspace() and c not in _EMOJI_EXTRAS]
        symbols = [c for c in characters if not unicodedata.category(c).startswith("P")]
        if not symbols or any(c not in self._emoji for c in symbols):
            return None
        return self._emoji[symbols[0]]

    def is_foreign(self, message: str) -> bool:
        """Whether the message is written in another language than Danish (see the module)."""
        return self._foreign_words(message, words(message))

    def _foreign_words(self, message: str, tokens: list[str]) -> bool:
        if any(token in self._danish for token in tokens):
            return False
        letters = [c for c in message if c.isalpha()]
        outside = sum(1 for c in letters if c > "\u024f" and not _latin(c))
        if len(letters) >= 3 and 2 * outside > len(letters):
            return True
        if self._letters and any(c in self._letters for c in message.lower()):
            return True
        return sum(1 for token in tokens if token in self._foreign) >= FOREIGN_WORDS_MIN


def _latin(character: str) -> bool:
    """Whether a letter belongs to the Latin script (its Unicode name says so)."""
    return unicodedata.name(character, "").startswith("LATIN")
