"""One function per signal: how well each item fits a question, each in [0, 1].

Three signals earned their place (each cost at least a point of answered-right on the held-out
set when left out): the best phrasing's overlap of terms (which phrasing is the question like?),
the naive Bayes classifier (which item's words, taken together, make the question likeliest?),
and the surface form (the words as written, stop words and endings kept). Coverage of the
question's words, the items' term trigrams and the answer text were tried and left out: none
cost a point when removed. ``score`` blends the signals into the one ranking score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from faqbot.matcher.index import FloatArray, Index, IntArray, TfIdfIndex
from faqbot.matcher.query import Features, Query

BAYES_TEMPERATURE = 2.0
"""The classifier's log-likelihoods are divided by this before the softmax (flatter)."""


def phrasing(index: Index, query: Query) -> FloatArray:
    """The best phrasing's IDF-weighted Dice overlap of terms (``phrasing_overlaps``)."""
    return best_per_item(phrasing_overlaps(index, query), index.phrasings.item_bounds)


def phrasing_overlaps(index: Index, query: Query) -> FloatArray:
    """Every phrasing's IDF-weighted Dice overlap of terms: 2 |q & p| / (|q| + |p|), where |x|
    sums the IDF of x's terms (an unknown query word weighs the largest IDF)."""
    weights = index.idf[query.known.ids] * query.known.weights
    overlap = index.phrasings.phrasings.dot(query.known.ids, weights)
    dice: FloatArray = 2 * overlap / (query.mass + index.phrasings.phrasing_mass)
    return dice


def bayes(index: Index, query: Query) -> FloatArray:
    """The naive Bayes probability of every item over its terms and adjacent term pairs (a
    softmax: they sum to 1, even for a question about the canteen, so it ranks but never says
    whether anything fits)."""
    model = index.bayes
    known = model.known[query.known.ids]
    ids = np.concatenate([query.known.ids[known], query.pairs])
    weights = np.concatenate([query.known.weights[known], np.ones(len(query.pairs))])
    if len(ids) == 0:
        return np.zeros(model.index.n_docs)
    log_likelihood = model.index.dot(ids, weights) - weights.sum() * model.offset
    z = np.exp((log_likelihood - log_likelihood.max()) / BAYES_TEMPERATURE)
    probabilities: FloatArray = z / z.sum()
    return probabilities


def surface(index: Index, query: Query) -> FloatArray:
    """The best phrasing's TF-IDF cosine of character trigrams of the words as written (stop
    words and endings kept: "hvor mange timer", "må hun"), which terms cannot see."""
    cosines = cosine(index.surface.tf_idf, query.surface)
    return best_per_item(cosines, index.phrasings.item_bounds)


def negative(index: Index, query: Query) -> float:
    """The best out-of-scope example's Dice overlap with the question (as ``phrasing``)."""
    negatives = index.phrasings
    if negatives.negatives.n_docs == 0:
        return 0.0
    weights = index.idf[query.known.ids] * query.known.weights
    overlap = negatives.negatives.dot(query.known.ids, weights)
    dice = 2 * overlap / (query.mass + negatives.negative_mass)
    return float(dice.max())


def coverage(index: Index, query: Query, item: int) -> float:
    """The share of the question's term mass (``Query.mass``) that is among ``item``'s
    phrasings' and tags' terms."""
    vocabulary = index.vocabulary
    bounds = index.phrasings.item_bounds
    own = set(vocabulary.tags[item]).union(*vocabulary.phrasings[bounds[item] : bounds[item + 1]])
    found = [at for at, term in enumerate(query.known.ids.tolist()) if term in own]
    covered = index.idf[query.known.ids[found]] * query.known.weights[found]
    return float(covered.sum()) / query.mass


def unknown(index: Index, query: Query) -> float:
    """The share of the question's term mass (``Query.mass``) that no item has in its
    phrasings, tags or answer: words unknown to the index, and words only the out-of-scope
    examples use."""
    ids = query.known.ids
    in_items = index.bayes.known[ids]  # the terms come first among the classifier's features
    found = float((index.idf[ids] * query.known.weights * in_items).sum())
    return 1.0 - found / query.mass


TERM_ODDS_PRIOR = 0.5
"""Added to each count in ``term_odds`` (a term seen in neither still has finite odds)."""


def term_odds(index: Index) -> FloatArray:
    """Per term: the log odds that an out-of-scope example rather than a phrasing has it,
    log((out + a) / (examples + 2a)) - log((in + a) / (phrasings + 2a)), counting the examples
    and phrasings that have the term (the inverted indexes' row lengths)."""
    prior = TERM_ODDS_PRIOR
    phrasings, negatives = index.phrasings.phrasings, index.phrasings.negatives
    inside = np.diff(phrasings.indptr) + prior
    outside = np.diff(negatives.indptr) + prior
    odds: FloatArray = np.log(outside / (negatives.n_docs + 2 * prior)) - np.log(
        inside / (phrasings.n_docs + 2 * prior)
    )
    return odds


def word_odds(index: Index, odds: FloatArray, query: Query) -> float:
    """The question's terms' log odds (``term_odds``), weighted by their IDF mass over the
    question's whole mass (a word the index does not know adds mass but no odds)."""
    ids = query.known.ids
    weighted = float((odds[ids] * index.idf[ids] * query.known.weights).sum())
    return weighted / query.mass


SIGNALS: Mapping[str, Callable[[Index, Query], FloatArray]] = {
    "phrasing": phrasing,
    "bayes": bayes,
    "surface": surface,
}


@dataclass(frozen=True)
class Weights:
    """How much each signal counts in the ranking score (a weighted mean)."""

    phrasing: float = 1.0
    bayes: float = 3.0
    surface: float = 4.0

    def of(self, name: str) -> float:
        value: float = getattr(self, name)
        return value


def score(signals: Mapping[str, FloatArray], weights: Weights) -> FloatArray:
    """The ranking score of every item: the weighted mean of its signals, in [0, 1]."""
    total = sum(weights.of(name) for name in signals)
    blended = sum(weights.of(name) * values for name, values in signals.items())
    return np.clip(np.asarray(blended, dtype=np.float64) / (total or 1.0), 0.0, 1.0)


# --------------------------------------------------------------------------------------------


def cosine(model: TfIdfIndex, features: Features) -> FloatArray:
    """Cosine of a query (counted features) with every unit-length document; a feature no
    document has adds to the query's length with the largest IDF."""
    if len(features.ids) == 0:
        return np.zeros(model.index.n_docs)
    weights = (1 + np.log(features.weights)) * model.idf[features.ids]
    unseen = features.unknown * float(model.idf.max(initial=0.0)) ** 2
    norm = float(np.sqrt((weights * weights).sum() + unseen))
    if norm == 0:
        return np.zeros(model.index.n_docs)
    return model.index.dot(features.ids, weights / norm)


def best_per_item(values: FloatArray, bounds: IntArray) -> FloatArray:
    """The largest of each item's values (its phrasings are ``[bounds[i], bounds[i + 1])``)."""
    best = np.zeros(len(bounds) - 1)
    some = np.flatnonzero(np.diff(bounds))
    if len(some):
        best[some] = np.maximum.reduceat(values, bounds[some])
    return best
