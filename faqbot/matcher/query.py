"""A question as the index sees it, read once: its terms (typos and split compounds mapped onto
known terms), their adjacent pairs, the trigrams of its words as written, and its asking part."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from faqbot.matcher.answerable import asking_part
from faqbot.matcher.index import FloatArray, Index, IntArray, trigrams
from faqbot.text import tokenise, words

MAX_QUERY_CHARS = 1000
"""Longer questions are matched on their first 1000 characters."""
TYPO_CUTOFF = 80.0
"""rapidfuzz ratio from which an unknown word is taken for a known term (85 below six letters)."""

Lookup = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Features:
    """Feature ids with weights, and how many of the query's features the index does not know."""

    ids: IntArray
    weights: FloatArray
    unknown: int


@dataclass(frozen=True)
class Query:
    """One question, tokenised once."""

    terms: tuple[str, ...]
    """Its distinct terms, in order."""
    known: Features
    """Term ids; a weight is 1 for an exact term, less for a typo's or compound's mapping."""
    pairs: IntArray
    """The ids of the known pairs of adjacent exact terms ("egen medicin")."""
    surface: Features
    """The trigrams of its words as written, counted."""
    mass: float
    """The summed IDF of its terms (times their weights); an unknown word weighs the largest
    IDF. The denominator of every share and overlap of the question's terms."""
    asking: Asking
    """Its asking part, cut once for every part of the engine that reads it."""


@dataclass(frozen=True)
class Asking:
    """A question's asking part (``answerable.asking_part``: the sentences that ask, without the
    clauses that introduce the asker): what the answerability rule and the out-of-scope
    evidence read."""

    text: str
    query: Query | None
    """The asking part read as a query; None when it has the question's own words (the
    question's query is it) or no terms."""


def read_query(index: Index, question: str) -> Query:
    """The question's terms, term pairs, surface trigrams and asking part. Nothing is cached:
    an unknown word's typo lookup costs well under a millisecond even in a long message."""
    text = question[:MAX_QUERY_CHARS]
    part = asking_part(text)
    asking = None
    if part != text.strip() and words(part) != words(text):
        asking = _read(index, part, Asking(part, None))
    return _read(index, text, Asking(part, asking if asking and asking.terms else None))


def _read(index: Index, text: str, asking: Asking) -> Query:
    """One text's terms, term pairs and surface trigrams (``read_query``)."""
    found = tokenise((text,))
    vocabulary = index.vocabulary
    terms = tuple(dict.fromkeys(vocabulary.normalizer.analyse(found)[0]))
    mapped: dict[int, float] = {}
    unknown = 0
    for term in terms:
        lookup = _lookup(index, term)
        unknown += not lookup
        for term_id, confidence in lookup:
            mapped[term_id] = max(mapped.get(term_id, 0.0), confidence)
    known = Features(
        np.fromiter(mapped, np.int64, len(mapped)),
        np.fromiter(mapped.values(), np.float64, len(mapped)),
        unknown,
    )
    mass = float((index.idf[known.ids] * known.weights).sum())
    mass += unknown * float(index.idf.max(initial=1.0))
    exact = [vocabulary.term_ids.get(term, -1) for term in terms]
    pairs = [vocabulary.pair_ids.get(pair) for pair in itertools.pairwise(exact)]
    return Query(
        terms,
        known,
        np.asarray([pair for pair in pairs if pair is not None], dtype=np.int64),
        _surface(found.flat(), index.surface.gram_ids),
        max(mass, 1e-12),
        asking,
    )


def _surface(words: list[str], gram_ids: dict[str, int]) -> Features:
    """The words' trigrams (as ``trigrams``), counted in order of first use: the order the
    sparse product adds them in."""
    grams = Counter([gram for word in words for gram in trigrams(word)])
    ids = list(map(gram_ids.get, grams))
    known = [gram_id for gram_id in ids if gram_id is not None]
    counts = [n for gram_id, n in zip(ids, grams.values(), strict=True) if gram_id is not None]
    return Features(
        np.array(known, dtype=np.int64),
        np.array(counts, dtype=np.float64),
        len(grams) - len(known),
    )


def _lookup(index: Index, term: str) -> Lookup:
    """The known terms a query term stands for: itself, a typo's target, or a split compound."""
    known = index.vocabulary.term_ids.get(term)
    if known is not None:
        return ((known, 1.0),)
    return _typo(index, term) or _split(index, term)


def _typo(index: Index, term: str) -> Lookup:
    """The closest known term of a similar length and the same first letter, if close enough."""
    if len(term) < 4:
        return ()
    cutoff = TYPO_CUTOFF if len(term) >= 6 else max(TYPO_CUTOFF, 85.0)
    best: tuple[str, float] | None = None
    for length in range(len(term) - 2, len(term) + 3):
        choices = index.typo_buckets.get((term[0], length))
        found = choices and process.extractOne(
            term, choices, scorer=fuzz.ratio, score_cutoff=cutoff, processor=None
        )
        if found and (best is None or found[1] > best[1]):
            best = (found[0], found[1])
    return () if best is None else ((index.vocabulary.term_ids[best[0]], best[1] / 100.0),)


def _split(index: Index, term: str) -> Lookup:
    """A closed compound the index knows only as two words ("peerlon" -> "peer" + "lon")."""
    term_ids = index.vocabulary.term_ids
    for cut in range(len(term) - 3, 2, -1):
        left, right = term[:cut], term[cut:]
        right_id = term_ids.get(right)
        if right_id is None:
            continue
        for head in (left, left[:-1] if left.endswith(("s", "e")) else ""):
            left_id = term_ids.get(head) if head else None
            if left_id is not None:
                return ((left_id, 0.9), (right_id, 0.9))
    return ()
