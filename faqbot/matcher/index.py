"""The index over a knowledge base: what the signals read, built once per knowledge base.

Each part is built by one named function that returns a frozen dataclass. The texts are read
first (``read_texts``: every phrasing, tag, answer and out-of-scope example tokenised and through
the one normaliser, once, as one list of words per few thousand texts, never a list per text);
every other part is a ``SparseIndex`` (an inverted index) over term ids or character trigrams,
counted from those ids with numpy. ``build_index`` builds them all.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from faqbot.kb import KnowledgeBase
from faqbot.text import SEPARATOR, Normalizer, tokenise

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


@dataclass(frozen=True)
class Documents:
    """Documents given as feature ids, one after another: document d's are
    ``ids[bounds[d]:bounds[d + 1]]``."""

    ids: IntArray
    bounds: IntArray

    @classmethod
    def of(cls, documents: Sequence[Sequence[int]]) -> Documents:
        """One sequence of ids per document, laid end to end."""
        bounds = np.zeros(len(documents) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, documents), np.int64, len(documents)), out=bounds[1:])
        ids = itertools.chain.from_iterable(documents)
        return cls(np.fromiter(ids, np.int64, int(bounds[-1])), bounds)

    def owners(self) -> IntArray:
        """The document of each id."""
        return np.repeat(np.arange(len(self.bounds) - 1, dtype=np.int64), np.diff(self.bounds))

    def counted(self, n_features: int) -> Entries:
        """As (document, feature, count)."""
        return count_pairs(self.owners(), self.ids, len(self.bounds) - 1, n_features)


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


def build_gram_index(words: Sequence[str], documents: Documents) -> GramIndex:
    """Documents given as word ids (into ``words``) as TF-IDF vectors of the words' trigrams."""
    gram_ids: dict[str, int] = {}
    word_grams = Documents.of(
        [[gram_ids.setdefault(g, len(gram_ids)) for g in trigrams(w)] for w in words]
    )
    n_docs = len(documents.bounds) - 1
    parts = []
    for first in range(0, max(n_docs, 1), GRAM_CHUNK):
        # A chunk at a time: all (document, trigram) occurrences at once would take several
        # times the finished index's memory at 10,000 items.
        bounds = documents.bounds[first : first + GRAM_CHUNK + 1]
        doc_of_word = np.repeat(np.arange(first, first + len(bounds) - 1), np.diff(bounds))
        positions, lengths = slices(word_grams.bounds, documents.ids[bounds[0] : bounds[-1]])
        found = count_pairs(
            np.repeat(doc_of_word, lengths), word_grams.ids[positions], 0, len(gram_ids)
        )
        parts.append(
            (
                found.docs.astype(np.int32),
                found.features.astype(np.int32),
                found.values.astype(np.float32),
            )
        )
    docs, features, counts = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    del parts
    tf_idf = build_tf_idf_index(Entries(docs, features, counts, n_docs, len(gram_ids)))
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
    answers: tuple[tuple[int, ...], ...]
    tags: tuple[tuple[int, ...], ...]
    """Per item: its tags' and category's terms."""
    negatives: tuple[tuple[int, ...], ...]
    """The out-of-scope examples' terms (``out_of_scope.yaml`` and dev.yaml's out-of-scope
    questions); never returned."""
    pair_ids: dict[tuple[int, int], int]
    """Pairs of adjacent terms in the phrasings ("egen medicin", "bliver syg"), numbered after
    the terms in order of first use: word order tells "peerens egen medicin" from "medicin til
    patienterne"."""
    subject: frozenset[str]
    """Terms that say a question is about the knowledge base's subject (``subject.yaml``)."""
    other_groups: frozenset[str] = frozenset()
    """Terms that name other staff groups (``other_groups.yaml``); stems under four letters
    are left out ("læge" and "lægge" share one)."""


@dataclass(frozen=True)
class Written:
    """Every phrasing's words as written (stop words and endings kept), as ids into ``words``
    (each distinct word once, in order of first use)."""

    words: tuple[str, ...]
    documents: Documents


@dataclass(frozen=True)
class Reading:
    """The knowledge base's texts read once: the vocabulary, and what only the build uses
    (so the index does not keep it)."""

    vocabulary: Vocabulary
    written: Written
    """The phrasings' words as written, for the surface index."""
    pairs: IntArray
    """The pair id (``pair_ids``) of each adjacent pair of terms in the phrasings, phrasing
    after phrasing (``len(p) - 1`` for phrasing p), for the classifier."""


def read_texts(kb: KnowledgeBase) -> Reading:
    """Every text tokenised and normalised once; split compounds are joined where the joined
    form occurs. Terms and words are numbered in order of first use."""
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
    # Read in chunks, each one string of words until it is analysed: all texts' word lists at
    # once would take several times the finished index's memory at 10,000 items.
    firsts = range(0, len(texts), TEXT_CHUNK)
    chunks = [tokenise(texts[first : first + TEXT_CHUNK]) for first in firsts]
    normalizer = base.with_compounds(set().union(*map(base.vocabulary, chunks)))
    term_ids: dict[str, int] = {SEPARATOR: -1}
    word_ids: dict[str, int] = {SEPARATOR: -1}
    terms: list[int] = []
    words: list[int] = []
    for first, chunk in zip(firsts, chunks, strict=True):
        flat = chunk.flat()
        terms += [-1] * (first > 0) + _numbered(normalizer.analyse_flat(flat), term_ids)
        if first < n_phrasings:  # the phrasings' words as written, for the surface
            words += [-1] * (first > 0) + _numbered(flat, word_ids)
    normalizer.forget()
    del term_ids[SEPARATOR], word_ids[SEPARATOR], chunks
    by_text = _cut(terms)
    del terms
    kept = [at for at in range(n_phrasings) if by_text[at]]
    phrasings = tuple(by_text[at] for at in kept)
    pair_ids, pairs = _number_pairs(Documents.of(phrasings), term_ids)
    subject = frozenset(
        term for phrase in kb.subject for term in normalizer.terms(phrase) if len(term) >= 3
    )
    other_groups = frozenset(
        term for phrase in kb.other_groups for term in normalizer.terms(phrase) if len(term) >= 4
    )
    vocabulary = Vocabulary(
        normalizer=normalizer,
        term_ids=term_ids,
        terms=tuple(term_ids),
        phrasings=phrasings,
        phrasing_item=np.asarray([owners[at][0] for at in kept], dtype=np.int64),
        answers=tuple(by_text[n_phrasings : n_phrasings + n_items]),
        tags=tuple(by_text[n_phrasings + n_items : n_phrasings + 2 * n_items]),
        negatives=tuple(ids for ids in by_text[n_phrasings + 2 * n_items :] if ids),
        pair_ids=pair_ids,
        subject=subject,
        other_groups=other_groups,
    )
    written = _written(np.fromiter(words, np.int64, len(words)), kept, tuple(word_ids))
    return Reading(vocabulary, written, pairs)


def _numbered(tokens: list[str], ids: dict[str, int]) -> list[int]:
    """Each token's id, a new one numbered after the others (``ids`` holds ``SEPARATOR: -1``
    first, so the terms count from 0 and the separators between texts stay -1). The ids are
    the dictionary's own int objects: a knowledge base's texts hold millions of them."""
    for token in dict.fromkeys(tokens):
        ids.setdefault(token, len(ids) - 1)
    return list(map(ids.__getitem__, tokens))


def _cut(ids: list[int]) -> list[tuple[int, ...]]:
    """Ids with -1 between two texts as one tuple per text."""
    ends = np.flatnonzero(np.fromiter(ids, np.int64, len(ids)) < 0).tolist()
    starts = [0, *(end + 1 for end in ends)]
    return [tuple(ids[start:end]) for start, end in zip(starts, [*ends, len(ids)], strict=True)]


def _number_pairs(
    phrasings: Documents, term_ids: dict[str, int]
) -> tuple[dict[tuple[int, int], int], IntArray]:
    """The pairs of adjacent terms within the phrasings numbered after the terms in order of
    first use, and the id of each pair where it occurs."""
    n_terms = len(term_ids)
    inside = np.ones(max(len(phrasings.ids) - 1, 0), dtype=bool)
    inside[phrasings.bounds[1:-1] - 1] = False  # a phrasing's last term and the next one's first
    width = max(n_terms, 1)
    keys = phrasings.ids[:-1][inside] * width + phrasings.ids[1:][inside]
    distinct, first_use, occurrence = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first_use)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    first, second = np.divmod(distinct[order], width)
    ids = list(term_ids.values())  # the keys share the term ids' int objects: less memory
    firsts, seconds = map(ids.__getitem__, first.tolist()), map(ids.__getitem__, second.tolist())
    pairs = zip(firsts, seconds, strict=True)
    pair_ids = dict(zip(pairs, range(n_terms, n_terms + len(order)), strict=True))
    return pair_ids, n_terms + rank[occurrence.reshape(-1)]


def _written(flat: IntArray, kept: list[int], words: tuple[str, ...]) -> Written:
    """The kept phrasings' words (``flat``: word ids, -1 between two phrasings, the phrasings
    first), renumbered in order of first use among them."""
    text = np.cumsum(flat < 0)  # the phrasing each position belongs to
    is_kept = np.zeros(int(text[-1]) + 1 if len(text) else 0, dtype=bool)
    is_kept[kept] = True
    found = (flat >= 0) & is_kept[text]
    ids, owner = flat[found], text[found]
    distinct, first_use = np.unique(ids, return_index=True)
    in_order = distinct[np.argsort(first_use)]
    renumbered = np.empty(len(words), dtype=np.int64)
    renumbered[in_order] = np.arange(len(in_order))
    bounds = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(is_kept))[kept], out=bounds[1:])
    return Written(tuple(words[i] for i in in_order.tolist()), Documents(renumbered[ids], bounds))


# --------------------------------------------------------------------------------------------
# The parts
# --------------------------------------------------------------------------------------------


def build_idf(vocabulary: Vocabulary) -> FloatArray:
    """Per term: log(1 + items / items with the term anywhere: phrasings, tags or answer)."""
    n_items = len(vocabulary.answers)
    phrasings, tags, answers = map(
        Documents.of, (vocabulary.phrasings, vocabulary.tags, vocabulary.answers)
    )
    anywhere = count_pairs(
        np.concatenate(
            [vocabulary.phrasing_item[phrasings.owners()], tags.owners(), answers.owners()]
        ),
        np.concatenate([phrasings.ids, tags.ids, answers.ids]),
        n_items,
        len(vocabulary.terms),
    )
    return np.log1p(max(n_items, 1) / np.maximum(document_frequency(anywhere), 1.0))


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
    phrasings = Documents.of(vocabulary.phrasings).counted(n_terms)
    negatives = Documents.of(vocabulary.negatives).counted(n_terms)
    return PhrasingIndex(
        phrasings=sparse_index(_ones(phrasings)),
        phrasing_mass=_mass(phrasings, idf),
        negatives=sparse_index(_ones(negatives)),
        negative_mass=_mass(negatives, idf),
        item_bounds=np.searchsorted(vocabulary.phrasing_item, np.arange(n_items + 1)),
    )


def _mass(entries: Entries, idf: FloatArray) -> FloatArray:
    """Per document: the summed IDF of its features (each counted once)."""
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


def build_bayes_index(vocabulary: Vocabulary, pairs: IntArray) -> BayesIndex:
    """Counts per item of the terms (1 each) of its tags and phrasings, the adjacent term pairs
    of its phrasings (``pairs``, as ``Reading.pairs``; 1 each) and the terms of its answer
    (``BAYES_ANSWER`` each), as ``bayes_of_counts``."""
    n_items = len(vocabulary.answers)
    n_terms = len(vocabulary.terms) + len(vocabulary.pair_ids)
    width = max(n_terms, 1)
    tags, phrasings, answers = map(
        Documents.of, (vocabulary.tags, vocabulary.phrasings, vocabulary.answers)
    )
    pair_item = np.repeat(vocabulary.phrasing_item, np.maximum(np.diff(phrasings.bounds) - 1, 0))
    sources = [  # (item, feature, weight), each source item after item
        (tags.owners(), tags.ids, 1.0),
        (vocabulary.phrasing_item[phrasings.owners()], phrasings.ids, 1.0),
        (pair_item, pairs, 1.0),
        (answers.owners(), answers.ids, BAYES_ANSWER),
    ]
    parts = []
    for first in range(0, max(n_items, 1), GRAM_CHUNK):  # items at a time: less memory
        cuts = [np.searchsorted(items, [first, first + GRAM_CHUNK]) for items, _, _ in sources]
        chunk = [
            (items[a:b], ids[a:b], weight)
            for (items, ids, weight), (a, b) in zip(sources, cuts, strict=True)
        ]
        docs = np.concatenate([items for items, _, _ in chunk])
        flat = np.concatenate([ids for _, ids, _ in chunk])
        weights = np.repeat([weight for _, _, weight in chunk], [len(ids) for _, ids, _ in chunk])
        keys, inverse = np.unique(docs * width + flat, return_inverse=True)
        parts.append((keys, np.bincount(inverse.reshape(-1), weights)))
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    del parts
    items, features = np.divmod(keys, width)
    return bayes_of_counts(Entries(items, features, counts, n_items, n_terms))


def bayes_of_counts(counts: Entries) -> BayesIndex:
    """The classifier from every item's feature counts (sorted by item, then feature),
    smoothed with ``BAYES_ALPHA``."""
    known = np.zeros(counts.n_features, dtype=bool)
    known[counts.features] = True
    totals = np.bincount(counts.docs, counts.values, minlength=counts.n_docs)
    smoothed = np.log1p(counts.values / BAYES_ALPHA)
    entries = Entries(counts.docs, counts.features, smoothed, counts.n_docs, counts.n_features)
    return BayesIndex(
        index=sparse_index(entries),
        offset=np.log(totals + BAYES_ALPHA * int(known.sum())),
        known=known,
    )


def build_surface_index(written: Written) -> GramIndex:
    """Every phrasing's words as written (stop words and endings kept: "hvor mange timer",
    "må hun") as a TF-IDF vector of character trigrams, one document per phrasing."""
    return build_gram_index(written.words, written.documents)


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
    reading = read_texts(kb)
    vocabulary = reading.vocabulary
    surface = build_surface_index(reading.written)  # the largest part, while little else is held
    idf = build_idf(vocabulary)
    answers = Documents.of(vocabulary.answers).counted(len(vocabulary.terms))
    return Index(
        vocabulary=vocabulary,
        idf=idf,
        phrasings=build_phrasing_index(vocabulary, idf),
        bayes=build_bayes_index(vocabulary, reading.pairs),
        surface=surface,
        typo_buckets=build_typo_buckets(vocabulary),
        answer_terms=tuple(frozenset(answer) for answer in vocabulary.answers),
        answer_mass=_mass(answers, idf),
    )
