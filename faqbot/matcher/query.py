"""A question as the index sees it, read once: its terms (typos and split compounds mapped onto
known terms), their adjacent pairs, the trigrams of its words as written, its asking part, and
how the ranking weighs its words when it starts with who is asking."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz, process

from faqbot.matcher.answerable import asking_part, without_introduction
from faqbot.matcher.index import FloatArray, Index, IntArray, trigrams
from faqbot.text import tokenise, words

MAX_QUERY_CHARS = 1000
"""Longer questions are matched on their first 1000 characters."""
TYPO_CUTOFF = 80.0
"""rapidfuzz ratio from which an unknown word is taken for a known term (85 below six letters)."""
INTRODUCTION_WEIGHT = 0.75
"""How much a term or trigram counts in the ranking when it appears only in a clause that
introduces the asker ("Jeg arbejder som sygeplejerske på en lukket afdeling, ..."): the asker's
job or ward is context rather than what is asked, yet it may still tell two close items apart."""

Lookup = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Features:
    """Feature ids with weights, and how many of the query's features the index does not know."""

    ids: IntArray
    weights: FloatArray
    unknown: int
    emphasis: FloatArray | None = None
    """How much each feature counts beside its weight (a trigram's count); None: fully."""


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
    ranking: Query | None = None
    """The question as the ranking signals read it when it has a clause that introduces the
    asker (``answerable.without_introduction``): a term or trigram found only there counts
    ``INTRODUCTION_WEIGHT``. None when it has none; the evidence about scope always reads the
    question as written."""

    @property
    def ranked(self) -> Query:
        """What the ranking signals read: ``ranking``, else the question itself."""
        return self.ranking or self


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
    """The question's terms, term pairs, surface trigrams, asking part and ranking reading.
    Nothing is cached: an unknown word's typo lookup costs well under a millisecond even in a
    long message."""
    text = question[:MAX_QUERY_CHARS]
    part = asking_part(text)
    asking = None if _same_words(part, text) else _read(index, part, Asking(part, None))[0]
    cut = Asking(part, asking if asking and asking.terms else None)
    query, lookups, grams = _read(index, text, cut)
    rest = without_introduction(text)
    if _same_words(rest, text):
        return query
    return replace(query, ranking=_emphasised(index, query, lookups, grams, rest))


def _same_words(part: str, text: str) -> bool:
    return part == text.strip() or words(part) == words(text)


def _read(index: Index, text: str, asking: Asking) -> tuple[Query, dict[str, Lookup], list[str]]:
    """One text's query (``read_query``, without a ranking reading), what each of its terms
    stands for, and its known trigrams as written (in the order of ``Query.surface``)."""
    found = tokenise((text,))
    vocabulary = index.vocabulary
    terms = tuple(dict.fromkeys(vocabulary.normalizer.analyse(found)[0]))
    lookups = {term: _lookup(index, term) for term in terms}
    mapped: dict[int, float] = {}
    unknown = 0
    for lookup in lookups.values():
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
    surface, grams = _surface(found.flat(), index.surface.gram_ids)
    query = Query(
        terms,
        known,
        np.asarray([pair for pair in pairs if pair is not None], dtype=np.int64),
        surface,
        max(mass, 1e-12),
        asking,
    )
    return query, lookups, grams


def _emphasised(
    index: Index, query: Query, lookups: dict[str, Lookup], grams: list[str], rest: str
) -> Query | None:
    """``query`` with every term and trigram found only in the asker's introduction (not in
    ``rest``, the question without it) weighted ``INTRODUCTION_WEIGHT``; None when ``rest``
    has no terms (then nothing stands out)."""
    outside = set(index.vocabulary.normalizer.analyse(tokenise((rest,)))[0])
    if not outside:
        return None
    emphasis: dict[int, float] = {}
    unknown = 0.0
    for term, lookup in lookups.items():
        weight = 1.0 if term in outside else INTRODUCTION_WEIGHT
        unknown += weight * (not lookup)
        for term_id, _ in lookup:
            emphasis[term_id] = max(emphasis.get(term_id, 0.0), weight)
    ids = query.known.ids
    factors = np.fromiter(map(emphasis.__getitem__, ids.tolist()), np.float64, len(ids))
    weights = query.known.weights * factors
    mass = float((index.idf[ids] * weights).sum()) + unknown * float(index.idf.max(initial=1.0))
    seen = {gram for word in words(rest) for gram in trigrams(word)}
    surface = [1.0 if gram in seen else INTRODUCTION_WEIGHT for gram in grams]
    return replace(
        query,
        known=replace(query.known, weights=weights),
        surface=replace(query.surface, emphasis=np.array(surface, dtype=np.float64)),
        mass=max(mass, 1e-12),
    )


def _surface(found: list[str], gram_ids: dict[str, int]) -> tuple[Features, list[str]]:
    """The words' trigrams (as ``trigrams``), counted in order of first use (the order the
    sparse product adds them in), and the known ones as written, in the same order."""
    grams = Counter([gram for word in found for gram in trigrams(word)])
    ids = list(map(gram_ids.get, grams))
    known = [gram_id for gram_id in ids if gram_id is not None]
    counts = [n for gram_id, n in zip(ids, grams.values(), strict=True) if gram_id is not None]
    written = [gram for gram_id, gram in zip(ids, grams, strict=True) if gram_id is not None]
    features = Features(
        np.array(known, dtype=np.int64),
        np.array(counts, dtype=np.float64),
        len(grams) - len(known),
    )
    return features, written


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
