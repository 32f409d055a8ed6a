"""The one normaliser: the same function turns indexed phrasings and typed questions into terms.

Colleagues type fast, without æøå and with compounds split or hyphenated, so everything is folded
to one spelling before it is compared: NFC, casefold, punctuation/emoji/control characters
removed, æ/ae/a, ø/oe/o and å/aa/a treated alike, Danish stop words dropped, Danish Snowball stems,
synonym groups mapped onto their first member, and split compounds joined when the joined form is
a known term ("peer medarbejder" -> "peermedarbejder").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence

import Stemmer

# Snowball's Danish stop-word list, minus "ikke" (it separates "what does a peer do" from "what
# must a peer not do"), plus chat filler that carries no topic.
_STOP_TEXT = """
og i jeg det at en den til er som på de med han af for der var mig sig men et har om vi min
havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil
blev kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit også under
have dig anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive mange ad
bliver hendes været thi jer sådan
hej hejsa hallo tak lige bare altså egentlig mon nok så fx ift osv ok okay kan må får få
gør gøre jo nogen noget vores jeres hvordan hvilke hvilken hvilket sådan både helt lidt godt eks
"""

_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
"""A word: letters and digits, possibly joined by hyphens or apostrophes (then joined up)."""

_FOLDS = (("æ", "a"), ("ø", "o"), ("å", "a"), ("ae", "a"), ("oe", "o"), ("aa", "a"), ("é", "e"))


def fold(text: str) -> str:
    """Fold casefolded text so æ/ae/a, ø/oe/o and å/aa/a are the same letters."""
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return text


STOP_WORDS: frozenset[str] = frozenset(fold(word) for word in _STOP_TEXT.split())

_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """PyStemmer objects are not thread-safe, so each thread gets its own."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("danish")
    return stemmer


_STEMS: dict[str, str] = {}
_STEMS_MAX = 100_000


def stem(word: str) -> str:
    """The Danish Snowball stem of one folded word (cached: the same words come back often)."""
    cached = _STEMS.get(word)
    if cached is None:
        cached = _stemmer().stemWord(word)
        if len(_STEMS) < _STEMS_MAX:
            _STEMS[word] = cached
    return cached


def clean(text: str) -> str:
    """NFC and casefold; every character that is not part of a word becomes a space."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_TOKEN.findall(text))


def words(text: str) -> list[str]:
    """Folded words, hyphenated compounds joined (stop words kept; safety needs them)."""
    joined = clean(text).replace("-", "").replace("'", "").replace("’", "")
    return fold(joined).split()


_CACHE_MAX = 50_000


class Normalizer:
    """Turns text into terms; one instance serves both the index and the queries.

    ``synonyms`` are groups of words or phrases, the first member canonical. ``compounds`` is
    the set of stems that a pair of adjacent words is joined into when their concatenation is
    one of them.
    """

    def __init__(
        self, synonyms: Iterable[Sequence[str]] = (), compounds: Iterable[str] = ()
    ) -> None:
        self._phrases: dict[tuple[str, ...], str] = {}
        self._starts: set[str] = set()
        self._longest = 1
        for group in synonyms:
            forms = [self._raw_terms(member) for member in group]
            forms = [form for form in forms if form]
            if not forms:
                continue
            canonical = "".join(forms[0])
            for form in forms:
                self._phrases[tuple(form)] = canonical
                self._starts.add(form[0])
                self._longest = max(self._longest, len(form))
        self._words: dict[str, list[str]] = {}
        self._set_compounds(frozenset(compounds))

    def _set_compounds(self, compounds: frozenset[str]) -> None:
        self.compounds = compounds
        self._sorted_compounds = sorted(compounds)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._starts_compound: dict[str, bool] = {}

    def _raw_terms(self, text: str) -> list[str]:
        """Stems of the non-stop words, without synonyms or compound joining."""
        return [stem(word) for word in words(text) if word not in STOP_WORDS]

    def with_compounds(self, compounds: Iterable[str]) -> Normalizer:
        """A copy that also joins split compounds into these stems (sharing the word cache)."""
        copy = Normalizer.__new__(Normalizer)
        copy._phrases, copy._starts, copy._longest = self._phrases, self._starts, self._longest
        copy._words = self._words
        copy._set_compounds(self.compounds | frozenset(compounds))
        return copy

    def forget(self) -> None:
        """Drop the caches (after indexing, so the index's texts do not stay in memory)."""
        self._words.clear()
        self._cache.clear()
        self._starts_compound.clear()

    def words(self, text: str) -> list[str]:
        """``words(text)``, cached while the caches are kept: indexing reads each text's words
        for its terms and for its character n-grams."""
        cached = self._words.get(text)
        if cached is None:
            cached = words(text)
            if len(self._words) < _CACHE_MAX:
                self._words[text] = cached
        return cached

    def _folded(self, text: str) -> list[str]:
        return [word for word in self.words(text) if word not in STOP_WORDS]

    def vocabulary(self, texts: Iterable[str]) -> set[str]:
        """Every term these texts can yield, without compound joining: the compound set.

        Stems each distinct word once, so indexing a large knowledge base stays fast.
        """
        distinct: set[str] = set()
        for text in texts:
            distinct.update(self._folded(text))
        return {stem(word) for word in distinct} | set(self._phrases.values())

    def _may_start_compound(self, word: str) -> bool:
        """Is some compound stem longer than ``word`` and starting with it? (a cheap filter)"""
        known = self._starts_compound.get(word)
        if known is None:
            known = self._search_compound_start(word)
            if len(self._starts_compound) < _CACHE_MAX:
                self._starts_compound[word] = known
        return known

    def _search_compound_start(self, word: str) -> bool:
        position = bisect_left(self._sorted_compounds, word)
        if position >= len(self._sorted_compounds):
            return False
        found = self._sorted_compounds[position]
        if found == word:
            if position + 1 >= len(self._sorted_compounds):
                return False
            found = self._sorted_compounds[position + 1]
        return found.startswith(word)

    def terms(self, text: str) -> tuple[str, ...]:
        """The terms of ``text``, in order (duplicates kept)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        folded = self._folded(text)
        known = _STEMS.get
        stems = [known(word) or stem(word) for word in folded]
        joined: list[str] = []
        index = 0
        if self.compounds and len(folded) > 1:
            may_start = self._may_start_compound
            for position in [i for i in range(len(folded) - 1) if may_start(folded[i])]:
                if position < index:
                    continue
                word = folded[position]
                pair = _stemmer().stemWord(word + folded[position + 1])  # rarely seen twice
                # The joined stem must reach into the second word: "syg igen" stems to "syg".
                if len(pair) > len(word) and pair in self.compounds:
                    joined.extend(stems[index:position])
                    joined.append(pair)
                    index = position + 2
        joined.extend(stems[index:])
        result = tuple(self._apply_synonyms(joined))
        if len(self._cache) < _CACHE_MAX:
            self._cache[text] = result
        return result

    def _apply_synonyms(self, terms: list[str]) -> list[str]:
        """Replace the longest synonym phrase at each position by its canonical term."""
        starts = self._starts
        if not self._phrases or starts.isdisjoint(terms):
            return terms
        result: list[str] = []
        index, count = 0, len(terms)
        for position in [i for i, term in enumerate(terms) if term in starts]:
            if position < index:
                continue
            for size in range(min(self._longest, count - position), 0, -1):
                canonical = self._phrases.get(tuple(terms[position : position + size]))
                if canonical is not None:
                    result.extend(terms[index:position])
                    result.append(canonical)
                    index = position + size
                    break
        result.extend(terms[index:])
        return result


def normalize(text: str, synonyms: Iterable[Sequence[str]] = ()) -> str:
    """The normalised form of ``text`` as one space-separated string (for tests and tools)."""
    return " ".join(Normalizer(synonyms).terms(text))
