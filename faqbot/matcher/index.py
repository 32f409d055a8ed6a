"""The index over a knowledge base: what the signals read, built once per knowledge base.

Each part is built by one named function that returns a frozen dataclass. The vocabulary comes
first (``build_vocabulary``: every phrasing, tag, answer and out-of-scope example through the one
normaliser, once); every other part is a ``SparseIndex`` (an inverted index) over term ids or
character trigrams. ``build_index`` builds them all.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from faqbot.kb import KnowledgeBase
from faqbot.text import Normalizer, tokenise

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BAYES_ALPHA = 0.1
"""Additive smoothing of the classifier's term counts."""
GRAM_CHUNK = 4096
"""Documents whose trigrams are counted at once while building."""
TEXT_CHUNK = 4096
"""Texts read (tokenised, then analysed) at once while building."""
BAYES_ANSWER = 1.0
"""An answer's term counts as much towards the classifier as a phrasing's or tag's."""


# --------------------------------------------------------------------------------------------
# Sparse matrices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparseIndex:
    """A feature x document matrix stored by feature (an inverted index with weights): the
    documents and values of feature f are at ``[indptr[f], indptr[f + 1])``."""

    indptr: IntArray
    docs: npt.NDArray[np.int32]
    values: npt.NDArray[np.float32]
    """Stored in 32 bits: half the memory of a large knowledge base, and read twice as fast."""
    n_docs: int

    def dot(self, features: IntArray, weights: FloatArray) -> FloatArray:
        """For every document: the sum over the query's features of weight x value. Each
        feature's row is copied whole (a common trigram's row holds most phrasings), already
        in the types ``bincount`` reads, rather than gathered posting by posting."""
        starts, ends = self.indptr[features], self.indptr[features + 1]
        rows = [
            slice(start, end) for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
        ]
        docs = np.concatenate([self.docs[:0], *(self.docs[row] for row in rows)], dtype=np.intp)
        values = np.concatenate(
            [self.values[:0], *(self.values[row] for row in rows)], dtype=np.float64
        )
        values *= np.repeat(weights, ends - starts)
        return np.bincount(docs, values, minlength=self.n_docs).astype(np.float64, copy=False)


def slices(indptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """The positions of the given rows of a CSR layout, concatenated, and each row's length."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(int(lengths.sum()), dtype=np.int64), lengths


@dataclass(frozen=True)
class Entries:
    """A sparse document x feature matrix as (document, feature, value) triples."""

    docs: npt.NDArray[np.integer[Any]]
    features: npt.NDArray[np.integer[Any]]
    values: npt.NDArray[np.floating[Any]]
    n_docs: int
    n_features: int


def counted(documents: Sequence[Sequence[int] | IntArray], n_features: int) -> Entries:
    """Documents given as feature ids (repeats allowed) as (document, feature, count)."""
    sizes = [len(document) for document in documents]
    docs = np.repeat(np.arange(len(documents), dtype=np.int64), sizes)
    flat = np.concatenate([np.asarray(d, dtype=np.int64) for d in documents]) if sizes else docs
    return count_pairs(docs, flat, len(documents), n_features)


def count_pairs(docs: IntArray, features: IntArray, n_docs: int, n_features: int) -> Entries:
    """(document, feature) occurrences as (document, feature, count)."""
    width = max(n_features, 1)
    keys, counts = np.unique(docs * width + features, return_counts=True)
    rows, columns = np.divmod(keys, width)
    return Entries(rows, columns, counts.astype(np.float64), n_docs, n_features)


def sparse_index(entries: Entries) -> SparseIndex:
    """The inverted index of a document x feature matrix."""
    order = np.argsort(entries.features)
    indptr = np.zeros(entries.n_features + 1, dtype=np.int64)
    np.cumsum(np.bincount(entries.features, minlength=entries.n_features), out=indptr[1:])
    docs = entries.docs.astype(np.int32, copy=False)[order]
    values = entries.values.astype(np.float32, copy=False)[order]
    return SparseIndex(indptr, docs, values, entries.n_docs)


def document_frequency(entries: Entries) -> FloatArray:
    """In how many documents each feature occurs."""
    return np.bincount(entries.features, minlength=entries.n_features).astype(np.float64)


def trigrams(word: str) -> list[str]:
    """The character trigrams of a word or term, its ends marked ("#hv", "hvo", "vor", "or#")."""
    marked = f"#{word}#"
    return [marked[i : i + 3] for i in range(len(marked) - 2)]


@dataclass(frozen=True)
class TfIdfIndex:
    """Unit-length TF-IDF vectors of documents (over terms or trigrams), for cosines."""

    index: SparseIndex
    idf: FloatArray


def build_tf_idf_index(entries: Entries) -> TfIdfIndex:
    """(1 + log count) x IDF per feature, IDF = log((N + 1) / (df + 0.5)), each document scaled
    to unit length (in 32 bits, the counts turned into the weights in place: a large knowledge
    base has millions)."""
    df = document_frequency(entries)
    idf = np.log((entries.n_docs + 1) / (df + 0.5))
    weights = entries.values.astype(np.float32, copy=False)
    np.log(weights, out=weights)
    weights += 1
    weights *= idf.astype(np.float32)[entries.features]
    norms = np.sqrt(np.bincount(entries.docs, weights * weights, minlength=entries.n_docs))
    weights /= np.maximum(norms, 1e-12).astype(np.float32)[entries.docs]
    unit = Entries(entries.docs, entries.features, weights, entries.n_docs, entries.n_features)
    return TfIdfIndex(sparse_index(unit), idf)


@dataclass(frozen=True)
class GramIndex:
    """Documents as TF-IDF vectors of character trigrams, and the trigram ids."""

    tf_idf: TfIdfIndex
    gram_ids: dict[str, int]


def build_gram_index(words: Sequence[str], documents: Sequence[Sequence[int]]) -> GramIndex:
    """Documents given as word ids (into ``words``) as TF-IDF vectors of the words' trigrams."""
    gram_ids: dict[str, int] = {}
    word_grams = [[gram_ids.setdefault(g, len(gram_ids)) for g in trigrams(w)] for w in words]
    indptr = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum([len(grams) for grams in word_grams], out=indptr[1:])
    flat = np.fromiter((g for grams in word_grams for g in grams), np.int64, int(indptr[-1]))
    parts = []
    for first in range(0, max(len(documents), 1), GRAM_CHUNK):
        # A chunk at a time: all (document, trigram) occurrences at once would take several
        # times the finished index's memory at 10,000 items.
        chunk = documents[first : first + GRAM_CHUNK]
        sizes = [len(document) for document in chunk]
        doc_of_word = np.repeat(np.arange(first, first + len(chunk), dtype=np.int64), sizes)
        occurrences = np.fromiter((w for d in chunk for w in d), np.int64, sum(sizes))
        positions, lengths = slices(indptr, occurrences)
        found = count_pairs(np.repeat(doc_of_word, lengths), flat[positions], 0, len(gram_ids))
        parts.append(
            (
                found.docs.astype(np.int32),
                found.features.astype(np.int32),
                found.values.astype(np.float32),
            )
        )
    docs, features, counts = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    del parts
    tf_idf = build_tf_idf_index(Entries(docs, features, counts, len(documents), len(gram_ids)))
    return GramIndex(tf_idf, gram_ids)


# --------------------------------------------------------------------------------------------
# The vocabulary: every text through the normaliser once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Every text of the knowledge base as term ids, and the normaliser that made them."""

    normalizer: Normalizer
    term_ids: dict[str, int]
    terms: tuple[str, ...]
    phrasings: tuple[tuple[int, ...], ...]
    """Every item's phrasings that have a term (its own, then the colleagues' questions
    labelled with it in dev.yaml), item after item."""
    phrasing_item: IntArray
    """The item of each phrasing."""
    phrasing_words: tuple[tuple[str, ...], ...]
    """Each phrasing's folded words as written (stop words and endings kept)."""
    answers: tuple[tuple[int, ...], ...]
    tags: tuple[tuple[int, ...], ...]
    """Per item: its tags' and category's terms."""
    negatives: tuple[tuple[int, ...], ...]
    """The out-of-scope examples' terms (``out_of_scope.yaml`` and dev.yaml's out-of-scope
    questions); never returned."""
    pair_ids: dict[tuple[int, int], int]
    """Pairs of adjacent terms in the phrasings ("egen medicin", "bliver syg"), numbered after
    the terms: word order tells "peerens egen medicin" from "medicin til patienterne"."""
    subject: frozenset[str]
    """Terms that say a question is about the knowledge base's subject (``subject.yaml``)."""
    other_groups: frozenset[str] = frozenset()
    """Terms that name other staff groups (``other_groups.yaml``); stems under four letters
    are left out ("læge" and "lægge" share one)."""


def build_vocabulary(kb: KnowledgeBase) -> Vocabulary:
    """Every text normalised once; split compounds are joined where the joined form occurs."""
    base = Normalizer(kb.synonyms)
    owners = [
        (index, text)
        for index, item in enumerate(kb.items)
        for text in kb.indexed_phrasings(item)  # its own, then colleagues' labelled questions
    ]
    n_phrasings, n_items = len(owners), len(kb.items)
    texts = [text for _, text in owners] + [item.answer for item in kb.items]
    texts += [" ".join((*item.tags, item.category)) for item in kb.items]
    texts += kb.indexed_negatives  # out_of_scope.yaml's and dev.yaml's out-of-scope questions
    # Read in chunks, twice (the compounds first): all texts' words at once would take several
    # times the finished index's memory at 10,000 items.
    chunks = range(0, len(texts), TEXT_CHUNK)
    compounds = set().union(*(base.vocabulary(tokenise(texts[c : c + TEXT_CHUNK])) for c in chunks))
    normalizer = base.with_compounds(compounds)
    analysed: list[tuple[str, ...]] = []
    written: list[tuple[str, ...]] = []
    for first in chunks:
        words = tokenise(texts[first : first + TEXT_CHUNK])
        analysed += normalizer.analyse(words)
        phrasings = max(0, min(TEXT_CHUNK, n_phrasings - first))
        written += [tuple(map(sys.intern, w)) for w in words.texts()[:phrasings]]
    normalizer.forget()
    term_ids: dict[str, int] = {}
    as_ids = [tuple(term_ids.setdefault(t, len(term_ids)) for t in terms) for terms in analysed]
    del analysed
    kept = [at for at in range(n_phrasings) if as_ids[at]]
    pair_ids: dict[tuple[int, int], int] = {}
    for at in kept:
        for pair in zip(as_ids[at], as_ids[at][1:], strict=False):
            pair_ids.setdefault(pair, len(term_ids) + len(pair_ids))
    subject = frozenset(
        term for phrase in kb.subject for term in normalizer.terms(phrase) if len(term) >= 3
    )
    other_groups = frozenset(
        term for phrase in kb.other_groups for term in normalizer.terms(phrase) if len(term) >= 4
    )
    return Vocabulary(
        normalizer=normalizer,
        term_ids=term_ids,
        terms=tuple(term_ids),
        phrasings=tuple(as_ids[at] for at in kept),
        phrasing_item=np.asarray([owners[at][0] for at in kept], dtype=np.int64),
        phrasing_words=tuple(written[at] for at in kept),
        answers=tuple(as_ids[n_phrasings : n_phrasings + n_items]),
        tags=tuple(as_ids[n_phrasings + n_items : n_phrasings + 2 * n_items]),
        negatives=tuple(ids for ids in as_ids[n_phrasings + 2 * n_items :] if ids),
        pair_ids=pair_ids,
        subject=subject,
        other_groups=other_groups,
    )


def item_terms(vocabulary: Vocabulary) -> list[IntArray]:
    """Per item: the term ids of its phrasings and tags, repeats kept."""
    parts: list[list[tuple[int, ...]]] = [[tags] for tags in vocabulary.tags]
    for item, phrasing in zip(vocabulary.phrasing_item.tolist(), vocabulary.phrasings, strict=True):
        parts[item].append(phrasing)
    return [np.fromiter((t for p in part for t in p), np.int64) for part in parts]


# --------------------------------------------------------------------------------------------
# The parts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhrasingIndex:
    """Every phrasing (and, apart, every out-of-scope example) as a set of terms, for the
    IDF-weighted overlap of a question with each one."""

    phrasings: SparseIndex
    phrasing_mass: FloatArray
    """Per phrasing: the summed IDF of its distinct terms."""
    negatives: SparseIndex
    negative_mass: FloatArray
    item_bounds: IntArray
    """Item i's phrasings are ``[item_bounds[i], item_bounds[i + 1])``."""


def build_phrasing_index(vocabulary: Vocabulary, idf: FloatArray) -> PhrasingIndex:
    """Phrasings and out-of-scope examples as sets of term ids (value 1)."""
    n_terms, n_items = len(vocabulary.terms), len(vocabulary.answers)
    phrasings = counted([sorted(set(p)) for p in vocabulary.phrasings], n_terms)
    negatives = counted([sorted(set(n)) for n in vocabulary.negatives], n_terms)
    return PhrasingIndex(
        phrasings=sparse_index(_ones(phrasings)),
        phrasing_mass=_mass(phrasings, idf),
        negatives=sparse_index(_ones(negatives)),
        negative_mass=_mass(negatives, idf),
        item_bounds=np.searchsorted(vocabulary.phrasing_item, np.arange(n_items + 1)),
    )


def _mass(entries: Entries, idf: FloatArray) -> FloatArray:
    """Per document: the summed IDF of its features."""
    weights = idf[entries.features]
    return np.bincount(entries.docs, weights, entries.n_docs).astype(np.float64)


def _ones(entries: Entries) -> Entries:
    ones = np.ones(len(entries.values))
    return Entries(entries.docs, entries.features, ones, entries.n_docs, entries.n_features)


@dataclass(frozen=True)
class BayesIndex:
    """A multinomial naive Bayes classifier over the items: log P(term | item) is
    ``log1p(count / alpha)`` (``index``) minus ``offset[item]``, plus a constant."""

    index: SparseIndex
    offset: FloatArray
    known: npt.NDArray[np.bool_]
    """Per term or pair: seen in some item (unseen ones are left out of the likelihood)."""


def build_bayes_index(vocabulary: Vocabulary, terms: Sequence[IntArray]) -> BayesIndex:
    """Counts per item of the terms and adjacent term pairs of its phrasings and the terms of
    its tags (1 each) and its answer (``BAYES_ANSWER`` each), smoothed with ``BAYES_ALPHA``."""
    n_terms = len(vocabulary.terms) + len(vocabulary.pair_ids)
    width = max(n_terms, 1)
    pairs: list[list[int]] = [[] for _ in terms]
    for item, phrasing in zip(vocabulary.phrasing_item.tolist(), vocabulary.phrasings, strict=True):
        pairs[item] += [vocabulary.pair_ids[p] for p in itertools.pairwise(phrasing)]
    parts = []
    for first in range(0, max(len(terms), 1), GRAM_CHUNK):  # items at a time: less memory
        chunk = range(first, min(first + GRAM_CHUNK, len(terms)))
        own = [
            np.asarray([*terms[i], *pairs[i], *vocabulary.answers[i]], dtype=np.int64)
            for i in chunk
        ]
        weights = [
            np.repeat(
                [1.0, BAYES_ANSWER], [len(terms[i]) + len(pairs[i]), len(vocabulary.answers[i])]
            )
            for i in chunk
        ]
        docs = np.repeat(np.fromiter(chunk, np.int64), [len(o) for o in own])
        flat = np.concatenate([docs[:0], *own])
        keys, inverse = np.unique(docs * width + flat, return_inverse=True)
        counts = np.bincount(inverse, np.concatenate(weights) if weights else None)
        parts.append((keys, counts))
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    del parts, pairs
    items, features = np.divmod(keys, width)
    known = np.zeros(n_terms, dtype=bool)
    known[features] = True
    totals = np.bincount(items, counts, minlength=len(terms))
    entries = Entries(items, features, np.log1p(counts / BAYES_ALPHA), len(terms), n_terms)
    return BayesIndex(
        index=sparse_index(entries),
        offset=np.log(totals + BAYES_ALPHA * int(known.sum())),
        known=known,
    )


def build_surface_index(vocabulary: Vocabulary) -> GramIndex:
    """Every phrasing's words as written (stop words and endings kept: "hvor mange timer",
    "må hun") as a TF-IDF vector of character trigrams, one document per phrasing."""
    word_ids: dict[str, int] = {}
    documents = [
        [word_ids.setdefault(w, len(word_ids)) for w in words]
        for words in vocabulary.phrasing_words
    ]
    return build_gram_index(list(word_ids), documents)


def build_typo_buckets(vocabulary: Vocabulary) -> dict[tuple[str, int], list[str]]:
    """Known terms of four letters or more by (first letter, length): typo candidates."""
    buckets: dict[tuple[str, int], list[str]] = {}
    for term in vocabulary.terms:
        if len(term) >= 4:
            buckets.setdefault((term[0], len(term)), []).append(term)
    return buckets


@dataclass(frozen=True)
class Index:
    """Everything the signals read about one knowledge base."""

    vocabulary: Vocabulary
    idf: FloatArray
    """Per term: log(1 + items / items with the term anywhere); weighs the overlaps."""
    phrasings: PhrasingIndex
    bayes: BayesIndex
    surface: GramIndex
    """Every phrasing's words as written as a trigram vector."""
    typo_buckets: dict[tuple[str, int], list[str]]
    answer_terms: tuple[frozenset[int], ...]
    """Per item: its answer's distinct terms (is another item's answer the same?)."""
    answer_mass: FloatArray
    """Per item: the summed IDF of its answer's distinct terms."""


def build_index(kb: KnowledgeBase) -> Index:
    """The whole index of a knowledge base."""
    vocabulary = build_vocabulary(kb)
    surface = build_surface_index(vocabulary)  # the largest part: built while little else is held
    n_terms, n_items = len(vocabulary.terms), len(kb.items)
    terms = item_terms(vocabulary)
    anywhere = counted(
        [
            np.concatenate([own, answer])
            for own, answer in zip(terms, vocabulary.answers, strict=False)
        ],
        n_terms,
    )
    idf = np.log1p(max(n_items, 1) / np.maximum(document_frequency(anywhere), 1.0))
    return Index(
        vocabulary=vocabulary,
        idf=idf,
        phrasings=build_phrasing_index(vocabulary, idf),
        bayes=build_bayes_index(vocabulary, terms),
        surface=surface,
        typo_buckets=build_typo_buckets(vocabulary),
        answer_terms=tuple(frozenset(answer) for answer in vocabulary.answers),
        answer_mass=_mass(counted([sorted(set(a)) for a in vocabulary.answers], n_terms), idf),
    )
