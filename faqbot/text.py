"""The one normaliser: the same function turns indexed phrasings and typed questions into terms.

Colleagues type fast, without æøå and with compounds split or hyphenated, so everything is folded
to one spelling before it is compared: NFC, casefold, punctuation/emoji/control characters
removed, æ/ae/a, ø/oe/o and å/aa/a treated alike, Danish stop words dropped, Danish Snowball stems,
synonym groups mapped onto their first member, and split compounds joined when the joined form is
a known term ("peer medarbejder" -> "peermedarbejder").

One code path serves a single question and a whole knowledge base: ``tokenise`` reads any number
of texts as one string (a separator between them that no word or term crosses), and the
normaliser analyses the resulting word list in one pass, each distinct word looked at once.
Indexing thousands of texts so costs a few string operations and one list pass, not a few
function calls per text; ``terms`` is the same pass over one text.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import NamedTuple

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
_CACHE_MAX = 50_000


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


SEPARATOR = "\x00"
"""Put between texts read together: neither a word character nor white space, so no word or
term spans two texts."""
_JOINER = "-"
"""Hyphens and apostrophes between two word characters join them ("peer-støtte", "peer's")."""
_ASCII_TABLE = bytes(
    byte if chr(byte).isalnum() or byte == 0 else ord(_JOINER) if chr(byte) in "-'" else ord(" ")
    for byte in range(128)
) + bytes(range(128, 256))
"""Per byte: ASCII letters, digits and the separator kept, hyphen and apostrophe made the
joiner, every other ASCII character a space; the bytes of non-ASCII characters untouched."""
_ASCII_BYTES = bytes(range(128))
_UTF8 = "utf-8"  # with "surrogatepass": a lone surrogate is a character like any other
_WORD_CHARACTER = re.compile(r"[^\W_]")
_NON_ASCII: dict[str, str] = {"’": _JOINER}
"""Non-ASCII character -> itself when it is a word character, else a space (or the joiner)."""


def _non_ascii(character: str) -> str:
    known = _NON_ASCII.get(character)
    if known is None:
        known = character if _WORD_CHARACTER.match(character) else " "
        if len(_NON_ASCII) < _CACHE_MAX:
            _NON_ASCII[character] = known
    return known


_NOT_WORD = " " + SEPARATOR
"""After the byte table and the non-ASCII pass, every other character is a word character."""


def _join_words(text: str) -> str:
    """Drop a joiner between two word characters; any other joiner separates words."""
    parts = text.split(_JOINER)
    joined = [parts[0]]
    for part in parts[1:]:
        before = joined[-1]
        if not (before and part and before[-1] not in _NOT_WORD and part[0] not in _NOT_WORD):
            joined.append(" ")
        joined.append(part)
    return "".join(joined)


class Words:
    """The words of several texts read at once (``tokenise``), held as one folded string: a
    string takes a byte or two a character, a list of word objects some 60 bytes a word."""

    def __init__(self, text: str) -> None:
        self.text = text
        """Every text's words, one text after another, ``SEPARATOR`` between two texts."""

    def flat(self) -> list[str]:
        """All the words, with ``SEPARATOR`` between two texts' words."""
        return self.text.split()

    def texts(self) -> list[list[str]]:
        """The words of each text."""
        return _split(self.flat(), SEPARATOR)


def _split(flat: list[str], separator: str) -> list[list[str]]:
    """``flat`` cut at every ``separator`` (which it drops)."""
    parts: list[list[str]] = []
    start = 0
    for _ in range(flat.count(separator)):
        end = flat.index(separator, start)
        parts.append(flat[start:end])
        start = end + 1
    parts.append(flat[start:])
    return parts


def tokenise(texts: Sequence[str]) -> Words:
    """The words of every text (as ``words``), read at once.

    All texts are cleaned and folded as one string (the separator is neither a word character
    nor white space, so no word spans two texts): a knowledge base's thousands of texts cost a
    few string operations, not a few per text. ASCII is cleaned with one byte table; only the
    distinct non-ASCII characters are looked at one by one.
    """
    joined = f" {SEPARATOR} ".join(text.replace(SEPARATOR, " ") for text in texts)
    encoded = unicodedata.normalize("NFC", joined).casefold().encode(_UTF8, "surrogatepass")
    text = encoded.translate(_ASCII_TABLE).decode(_UTF8, "surrogatepass")
    for character in set(encoded.translate(None, _ASCII_BYTES).decode(_UTF8, "surrogatepass")):
        replacement = _non_ascii(character)
        if replacement != character:
            text = text.replace(character, replacement)
    if _JOINER in text:
        text = _join_words(text)
    return Words(fold(text))


def words(text: str) -> list[str]:
    """Folded words, hyphenated compounds joined (stop words kept; safety needs them)."""
    return tokenise((text,)).flat()


class _Word(NamedTuple):
    """What a folded word that is not a stop word contributes to a text's terms."""

    stem: str
    compound_next: str
    """The letters that follow the word in the compound stems that start with it and are
    longer ("" if there are none): a split compound's second word starts with one of them."""
    word: str


class _WordCache(dict[str, "_Word | None"]):
    """Folded word -> ``_Word`` (None for a stop word), computed on first sight: a text's
    words are then looked up at C speed (``map``) and each distinct word is analysed once."""

    def __init__(self, normalizer: Normalizer) -> None:
        super().__init__()
        self._normalizer = normalizer
        self[SEPARATOR] = _Word(SEPARATOR, "", SEPARATOR)  # joins nothing

    def __missing__(self, word: str) -> _Word | None:
        entry = self._normalizer._word(word)
        if len(self) < _CACHE_MAX:
            self[word] = entry
        return entry


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
        self._single: dict[str, str] = {}
        self._multi_first: frozenset[str] = frozenset()
        self._longest = 1
        self._set_compounds(frozenset())
        groups = [list(group) for group in synonyms]
        members = [member for group in groups for member in group]
        raw = iter(self.analyse(tokenise(members)) if members else ())
        for group in groups:
            forms = [form for form in (next(raw) for _ in group) if form]
            if not forms:
                continue
            canonical = "".join(forms[0])
            for form in forms:
                self._phrases[form] = canonical
                self._longest = max(self._longest, len(form))
        self._single = {form[0]: canon for form, canon in self._phrases.items() if len(form) == 1}
        self._multi_first = frozenset(form[0] for form in self._phrases if len(form) > 1)
        self._set_compounds(frozenset(compounds))

    def _set_compounds(self, compounds: frozenset[str]) -> None:
        self.compounds = compounds
        self._sorted_compounds = sorted(compounds)
        self._words = _WordCache(self)
        self._pairs: dict[tuple[str, str], str] = {}

    def with_compounds(self, compounds: Iterable[str]) -> Normalizer:
        """A copy that also joins split compounds into these stems."""
        copy = Normalizer.__new__(Normalizer)
        copy._phrases, copy._longest = self._phrases, self._longest
        copy._single, copy._multi_first = self._single, self._multi_first
        copy._set_compounds(self.compounds | frozenset(compounds))
        return copy

    def forget(self) -> None:
        """Drop the caches (after indexing, so the index's words do not stay in memory)."""
        self._words.clear()
        self._pairs.clear()

    def vocabulary(self, words: Words) -> set[str]:
        """Every term these texts can yield, without compound joining: the compound set."""
        distinct = set(words.flat()) - STOP_WORDS - {SEPARATOR}
        return {stem(word) for word in distinct} | set(self._phrases.values())

    def terms(self, text: str) -> tuple[str, ...]:
        """The terms of ``text``, in order (duplicates kept). Not cached by text: the caches
        hold single folded words and terms, never a question's text, and are capped."""
        return tuple(self._terms(tokenise((text,)).flat()))

    def analyse(self, words: Words) -> list[tuple[str, ...]]:
        """The terms of every text read by ``tokenise``: what ``terms`` gives for each text,
        computed over all of them at once (no per-text work)."""
        return [tuple(terms) for terms in _split(self.analyse_flat(words.flat()), SEPARATOR)]

    def analyse_flat(self, flat: list[str]) -> list[str]:
        """``analyse`` as one list: the terms of words as ``Words.flat`` gives them, with
        ``SEPARATOR`` between two texts' terms (an index numbers them without a tuple per text)."""
        return self._terms(flat)

    def _terms(self, words: list[str]) -> list[str]:
        """Stop words dropped, the rest stemmed, split compounds joined, synonym phrases
        replaced by their canonical term (separators kept)."""
        found = list(map(self._words.__getitem__, words))
        kept: list[_Word] = [word for word in found if word is not None]
        if self.compounds and len(kept) > 1:
            # Only words written side by side make a compound: "peer" and "uddannelse" in
            # "hvor mange peers har uddannelse" are two things, not "peeruddannelse".
            next_kept = [
                after is not None for word, after in itertools.pairwise(found) if word is not None
            ]
            starts = [i for i, word in enumerate(kept[:-1]) if word.compound_next and next_kept[i]]
            if starts:
                joined = self._join_compounds(kept, starts)
                if joined is not None:
                    return self._apply_synonyms(joined)
        return self._apply_synonyms([word.stem for word in kept])

    def _word(self, word: str) -> _Word | None:
        """What a folded word contributes, or None for a stop word (see ``_WordCache``)."""
        if word in STOP_WORDS:
            return None
        return _Word(stem=stem(word), compound_next=self._compound_next(word), word=word)

    def _compound_next(self, word: str) -> str:
        """The letters that follow ``word`` in the compound stems longer than it that start
        with it (one search per letter found)."""
        compounds, size = self._sorted_compounds, len(word)
        letters: list[str] = []
        position = bisect_left(compounds, word)
        while position < len(compounds):
            found = compounds[position]
            if not found.startswith(word):
                break
            if len(found) > size:
                letters.append(found[size])
                position = bisect_left(compounds, word + chr(ord(found[size]) + 1), position)
            else:
                position += 1
        return "".join(letters)

    def _join_compounds(self, kept: list[_Word], starts: list[int]) -> list[str] | None:
        """The stems with adjacent words whose concatenation stems to a known compound joined,
        left to right ("peer støtte" -> "peerstot"; a joined pair is never part of another);
        None when no pair joins."""
        joined: list[str] = []
        index = 0
        for position in starts:
            if position < index:
                continue
            first, second = kept[position], kept[position + 1]
            # A Snowball stem is a prefix of its word and the joined stem must reach into the
            # second word, so it starts with the first word and the second one's first letter.
            if second.word[0] not in first.compound_next:
                continue
            pair = self._compound(first.word, second.word)
            if pair:
                joined.extend(word.stem for word in kept[index:position])
                joined.append(pair)
                index = position + 2
        if not index:
            return None
        joined.extend(word.stem for word in kept[index:])
        return joined

    def _compound(self, first: str, second: str) -> str:
        """The compound stem two words join into, or "" (cached)."""
        key = (first, second)
        pair = self._pairs.get(key)
        if pair is None:
            pair = _stemmer().stemWord(first + second)
            # The joined stem must reach into the second word: "syg igen" stems to "syg".
            if len(pair) <= len(first) or pair not in self.compounds:
                pair = ""
            if len(self._pairs) < _CACHE_MAX:
                self._pairs[key] = pair
        return pair

    def _apply_synonyms(self, terms: list[str]) -> list[str]:
        """Replace the longest synonym phrase at each position by its canonical term."""
        single, multi_first = self._single, self._multi_first
        mapped = [single.get(term, term) for term in terms] if single else terms
        if multi_first.isdisjoint(terms):
            return mapped
        result: list[str] = []
        index, count = 0, len(terms)
        for position in [i for i, term in enumerate(terms) if term in multi_first]:
            if position < index:
                continue
            for size in range(min(self._longest, count - position), 1, -1):
                canonical = self._phrases.get(tuple(terms[position : position + size]))
                if canonical is not None:
                    result.extend(mapped[index:position])
                    result.append(canonical)
                    index = position + size
                    break
        result.extend(mapped[index:])
        return result


def normalize(text: str, synonyms: Iterable[Sequence[str]] = ()) -> str:
    """The normalised form of ``text`` as one space-separated string (for tests and tools)."""
    return " ".join(Normalizer(synonyms).terms(text))
