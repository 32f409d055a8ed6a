"""The index over a knowledge base, the score, and the four-way decision.

A question is first checked for a crisis (``faqbot.safety``); only then is it matched, on terms
from ``faqbot.text``. Query words the index does not know are mapped onto the closest known term
with rapidfuzz (typos) or split into two known terms (compounds). Five parts, each in [0, 1],
are blended into one score:

* the best phrasing (question or alternate): an IDF-weighted Dice overlap of terms;
* coverage: how much of the question's term weight the item explains anywhere (phrasings and
  tags fully, the answer text at a lower weight);
* TF-IDF cosines with the item's phrasings and tags, over terms and over character trigrams
  (inflections, compounds and typos the stemmer misses), and with the answer text.

That similarity is one half of the score. The other half is a multinomial naive Bayes classifier
trained at build time on the same text (every phrasing's terms; the tags and the answer at a
lower weight), with a second one over pairs of adjacent terms ("egen medicin", "bliver syg")
whose log-likelihood is added before the softmax: its probability over the items, weighted, is
added to the similarity. The similarity asks which phrasing a question is like; the classifier
weighs all of an item's phrasings at once and so learns which words set it apart from its
neighbours. The classifier's probabilities always sum to one, even for a question about the
canteen, so whether anything fits at all (no match, and the out-of-scope veto below) is decided
on the similarity alone.

Last, the few best items are reranked on the surface form: a TF-IDF cosine of the character
trigrams of the words as written (stop words and endings kept: "hvor mange timer", "må hun")
with each of their phrasings. It too only ranks; it never decides whether anything fits.

A question that names none of the knowledge base's subject terms (``subject.yaml``: "peer",
"brugerbaggrund"..., also inside compounds; without that file, terms found in the phrasings of
half the items) has its scores scaled down: a FAQ about peer colleagues should not answer
questions about the canteen.

The knowledge base's out-of-scope examples (``out_of_scope.yaml``: IT, rota, canteen, patients'
medication...) are indexed as extra documents that are never returned: a weak match that such an
example scores as well as is no match. They let the clarify threshold sit lower without letting
the canteen in.

Everything is an inverted index in numpy arrays (no Python loop over items), so a query costs
about the same at 100 or 10,000 items. The decision then answers, asks back (clarify) or admits
that nothing fits; every threshold is in ``Thresholds``, tuned on ``knowledge/eval.yaml``.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import groupby

import numpy as np
from rapidfuzz import fuzz, process

from faqbot.kb import Item, KnowledgeBase
from faqbot.safety import SafetyDetector, SafetyLevel
from faqbot.smalltalk import SmallTalk, SmallTalkDetector
from faqbot.text import Normalizer, tokenise
from faqbot.text import words as words_of

MAX_QUERY_CHARS = 1000
"""Longer questions are matched on their first 1000 characters."""
SAFETY_MAX_CHARS = 4096
"""The crisis check reads further: a whole Telegram message (4096 characters)."""


class Status(StrEnum):
    """What the engine decided to do with a question."""

    ANSWERED = "answered"
    CLARIFY = "clarify"
    NO_MATCH = "no_match"
    SAFETY = "safety"
    SMALLTALK = "smalltalk"
    """Greetings, thanks, questions about the bot: a short reply, not an unanswered question."""


@dataclass(frozen=True)
class Suggestion:
    """An item offered to the user when the question was ambiguous."""

    item: Item
    score: float


@dataclass(frozen=True)
class Result:
    """The engine's answer to one question."""

    question: str
    status: Status
    item: Item | None
    score: float
    suggestions: tuple[Suggestion, ...] = ()
    safety_note: bool = False
    """The message touches on danger but reads as a question: show the short safety note first."""
    small_talk: SmallTalk | None = None
    """Small talk (status SMALLTALK, its reply) or a question in another language (its note is
    shown above the suggestions)."""
    off_topic: bool = False
    """A no_match because the question is outside the subject (an out-of-scope example fits it
    as well, or it names no subject word), not a gap in the knowledge base."""


@dataclass(frozen=True)
class Thresholds:
    """Every number the decision uses, in one place (tuned on the knowledge base's eval set; the
    negative_* pair and ``clarify`` on held-out halves of ``out_of_scope.yaml``)."""

    answer: float = 0.32
    """The best item is answered at or above this score..."""
    margin: float = 0.12
    """...and when it leads the runner-up item by at least this much."""
    clarify: float = 0.14
    """Below ``answer`` (or too close to the runner-up) but at or above this: ask back."""
    suggest_window: float = 0.25
    """Suggestions are items within this distance of the best one."""
    negative_margin: float = 0.0
    """No match when the best out-of-scope example (``kb.negatives``) scores at least the best
    item's score plus this much (a negative margin: comes this close to it): the question looks
    more like one the bot must not answer..."""
    negative_below: float = 0.25
    """...but only when the best item scores below this: a clear match is never vetoed. The
    examples let ``clarify`` sit lower, where in-scope and out-of-scope scores overlap."""
    max_suggestions: int = 3


@dataclass(frozen=True)
class Weights:
    """How the parts of the score are blended (each part is in [0, 1]), and their settings."""

    phrasing: float = 1.5
    """Best single phrasing: IDF-weighted Dice overlap of terms with the query."""
    coverage: float = 1.0
    """Share of the query's term weight that the whole item explains anywhere."""
    item_words: float = 0.5
    """TF-IDF cosine of terms with all of the item's phrasings and tags."""
    item_grams: float = 2.0
    """TF-IDF cosine of character n-grams with the phrasings and tags (inflections, compounds)."""
    answer_grams: float = 0.0
    """TF-IDF cosine of character n-grams with the answer text (as good as answer_words on the
    eval set, but several times the memory on a large knowledge base)."""
    answer_words: float = 1.5
    """TF-IDF cosine of terms with the answer text."""
    answer_term: float = 0.35
    """A term found only in the answer counts this much towards coverage."""
    tag_term: float = 0.8
    """A term found only in the tags or category counts this much."""
    unknown_idf: float = 1.0
    """An unknown query word weighs this share of the largest IDF (it is unexplained content)."""
    typo_cutoff: float = 80.0
    """rapidfuzz ratio from which an unknown word is taken for a known term."""
    off_topic: float = 0.4
    """Scores of a question that names none of the knowledge base's subject terms are multiplied
    by this: a FAQ about peer colleagues should not answer "how do I book a meeting room"."""
    subject_share: float = 0.5
    """Without a ``subject.yaml``, a subject term is one found in the phrasings of at least this
    share of the items (which drifts as items gain phrasings: "ikke", "patient" qualify at 30 a
    piece, hence the file)."""
    own_phrasing: float = 0.85
    """A question whose phrasing overlap with one of the items' own phrasings is at least this
    is on topic whatever its words ("hvad er recovery", "får vi en patient som kollega")."""
    gram_sizes: tuple[int, ...] = (3,)
    """Character n-gram sizes."""
    max_gram_share: float = 0.5
    """n-grams found in more than this share of the items are left out (they tell nothing)."""
    bayes: float = 0.2
    """Weight of the naive Bayes probability (a softmax over items, so at most this is added).
    The similarity parts ask "which phrasing is this question like?"; the classifier asks "which
    item's words, taken together, make this question likeliest?", and learns from all of an item's
    phrasings at once which words set it apart from its neighbours."""
    bayes_alpha: float = 0.1
    """Additive smoothing of the classifier's word counts."""
    bayes_temperature: float = 2.0
    """The classifier's log-likelihoods are divided by this before the softmax (flatter)."""
    bayes_answer: float = 0.3
    """The answer text and the tags count this much per word towards the classifier, against 1
    for a phrasing."""
    bayes_pairs: float = 1.0
    """Weight of a second classifier over adjacent term pairs in the phrasings ("bliver syg",
    "egen medicin"), whose log-likelihood is added to the first one's before the softmax: word
    order tells "peerens egen medicin" from "medicin til patienterne". 0 leaves it out."""
    phrasing_grams: float = 4.0
    """TF-IDF cosine of character trigrams of the words as written (stop words and endings
    kept) with the best single phrasing: the surface form of a question ("hvor mange timer",
    "må hun") that terms, which drop stop words and endings, cannot see. It reranks the
    ``rerank`` best items only, and never decides whether anything fits (it would find the
    canteen question's "hvor" and "hvornår" in many phrasings)."""
    rerank: int = 5
    """How many of the best items ``phrasing_grams`` compares (the rest score 0 on it)."""


_NONE = np.zeros(0, dtype=np.int32)

GRAM_BUCKETS = 1 << 20
"""n-grams are hashed (CRC-32, stable across runs) into this many features: no gram dictionary."""


def _gram_ids(term: str, sizes: tuple[int, ...]) -> np.ndarray:
    """Hashed ids of the character n-grams of one term, with word boundaries marked."""
    padded = f"#{term}#".encode()
    ids = [
        zlib.crc32(padded[i : i + size]) & (GRAM_BUCKETS - 1)
        for size in sizes
        for i in range(len(padded) - size + 1)
    ]
    return np.asarray(ids, dtype=np.int32)


def _positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions [start, start + length) of every range, concatenated (array methods, not
    numpy's Python-level functions: a query calls this often, on short arrays)."""
    ends = lengths.cumsum()
    positions = np.arange(ends[-1] if len(ends) else 0, dtype=np.int64)
    positions += (starts - (ends - lengths)).repeat(lengths)
    return positions


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_positions``, and for each position the index of the range it belongs to."""
    owner = np.arange(len(starts)).repeat(lengths)
    return _positions(starts, lengths), owner


def _slices(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of rows' slices of a CSR layout (``indptr``), concatenated, and for each
    position the index in ``rows`` of the row it belongs to."""
    starts = indptr[rows]
    return _ranges(starts, indptr[rows + 1] - starts)


def _find(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key, its position in ``sorted_keys`` (non-empty, ascending) and whether it is
    there (where it is not, the position is some valid index)."""
    at = sorted_keys.searchsorted(keys)
    np.minimum(at, len(sorted_keys) - 1, out=at)
    return at, sorted_keys[at] == keys


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and how often each occurs (``np.unique`` with counts,
    without its Python-level overhead: a query calls this twice)."""
    keys = np.sort(keys)
    if len(keys) == 0:
        return keys, np.zeros(0, dtype=np.int64)
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = first.nonzero()[0]
    counts = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = len(keys) - starts[-1]
    return keys[starts], counts


def _pairs(
    rows: np.ndarray, columns: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (row, column) pairs, sorted by row then column, with how often each occurs."""
    width = max(width, 1)
    keys, counts = np.unique(rows.astype(np.int64) * width + columns, return_counts=True)
    rows, columns = np.divmod(keys, width)
    return rows, columns, counts


class _Index:
    """A sparse feature x document matrix stored by feature (an inverted index with weights).

    A feature found in more than a tenth of the documents ("peer", the trigram "pee") is kept as
    a dense float32 row instead of a posting list: a query reads it with one matrix-vector
    product, a few nanoseconds cheaper a document than gathering and summing posting entries
    one by one (at 10,000 items a query's trigrams touched 40,000 entries; with the row
    threshold at half the documents p99 was 4.4-4.7 ms, at a tenth 2.7-3.1 ms). A row costs 4
    bytes a document against 8 an entry, so the memory stays about the same.
    """

    DENSE_SHARE = 0.1

    def __init__(
        self,
        docs: np.ndarray,
        features: np.ndarray,
        values: np.ndarray,
        n_features: int,
        n_docs: int,
    ) -> None:
        counts = np.bincount(features, minlength=n_features)
        dense_mask = counts > max(self.DENSE_SHARE * n_docs, 16)
        self.dense_features = np.flatnonzero(dense_mask)
        self.dense = np.zeros((len(self.dense_features), n_docs), dtype=np.float32)
        if len(self.dense_features):
            is_dense = dense_mask[features]
            row = np.searchsorted(self.dense_features, features[is_dense])
            np.add.at(self.dense, (row, docs[is_dense]), values[is_dense])
            del row
            np.logical_not(is_dense, out=is_dense)
            docs, features, values = docs[is_dense], features[is_dense], values[is_dense]
            counts[self.dense_features] = 0
            del is_dense
        del dense_mask
        order = np.argsort(features, kind="stable")
        self.docs = docs[order].astype(np.int32, copy=False)
        self.values = values[order].astype(np.float32, copy=False)
        del order
        self.indptr = np.zeros(n_features + 1, dtype=np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        self.n_docs = n_docs

    def dot(self, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """sum over the query's features of weight x value, for every document."""
        weights = np.asarray(weights, dtype=np.float64)
        starts = self.indptr[features]
        lengths = self.indptr[features + 1] - starts
        entries = _positions(starts, lengths)
        values = self.values[entries] * weights.repeat(lengths)
        result = np.bincount(self.docs[entries], values, minlength=self.n_docs)
        result = result.astype(np.float64, copy=False)  # bincount of nothing counts in int
        if len(self.dense_features) and len(features):
            row, hit = _find(self.dense_features, features)
            if hit.any():
                # In float32 like the rows: float64 weights would first copy them to float64.
                result += weights[hit].astype(np.float32) @ self.dense[row[hit]]
        return result

    def document_frequency(self) -> np.ndarray:
        """For every feature, the number of documents with a non-zero value."""
        df = np.diff(self.indptr)
        df[self.dense_features] = np.count_nonzero(self.dense, axis=1)
        return df


class _Builder:
    """Collects (document, feature, count) triples, then builds an ``_Index``."""

    def __init__(self) -> None:
        self.docs: list[np.ndarray] = []
        self.features: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def add(self, doc: int, features: np.ndarray, values: np.ndarray | float = 1.0) -> None:
        if len(features) == 0:
            return
        self.docs.append(np.full(len(features), doc, dtype=np.int32))
        self.features.append(np.asarray(features, dtype=np.int32))
        if isinstance(values, np.ndarray):
            self.values.append(values.astype(np.float32, copy=False))
        else:
            self.values.append(np.full(len(features), values, dtype=np.float32))

    def add_counts(self, doc: int, features: np.ndarray) -> None:
        """Add a document given as a bag of features (repeats counted)."""
        if len(features):
            unique, counts = np.unique(features, return_counts=True)
            self.add(doc, unique, counts.astype(np.float32))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.docs:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, np.zeros(0, dtype=np.float32)
        arrays = (
            np.concatenate(self.docs),
            np.concatenate(self.features),
            np.concatenate(self.values),
        )
        self.docs, self.features, self.values = [], [], []
        return arrays

    def plain(self, n_features: int, n_docs: int) -> _Index:
        """The index with the values as added."""
        return _Index(*self.arrays(), n_features, n_docs)

    def cosine(
        self, n_features: int, n_docs: int, max_share: float = 1.0
    ) -> tuple[_Index, np.ndarray]:
        """A TF-IDF index with unit-length documents, and the IDF of every feature."""
        docs, features, counts = self.arrays()
        df = np.bincount(features, minlength=n_features).astype(np.float32)
        idf = _idf(df, n_docs)
        idf[df > max(1.0, max_share * n_docs)] = 0.0
        keep = idf[features] > 0
        docs, features, counts = docs[keep], features[keep], counts[keep]
        weights = _unit_tf_idf(docs, features, counts, idf, n_docs)
        return _Index(docs, features, weights, n_features, n_docs), idf


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Smoothed inverse document frequency of every feature, from its document frequency."""
    return np.log((n_docs + 1) / (df + 0.5)).astype(np.float32)


def _unit_tf_idf(
    docs: np.ndarray, features: np.ndarray, counts: np.ndarray, idf: np.ndarray, n_docs: int
) -> np.ndarray:
    """(1 + log count) x IDF for every (document, feature) entry, each document scaled to
    unit length."""
    weights = (1 + np.log(counts.astype(np.float32))) * idf[features]
    norms = np.sqrt(np.bincount(docs, weights * weights, minlength=n_docs))
    weights /= np.maximum(norms, 1e-12)[docs].astype(np.float32)
    return weights


@dataclass(frozen=True)
class _Bayes:
    """A multinomial naive Bayes classifier over items, stored as an inverted index."""

    index: _Index
    """feature x item: log(1 + count / alpha), zero where the item never has the feature."""
    known: np.ndarray
    """Per feature: seen in some item's text (unseen query features are left out)."""
    offset: np.ndarray
    """Per item: log(total count + alpha x known features), subtracted once per query feature."""


def _bayes_model(
    n_items: int,
    n_terms: int,
    docs: Iterable[tuple[int, np.ndarray, float]],
    alpha: float,
) -> _Bayes | None:
    """Summed (sublinear) term counts per item from (item, term ids, weight) documents, given
    item by item.

    With smoothing alpha, log P(f | item) = log(count + alpha) - log(total + alpha x F); its
    log(alpha) part is the same for every item, so only the sparse log(1 + count / alpha) is kept.
    """
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    chunk: list[tuple[int, np.ndarray, float]] = []
    for _, group in groupby(docs, key=lambda doc: doc[0]):
        chunk.extend(group)
        if len(chunk) >= _BAYES_CHUNK_DOCS:
            parts.append(_bayes_counts(chunk, n_terms))
            chunk = []
    if chunk:
        parts.append(_bayes_counts(chunk, n_terms))
    if not parts or n_items == 0:
        return None
    items, features, counts = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    del parts
    known = np.zeros(n_terms, dtype=bool)
    known[features] = True
    totals = np.bincount(items, counts, minlength=n_items)
    return _Bayes(
        index=_Index(items, features, np.log1p(counts / alpha), n_terms, n_items),
        known=known,
        offset=np.log(totals + alpha * int(known.sum())),
    )


_BAYES_CHUNK_DOCS = 2048
"""Documents counted at once: whole items, so no (item, feature) pair is split across chunks."""


def _bayes_counts(
    chunk: Sequence[tuple[int, np.ndarray, float]], n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item, term, summed weight x (1 + log count in the document)) for a chunk of documents
    holding whole items, vectorised: two sorts instead of one per document."""
    lengths = np.fromiter((len(doc[1]) for doc in chunk), dtype=np.int64, count=len(chunk))
    doc = np.repeat(np.arange(len(chunk), dtype=np.int64), lengths)
    terms = np.concatenate([d[1] for d in chunk]).astype(np.int64)
    doc, terms, counts = _pairs(doc, terms, n_terms)
    weight = np.fromiter((d[2] for d in chunk), dtype=np.float64, count=len(chunk))
    values = weight[doc] * (1 + np.log(counts))
    items = np.fromiter((d[0] for d in chunk), dtype=np.int64, count=len(chunk))[doc]
    keys, inverse = np.unique(items * max(n_terms, 1) + terms, return_inverse=True)
    items, terms = np.divmod(keys, max(n_terms, 1))
    summed = np.bincount(inverse, values).astype(np.float32)
    return items.astype(np.int32), terms.astype(np.int32), summed


def _pair_keys(terms: np.ndarray) -> np.ndarray:
    """One int64 key per pair of adjacent term ids (first id in the high 32 bits)."""
    terms = np.asarray(terms, dtype=np.int64)
    return (terms[:-1] << 32) | terms[1:]


def _pair_model(
    phrasings: Sequence[np.ndarray], phrasing_item: np.ndarray, n_items: int, alpha: float
) -> tuple[np.ndarray, _Bayes | None]:
    """The sorted distinct pairs of adjacent terms in the items' phrasings (``_pair_keys``),
    and a naive Bayes classifier over them (feature = position in that array; a pair counts
    once per phrasing)."""
    lengths = np.fromiter((len(p) for p in phrasings), dtype=np.int64, count=len(phrasings))
    if len(phrasings) == 0 or n_items == 0:
        return np.zeros(0, dtype=np.int64), None
    terms = np.concatenate(phrasings).astype(np.int64)
    phrasing_of = np.repeat(np.arange(len(phrasings)), lengths)
    owner = phrasing_item[phrasing_of]
    same = (phrasing_of[:-1] == phrasing_of[1:]) & (owner[:-1] < n_items)
    keys = _pair_keys(terms)[same]
    if len(keys) == 0:
        return keys, None
    distinct, pair_ids = np.unique(keys, return_inverse=True)
    items, features, counts = _pairs(owner[:-1][same], pair_ids, len(distinct))
    totals = np.bincount(items, counts, minlength=n_items)
    model = _Bayes(
        index=_Index(items, features, np.log1p(counts / alpha), len(distinct), n_items),
        known=np.ones(len(distinct), dtype=bool),
        offset=np.log(totals + alpha * len(distinct)),
    )
    return distinct, model


def _trigram_keys(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The byte trigrams of each word marked at both ends ("#hvor#" -> "#hv", "hvo", ...), as
    exact 24-bit keys, and for each the position of its word: vectorised, no hashing.

    The marked words are read as one string with a space between them (words have neither
    "#" nor spaces); the trigrams that reach over a space are dropped.
    """
    if not words:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    data = np.frombuffer(("#" + "# #".join(words) + "#").encode(), dtype=np.uint8)
    space = data == 32
    keep = ~(space[:-2] | space[1:-1] | space[2:])
    data = data.astype(np.int64)
    keys = (data[:-2] << 16 | data[1:-1] << 8 | data[2:])[keep]
    return keys, space.cumsum()[:-2][keep]


class _SurfaceBuilder:
    """Collects texts as their words as written (folded; stop words and endings kept), then
    builds the ``_Surface`` index of their character trigrams, one document per text."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[np.ndarray] = []
        self.lengths: list[int] = []

    def add(self, texts: Iterable[list[str]]) -> None:
        """Add texts given as their words (each becomes one document, in order)."""
        texts = list(texts)
        ids = self.ids
        self.words.append(
            np.fromiter((ids.setdefault(w, len(ids)) for text in texts for w in text), np.int64)
        )
        self.lengths.extend(len(text) for text in texts)

    def index(self) -> _Surface:
        ids = self.ids
        words = np.concatenate(self.words) if self.words else np.zeros(0, dtype=np.int64)
        lengths = np.asarray(self.lengths, dtype=np.int64)
        self.ids, self.words, self.lengths = {}, [], []
        n_texts = len(lengths)
        bounds = np.zeros(n_texts + 1, dtype=np.int64)
        np.cumsum(lengths, out=bounds[1:])
        keys, key_word = _trigram_keys(list(ids))
        del ids
        known, compact = np.unique(keys, return_inverse=True)
        del keys
        word_grams = np.zeros(int(key_word.max(initial=-1)) + 2, dtype=np.int64)
        np.cumsum(np.bincount(key_word, minlength=len(word_grams) - 1), out=word_grams[1:])
        del key_word
        # Counted in chunks of texts: the (text, trigram) pairs of a large knowledge base at
        # once would take several times the finished index's memory.
        small = np.uint16 if len(known) <= 1 << 16 else np.int32
        parts = []
        df = np.zeros(len(known), dtype=np.int64)
        for first in range(0, n_texts, _SURFACE_CHUNK_TEXTS):
            last = min(first + _SURFACE_CHUNK_TEXTS, n_texts)
            positions, owner = _slices(word_grams, words[bounds[first] : bounds[last]])
            text_of = np.arange(last - first).repeat(lengths[first:last])[owner]
            rows, columns, counts = _pairs(text_of, compact[positions], len(known))
            df += np.bincount(columns, minlength=len(known))
            parts.append(
                (
                    rows.astype(np.int32),
                    columns.astype(small),
                    counts.astype(np.int32),
                    last - first,
                )
            )
        del words, compact, word_grams
        # Weighted chunk by chunk too (a text's entries are all in one chunk), so the pairs and
        # their weights are never all held at once in wide types.
        idf = _idf(df.astype(np.float32), n_texts)
        grams, values, sizes = [], [], []
        for rows, columns, counts, size in parts:
            values.append(_unit_tf_idf(rows, columns, counts, idf, size))
            sizes.append(np.bincount(rows, minlength=size))
            grams.append(columns)
        del parts
        starts = np.zeros(n_texts + 1, dtype=np.int64)
        if sizes:
            np.cumsum(np.concatenate(sizes), out=starts[1:])
        return _Surface(
            starts,
            np.concatenate(grams) if grams else np.zeros(0, small),
            np.concatenate(values) if values else np.zeros(0, np.float32),
            known,
            idf,
        )


_SURFACE_CHUNK_TEXTS = 4096
"""Texts whose trigrams are counted at once."""

_TEXT_CHUNK = 4096
"""Texts read (tokenised, then analysed) at once while indexing."""


@dataclass(frozen=True)
class _Surface:
    """TF-IDF vectors of character n-grams, one per phrasing, stored phrasing by phrasing
    (a forward index): only the phrasings of a few candidate items are ever compared, and an
    item's phrasings are one block of entries."""

    indptr: np.ndarray
    """Phrasing p's n-grams and weights are at [indptr[p], indptr[p + 1]) (never empty)."""
    grams: np.ndarray
    """Compact trigram ids (positions in ``known``)."""
    values: np.ndarray
    """Unit-length TF-IDF weights."""
    known: np.ndarray
    """The keys (``_trigram_keys``) of the trigrams found in some phrasing, ascending."""
    idf: np.ndarray
    """Per compact trigram id."""

    def best(self, grams: np.ndarray, firsts: np.ndarray, lasts: np.ndarray) -> np.ndarray:
        """For each group of consecutive phrasings [first, last) (an item's), the best cosine
        of one of them with a query (trigram keys, repeats kept)."""
        result = np.zeros(len(firsts))
        if len(self.known) == 0 or len(grams) == 0:
            return result
        keys, counts = _counted(grams)
        at, found = _find(self.known, keys)
        # A trigram no phrasing has adds to the query's length only, with the largest IDF.
        idf = np.where(found, self.idf[at], float(self.idf.max(initial=0.0)))
        weights = (1 + np.log(counts)) * idf
        query = np.zeros(len(self.known), dtype=np.float32)
        query[at[found]] = weights[found] / np.sqrt(weights @ weights)
        some = lasts > firsts
        firsts, lasts = firsts[some], lasts[some]
        low, high = self.indptr[firsts], self.indptr[lasts]
        blocks = list(zip(low.tolist(), high.tolist(), strict=True))
        products = np.concatenate([self.values[a:b] for a, b in blocks])
        products *= query[np.concatenate([self.grams[a:b] for a, b in blocks])]
        # Where each phrasing starts among the concatenated blocks.
        sizes, block_sizes = lasts - firsts, high - low
        shift = low - (block_sizes.cumsum() - block_sizes)
        starts = self.indptr[_positions(firsts, sizes)] - shift.repeat(sizes)
        cosines = np.add.reduceat(products, starts)
        result[some] = np.maximum.reduceat(cosines, sizes.cumsum() - sizes)
        return result


class _Maxima:
    """The maximum of each group of consecutive values (an item's phrasings), for values >= 0.

    ``np.maximum.reduceat`` pays per group. Up to ``FEW`` groups that is cheap and it is used
    alone; beyond, an item's first ``SLOTS`` values are read as one (slot, item) matrix and
    reduced over its columns, and only the values beyond them (items with many phrasings) go to
    ``reduceat`` (at 10,000 items: 0.1 ms instead of 0.23 ms).
    """

    SLOTS = 8
    FEW = 1024

    def __init__(self, bounds: np.ndarray) -> None:
        starts, sizes = bounds[:-1], np.diff(bounds)
        self.groups = len(starts)
        if self.groups <= self.FEW:
            self.slots = None
            self.reduced = np.flatnonzero(sizes)
            self.reduced_starts = starts[self.reduced]
            return
        slots = np.arange(self.SLOTS)[:, None]
        # Past an item's last value, a slot reads the zero appended after all the values.
        self.slots = np.where(slots < sizes, starts + slots, bounds[-1])
        self.reduced = np.flatnonzero(sizes > self.SLOTS)
        self.beyond, owner = _ranges(
            starts[self.reduced] + self.SLOTS, sizes[self.reduced] - self.SLOTS
        )
        self.reduced_starts = np.searchsorted(owner, np.arange(len(self.reduced)))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        if self.slots is None:
            best = np.zeros(self.groups)
            if len(self.reduced):
                best[self.reduced] = np.maximum.reduceat(values, self.reduced_starts)
            return best
        best = np.append(values, 0.0)[self.slots].max(axis=0, initial=0.0)
        if len(self.reduced):
            beyond = np.maximum.reduceat(values[self.beyond], self.reduced_starts)
            best[self.reduced] = np.maximum(best[self.reduced], beyond)
        return best


@dataclass(frozen=True)
class _Scores:
    """What the decision needs about one question."""

    combined: np.ndarray
    """Per item: similarity plus the weighted classifier probability, the best few reranked on
    the surface form; ranks and answers."""
    similarity: np.ndarray
    """Per item: the similarity blend alone. The classifier always spreads its probability over
    the items, even for a question about the canteen, so only this says whether anything fits."""
    negative: float
    """The similarity of the best out-of-scope example."""


@dataclass
class _Query:
    """A question's terms as the index sees them."""

    term_ids: np.ndarray  # known terms (typos and split compounds mapped)
    confidence: np.ndarray  # how sure each mapping is (1 for an exact term)
    unknown: int  # words the index does not know at all
    grams: np.ndarray  # hashed n-grams of every word, repeats kept
    surface: np.ndarray  # hashed n-grams of the words as written, repeats kept


class Matcher:
    """Matches questions against one knowledge base. Build once; ``match`` is fast and pure."""

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.weights = weights or Weights()
        self.safety = SafetyDetector(kb.safety)
        self.small_talk = SmallTalkDetector(kb.small_talk)
        self._build()

    # ----------------------------------------------------------------------------------------
    # Index
    # ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        # The out-of-scope examples are indexed as extra documents after the items (one each,
        # phrasing only): they share the vocabulary and the IDF but are never returned.
        self._n_items = len(self.kb.items)
        items = (
            *self.kb.items,
            *(Item("", "", text, "", ()) for text in self.kb.negatives),
        )
        w = self.weights
        base = Normalizer(self.kb.synonyms)
        tag_texts = [" ".join((*item.tags, item.category)).strip() for item in items]
        # Every text of every item: answer, tags, then the phrasings; read in chunks, so the
        # words of a large knowledge base are never all in memory at once.
        texts = [
            text
            for item, tags in zip(items, tag_texts, strict=True)
            for text in (item.answer, tags, *item.phrasings)
        ]
        is_phrasing = [
            flag for item in items for flag in (False, False, *[True] * len(item.phrasings))
        ]
        chunks = [
            (first, tokenise(texts[first : first + _TEXT_CHUNK]))
            for first in range(0, len(texts), _TEXT_CHUNK)
        ]
        del texts
        compounds = set().union(*(base.vocabulary(words) for _, words in chunks))
        self.normalizer = base.with_compounds(compounds)
        surface = _SurfaceBuilder()  # each phrasing's words as written
        text_terms: list[tuple[str, ...]] = []
        for first, words in chunks:
            terms = self.normalizer.analyse(words)
            if w.phrasing_grams:
                surface.add(
                    text
                    for at, text in enumerate(words.texts(), first)
                    if is_phrasing[at] and terms[at - first]
                )
            text_terms.extend(terms)
        del chunks, is_phrasing
        self._term_ids: dict[str, int] = {}
        term_ids = self._term_ids
        flat = np.fromiter(
            (term_ids.setdefault(t, len(term_ids)) for terms in text_terms for t in terms),
            dtype=np.int32,
        )
        ends = np.cumsum([len(terms) for terms in text_terms])
        del text_terms
        text_ids = np.split(flat, ends[:-1]) if len(ends) else []
        next_text = iter(range(len(text_ids)))

        n_items = len(items)
        bag, words, answers = _Builder(), _Builder(), _Builder()
        phrasing_terms: list[np.ndarray] = []
        phrasing_item: list[int] = []
        item_term_ids: list[np.ndarray] = []
        answer_term_ids: list[np.ndarray] = []
        subject_counts: Counter[int] = Counter()
        bayes_docs: list[tuple[int, np.ndarray, float]] = []
        for index, item in enumerate(items):
            answer_terms, tag_terms = text_ids[next(next_text)], text_ids[next(next_text)]
            item_terms = [tag_terms]
            for _ in item.phrasings:
                text = next(next_text)
                terms = text_ids[text]
                if len(terms):
                    phrasing_terms.append(terms)
                    phrasing_item.append(index)
                    item_terms.append(terms)
                    if index < self._n_items and w.bayes:
                        bayes_docs.append((index, terms, 1.0))
            if index < self._n_items and w.bayes:
                bayes_docs.append((index, answer_terms, w.bayes_answer))
                bayes_docs.append((index, tag_terms, w.bayes_answer))
            all_terms = np.concatenate(item_terms)
            item_term_ids.append(all_terms)
            answer_term_ids.append(answer_terms)
            weight = dict.fromkeys(answer_terms.tolist(), w.answer_term)
            weight.update(dict.fromkeys(tag_terms.tolist(), w.tag_term))
            weight.update(dict.fromkeys(all_terms[len(tag_terms) :].tolist(), 1.0))
            bag.add(
                index,
                np.fromiter(weight, dtype=np.int32, count=len(weight)),
                np.fromiter(weight.values(), dtype=np.float32, count=len(weight)),
            )
            words.add_counts(index, all_terms)
            if w.answer_words:
                answers.add_counts(index, answer_terms)
            if index < self._n_items:
                subject_counts.update(np.unique(all_terms).tolist())

        del text_ids
        self.normalizer.forget()  # every text is indexed: free its cached words before the rest
        n_terms = len(term_ids)
        self._terms = list(term_ids)
        self._phrasing_item = np.asarray(phrasing_item, dtype=np.int64)
        self._phrasings = _set_index(phrasing_terms, n_terms)
        self._pairs, self._pair_model = (
            _pair_model(phrasing_terms, self._phrasing_item, self._n_items, w.bayes_alpha)
            if w.bayes and w.bayes_pairs
            else (np.zeros(0, dtype=np.int64), None)
        )
        del phrasing_terms
        self._surface = surface.index() if w.phrasing_grams else None
        del surface
        self._bag = bag.plain(n_terms, n_items)
        df = self._bag.document_frequency().astype(np.float64)
        self._idf = np.log1p(max(n_items, 1) / np.maximum(df, 1))
        self._unknown_weight = float(self._idf.max(initial=1.0)) * w.unknown_idf
        self._phrasing_norm = self._phrasings.dot(np.arange(n_terms), self._idf)
        self._item_phrasings = np.searchsorted(self._phrasing_item, np.arange(n_items + 1))
        self._best_of = _Maxima(self._item_phrasings)  # per item: its best phrasing's score
        self._words, self._word_idf = words.cosine(n_terms, n_items)
        self._answers = answers.cosine(n_terms, n_items) if w.answer_words else None
        self._subject = (
            frozenset(
                term
                for phrase in self.kb.subject
                for term in self.normalizer.terms(phrase)
                if len(term) >= 3
            )
            if self.kb.subject
            else frozenset(
                self._terms[term]
                for term, count in subject_counts.items()
                if len(self._terms[term]) >= 3 and count >= w.subject_share * self._n_items
            )
        )

        # Character n-grams: computed once per distinct term, then summed per document.
        term_grams = [_gram_ids(term, w.gram_sizes) for term in self._terms]
        self._gram_indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum([len(grams) for grams in term_grams], out=self._gram_indptr[1:])
        self._gram_flat = np.concatenate(term_grams) if n_terms else np.zeros(0, dtype=np.int32)
        del term_grams
        self._bayes = _bayes_model(
            self._n_items,
            n_terms,
            (doc for doc in bayes_docs if len(doc[1])),
            w.bayes_alpha,
        )
        del bayes_docs
        item_grams, answer_grams = _Builder(), _Builder()
        for index in range(n_items):
            item_grams.add_counts(index, self._grams_of_ids(item_term_ids[index]))
            if w.answer_grams:
                answer_grams.add_counts(index, self._grams_of_ids(answer_term_ids[index]))
        del item_term_ids, answer_term_ids
        share = w.max_gram_share
        self._item_grams, self._item_gram_idf = item_grams.cosine(GRAM_BUCKETS, n_items, share)
        self._answer_grams = (
            answer_grams.cosine(GRAM_BUCKETS, n_items, share) if w.answer_grams else None
        )
        self._buckets = _typo_buckets(self._terms)
        self._lookups: dict[str, tuple[tuple[int, float], ...]] = {}

    def _surface_grams(self, question: str) -> np.ndarray:
        """The n-grams of the question's words as written (for ``phrasing_grams``)."""
        if self._surface is None:
            return _NONE
        return _trigram_keys(words_of(question[:MAX_QUERY_CHARS]))[0]

    def _grams_of_ids(self, term_ids: np.ndarray) -> np.ndarray:
        """The n-grams of known terms, term after term (repeats kept)."""
        starts = self._gram_indptr[term_ids]
        return self._gram_flat[_positions(starts, self._gram_indptr[term_ids + 1] - starts)]

    def _grams_of(self, terms: Iterable[str]) -> np.ndarray:
        """The n-grams of these terms (repeats kept, in no particular order)."""
        known, unknown = [], []
        for term in terms:
            term_id = self._term_ids.get(term)
            if term_id is None:
                unknown.append(_gram_ids(term, self.weights.gram_sizes))
            else:
                known.append(term_id)
        return np.concatenate([self._grams_of_ids(np.asarray(known, dtype=np.int64)), *unknown])

    # ----------------------------------------------------------------------------------------
    # Query
    # ----------------------------------------------------------------------------------------

    def _lookup(self, term: str) -> tuple[tuple[int, float], ...]:
        """The known terms a query term stands for: itself, a typo's target, or a split compound."""
        cached = self._lookups.get(term)
        if cached is not None:
            return cached
        known = self._term_ids.get(term)
        if known is not None:
            lookup: tuple[tuple[int, float], ...] = ((known, 1.0),)
        else:
            lookup = self._typo(term) or self._split(term) or ()
        if len(self._lookups) < 100_000:
            self._lookups[term] = lookup
        return lookup

    def _typo(self, term: str) -> tuple[tuple[int, float], ...]:
        """The closest known term of a similar length and the same first letter, if close enough."""
        if len(term) < 4:
            return ()
        cutoff = self.weights.typo_cutoff if len(term) >= 6 else max(self.weights.typo_cutoff, 85)
        best: tuple[str, float] | None = None
        for length in range(len(term) - 2, len(term) + 3):
            choices = self._buckets.get((term[0], length))
            if not choices:
                continue
            found = process.extractOne(
                term, choices, scorer=fuzz.ratio, score_cutoff=cutoff, processor=None
            )
            if found is not None and (best is None or found[1] > best[1]):
                best = (found[0], found[1])
        if best is None:
            return ()
        return ((self._term_ids[best[0]], best[1] / 100.0),)

    def _split(self, term: str) -> tuple[tuple[int, float], ...]:
        """A closed compound the index knows only as two words ("peerlon" -> "peer" + "lon")."""
        for cut in range(len(term) - 3, 2, -1):
            left, right = term[:cut], term[cut:]
            right_id = self._term_ids.get(right)
            if right_id is None:
                continue
            for head in (left, left[:-1] if left.endswith(("s", "e")) else None):
                left_id = self._term_ids.get(head) if head else None
                if left_id is not None:
                    return ((left_id, 0.9), (right_id, 0.9))
        return ()

    def _query(self, question: str) -> _Query | None:
        terms = dict.fromkeys(self.normalizer.terms(question[:MAX_QUERY_CHARS]))
        if not terms:
            return None
        mapped: dict[int, float] = {}
        unknown = 0
        for term in terms:
            lookup = self._lookup(term)
            if not lookup:
                unknown += 1
            for term_id, confidence in lookup:
                mapped[term_id] = max(mapped.get(term_id, 0.0), confidence)
        return _Query(
            term_ids=np.fromiter(mapped, dtype=np.int64, count=len(mapped)),
            confidence=np.fromiter(mapped.values(), dtype=np.float64, count=len(mapped)),
            unknown=unknown,
            grams=self._grams_of(terms),
            surface=self._surface_grams(question),
        )

    def on_topic(self, question: str) -> bool:
        """Does the question name a subject term (also inside a compound: "peeruddannelsen")?"""
        if not self._subject:
            return True
        return any(
            subject in term
            for term in self.normalizer.terms(question[:MAX_QUERY_CHARS])
            for subject in self._subject
        )

    def components(self, question: str) -> dict[str, np.ndarray]:
        """Every part of the similarity and the classifier for every item, then every
        out-of-scope example (safety not checked; ``phrasing_grams``, which only reranks, not
        included); empty if no terms."""
        return self._parts(self._query(question))

    def _parts(self, query: _Query | None) -> dict[str, np.ndarray]:
        n_items = len(self._item_phrasings) - 1
        if query is None or n_items == 0 or len(self._phrasing_item) == 0:
            return {}
        if len(query.term_ids) == 0 and len(query.grams) == 0:
            return {}
        weights = self._idf[query.term_ids] * query.confidence
        total = float(weights.sum()) + query.unknown * self._unknown_weight
        # Phrasing overlap: IDF-weighted Dice between the query and each phrasing.
        dice = 2 * self._phrasings.dot(query.term_ids, weights) / (total + self._phrasing_norm)
        grams, counts = _counted(query.grams)
        parts = {
            "phrasing": self._best_of(dice),
            "coverage": self._bag.dot(query.term_ids, weights) / max(total, 1e-12),
            "item_words": _cosine(self._words, self._word_idf, query.term_ids, query.confidence),
            "item_grams": _cosine(self._item_grams, self._item_gram_idf, grams, counts),
        }
        if self._answer_grams is not None:
            parts["answer_grams"] = _cosine(*self._answer_grams, grams, counts)
        if self._answers is not None:
            parts["answer_words"] = _cosine(*self._answers, query.term_ids, query.confidence)
        if self._bayes is not None:
            bayes = np.zeros(n_items)
            bayes[: self._n_items] = self._bayes_probabilities(query.term_ids, query.confidence)
            parts["bayes"] = bayes
        return parts

    def _bayes_probabilities(self, term_ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The classifier's probability of every item (a softmax, so they sum to 1), the
        term-pair classifier's log-likelihood (``term_ids`` in question order) added in."""
        model = self._bayes
        assert model is not None
        known = model.known[term_ids]
        features, weights = term_ids[known], weights[known]
        if len(features) == 0:
            return np.zeros(self._n_items)
        log_likelihood = model.index.dot(features, weights) - float(weights.sum()) * model.offset
        if self._pair_model is not None and len(term_ids) > 1:
            keys = _pair_keys(term_ids)
            at, found = _find(self._pairs, keys)
            pairs = at[found]
            if len(pairs):
                ones = np.ones(len(pairs))
                pair_model = self._pair_model
                log_likelihood += self.weights.bayes_pairs * (
                    pair_model.index.dot(pairs, ones) - len(pairs) * pair_model.offset
                )
        z = log_likelihood / self.weights.bayes_temperature
        z = np.exp(z - z.max())
        return z / z.sum()

    def scores(self, question: str) -> np.ndarray:
        """The score in [0, 1] of every item for ``question`` (safety not checked): the
        similarity blend plus the weighted classifier probability; it ranks the items."""
        return self._score(question).combined

    def _score(self, question: str) -> _Scores:
        """Every item's score and similarity, and the best out-of-scope example's similarity."""
        n_items = self._n_items
        query = self._query(question)
        parts = self._parts(query)
        if query is None or not parts:
            return _Scores(np.zeros(n_items), np.zeros(n_items), 0.0)
        w = self.weights
        blend = {
            "phrasing": w.phrasing,
            "coverage": w.coverage,
            "item_words": w.item_words,
            "item_grams": w.item_grams,
            "answer_grams": w.answer_grams,
            "answer_words": w.answer_words,
        }
        total = sum(blend.values()) or 1.0
        blended = sum(weight * parts[name] for name, weight in blend.items() if name in parts)
        similarity = blended / total
        # An example has no answer text: its score is blended over the parts it can have.
        answer = sum(blend[name] for name in ("answer_grams", "answer_words") if name in parts)
        similarity[n_items:] *= total / max(total - answer, 1e-12)
        own = float(parts["phrasing"][:n_items].max(initial=0.0))
        factor = w.off_topic if own < w.own_phrasing and not self.on_topic(question) else 1.0
        similarity = _unit(similarity * factor)
        bayes = factor * w.bayes * parts["bayes"][:n_items] if "bayes" in parts else 0.0
        combined = _unit(similarity[:n_items] + bayes)
        if self._surface is not None and len(query.surface):
            # Rerank the best few on the surface form, the blend's weight for it added.
            count = min(w.rerank, n_items)
            best = np.argpartition(-combined, count - 1)[:count]
            surface = np.zeros(n_items)
            surface[best] = self._surface_scores(query.surface, best)
            reranked = (blended[:n_items] + w.phrasing_grams * surface) / (total + w.phrasing_grams)
            combined = _unit(_unit(reranked * factor) + bayes)
        return _Scores(combined, similarity[:n_items], float(similarity[n_items:].max(initial=0.0)))

    def _surface_scores(self, grams: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Per item of ``items``: the surface cosine of its best phrasing with the question."""
        assert self._surface is not None
        bounds = self._item_phrasings
        return self._surface.best(grams, bounds[items], bounds[items + 1])

    def ranked(self, question: str, limit: int = 10) -> list[tuple[Item, float]]:
        """The best items with their scores, best first (safety not checked)."""
        best = self._ranked(self.scores(question), limit)
        return [(self.kb.items[i], score) for i, score in best]

    def _ranked(self, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Indices and rounded scores of the best items, best first (ties by item id)."""
        if not len(scores):
            return []
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else None
        candidates = top if top is not None else np.arange(len(scores))
        results = [(int(i), round(float(scores[i]), 4)) for i in candidates if scores[i] > 0]
        results.sort(key=lambda pair: (-pair[1], self.kb.items[pair[0]].id))
        return results[:limit]

    def match(self, question: str) -> Result:
        """Decide what to do with one question. Never raises on any string."""
        if not isinstance(question, str):
            question = str(question)
        level = self.safety.assess(question[:SAFETY_MAX_CHARS])
        if level is SafetyLevel.ACUTE:
            return Result(question, Status.SAFETY, None, 1.0, ())
        if level is SafetyLevel.NONE and (talk := self.small_talk.detect(question)) is not None:
            return with_small_talk(question, talk, self._decide)
        result = self._decide(question)
        return replace(result, safety_note=True) if level is SafetyLevel.NOTE else result

    def _decide(self, question: str) -> Result:
        """The answer, clarify or no-match decision for a message that is not acute."""
        scores = self._score(question[:MAX_QUERY_CHARS])
        best = self._ranked(scores.combined, 4)
        ranked = [(self.kb.items[i], score) for i, score in best]
        if not ranked:
            return self._scoped(decide(question, ranked, self.thresholds))
        evidence = float(scores.similarity[best[0][0]])
        th = self.thresholds
        if (
            scores.negative > 0
            and evidence < th.negative_below
            and scores.negative >= evidence + th.negative_margin
        ):
            item, score = ranked[0]
            return Result(question, Status.NO_MATCH, item, score, (), off_topic=True)
        return self._scoped(decide(question, ranked, th, evidence))

    def _scoped(self, result: Result) -> Result:
        """A no_match for a question that names no subject word is off topic."""
        if result.status is Status.NO_MATCH and not self.on_topic(result.question):
            return replace(result, off_topic=True)
        return result


def _set_index(docs: Sequence[np.ndarray], n_features: int) -> _Index:
    """An index of documents given as feature arrays, each feature once per document (value 1)."""
    lengths = np.fromiter((len(doc) for doc in docs), dtype=np.int64, count=len(docs))
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    features = np.concatenate(docs).astype(np.int64) if docs else np.zeros(0, dtype=np.int64)
    doc_of, features, _ = _pairs(doc_of, features, n_features)
    values = np.ones(len(features), dtype=np.float32)
    return _Index(doc_of.astype(np.int32), features, values, n_features, len(docs))


def _unit(scores: np.ndarray) -> np.ndarray:
    """``scores`` clipped to [0, 1], in place (``np.clip`` costs more in Python than in C)."""
    return np.minimum(np.maximum(scores, 0.0, out=scores), 1.0, out=scores)


def _cosine(index: _Index, idf: np.ndarray, features: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cosine of a query (features with counts) with every document of a TF-IDF index."""
    if len(features) == 0:
        return np.zeros(index.n_docs)
    weights = (1 + np.log(np.maximum(counts, 1e-12))) * idf[features]
    norm = float(np.sqrt((weights * weights).sum()))
    if norm == 0:
        return np.zeros(index.n_docs)
    return index.dot(features, weights / norm)


def _typo_buckets(terms: Sequence[str]) -> dict[tuple[str, int], list[str]]:
    """Known terms of four letters or more by (first letter, length): typo candidates."""
    buckets: dict[tuple[str, int], list[str]] = {}
    for term in terms:
        if len(term) >= 4:
            buckets.setdefault((term[0], len(term)), []).append(term)
    return buckets


def with_small_talk(question: str, talk: SmallTalk, decide: Callable[[str], Result]) -> Result:
    """Small talk's own result; a question in another language keeps the engine's best items,
    but as suggestions only (its words are not understood well enough to answer it outright)."""
    if not talk.foreign:
        return Result(question, Status.SMALLTALK, None, 1.0, (), small_talk=talk)
    result = replace(decide(question), small_talk=talk)
    if result.status is Status.ANSWERED and result.item is not None:
        suggestion = Suggestion(result.item, result.score)
        return replace(result, status=Status.CLARIFY, suggestions=(suggestion,))
    return result


def decide(
    question: str,
    ranked: Sequence[tuple[Item, float]],
    thresholds: Thresholds,
    evidence: float | None = None,
) -> Result:
    """The four-way decision (safety aside) from items ranked best first.

    ``evidence`` is how well the best item's words match the question (its similarity without
    the classifier; the best score when not given): below ``clarify`` nothing fits.
    """
    if not ranked:
        return Result(question, Status.NO_MATCH, None, 0.0, ())
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    best_score = round(best_score, 4)
    fits = (best_score if evidence is None else round(evidence, 4)) >= thresholds.clarify
    if not fits:
        return Result(question, Status.NO_MATCH, best, best_score, ())
    if best_score >= thresholds.answer and best_score - runner_up >= thresholds.margin:
        return Result(question, Status.ANSWERED, best, best_score, ())
    floor = max(thresholds.clarify, best_score - thresholds.suggest_window)
    suggestions = tuple(
        Suggestion(item, round(score, 4))
        for item, score in ranked[: thresholds.max_suggestions]
        if score >= floor or item is best
    )
    return Result(question, Status.CLARIFY, best, best_score, suggestions)
