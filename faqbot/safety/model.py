"""The crisis classifier: a logistic regression over a sentence's words, word pairs and letter
n-grams, trained when the knowledge base loads on ``safety_examples.yaml``.

Features of a sentence: each distinct word (``w:``), each distinct pair of neighbouring words
(``b:``; not two function words together), each word's letter 4- and 5-grams with ``<`` and ``>``
marking its ends (``c:``; they carry inflections, compounds and typos), and ``g:question`` /
``g:exclaims`` for how it ends. A function word (``FUNCTION_WORDS``) has no ``w:`` or ``c:``
features: it counts only in its pairs with a content word ("reagerer ikke", "skyde mig"). A
word or pair said twice counts once, so repeating a word cannot push the score anywhere. With
``n(f)`` the count of ``w:``, ``b:`` and ``c:`` feature ``f`` (a letter n-gram shared by two words
counts twice) and ``N`` their total, the sentence is the vector ``x_f = n(f) / sqrt(N)``, plus
1 for each ``g:`` mark, and

    P(acute | x) = 1 / (1 + exp(-(b + sum_f w_f * x_f)))

``w`` and ``b`` minimise the mean log loss plus ``L2 / 2 * |w|^2``, found by Nesterov's
accelerated gradient descent from zero for a fixed number of steps (step 1/L, L from a power
iteration): the same examples always give the same model.

The examples are whole messages, the classifier judges sentences (multiple-instance learning, in
two rounds): every sentence of a non-acute message is a non-acute example; an acute message first
counts with all its sentences, each weighted by one over their number, then with only the sentence
that round made most acute (the others may be ordinary words around the crisis).

Because the score is linear, each distinct word's share (its ``w:`` and ``c:`` weights, and how
many features it adds) is computed once and remembered, so a sentence costs a look-up per word
and per word pair; ``probability_reference`` (from ``features``, the whole vector) is the slow,
obvious twin the tests compare it with.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from faqbot.safety.remembered import Remembered

L2 = 2e-4
"""Regularisation strength."""
STEPS = 200
"""Gradient steps while training..."""
FIRST_STEPS = 80
"""...and in the first round, which only picks each acute message's most acute sentence."""
EVIDENCE = 30.0
"""Added to a sentence's feature total before scaling: a sentence of a word or two weighs less
than a full one (it says less), so "tak" or "ikke" alone cannot look sure."""
POWER_STEPS = 20
"""Power-iteration steps that size the gradient step."""
NGRAMS = (4, 5)
"""Letter n-gram lengths."""


_FUNCTION_TEXT = """
jeg du han hun den det vi i de dem ham hende mig dig os jer sig man min mit mine din dit dine hans
hendes sin sit sine vores jeres deres er var har havde have haft vare varet bliver blive blev blevet
kan kunne vil ville skal skulle ma matte gor gore gjorde gjort far fa fik faet en et og eller men at
som pa til fra med af for om over under efter ved hos mod da nar hvis fordi sa ogsa jo nok bare lidt
meget der her denne dette disse noget nogen nogle ikke ik ikk ej endnu lige
"""
FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
"""Folded function words: they add no word or letter n-gram features of their own, only the
pairs they form with a content word ("skyde mig", "reagerer ikke"). Otherwise "han har ikke"
would lean acute only because most crises are statements and most ordinary examples questions,
and "han har taget fri i morgen" would read as a crisis."""


def word_features(word: str) -> list[str]:
    """The features one word adds wherever it occurs: itself and its letter n-grams (none for a
    function word)."""
    if word in FUNCTION_WORDS:
        return []
    marked = f"<{word}>"
    grams = [f"c:{marked[i : i + n]}" for n in NGRAMS for i in range(max(1, len(marked) - n + 1))]
    return [f"w:{word}", *grams]


_FUNCTION_PAIRS = frozenset(itertools.product(FUNCTION_WORDS, repeat=2))


def pairs(words: Sequence[str]) -> set[tuple[str, str]]:
    """The distinct pairs of neighbouring words, but not two function words together."""
    return set(itertools.pairwise(words)).difference(_FUNCTION_PAIRS)


def features(words: Sequence[str], marks: Iterable[str]) -> dict[str, float]:
    """The feature vector of a sentence (module docstring): its distinct words' and distinct
    pairs' feature counts scaled by one over the square root of their total, 1.0 per mark."""
    counts: Counter[str] = Counter()
    for word in dict.fromkeys(words):
        counts.update(word_features(word))
    counts.update({f"b:{a}_{b}" for a, b in pairs(words)})
    total = sum(counts.values())
    vector = {name: count / math.sqrt(total + EVIDENCE) for name, count in counts.items()}
    vector.update((f"g:{mark}", 1.0) for mark in marks)
    return vector


@dataclass(frozen=True)
class Text:
    """One text the classifier reads: its words and its ``g:`` marks."""

    words: tuple[str, ...]
    marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bag:
    """A labelled message: its sentences, and whether the message is acute."""

    sentences: tuple[Text, ...]
    acute: bool
    weight: float = 1.0
    """How much the message counts in training (an ordinary question of the knowledge base
    counts less than a written example)."""

    @property
    def whole(self) -> Text:
        """The message as one text."""
        return Text(
            tuple(word for text in self.sentences for word in text.words),
            tuple(sorted({mark for text in self.sentences for mark in text.marks})),
        )


class _Data:
    """The training sentences as sparse arrays. A sentence's word and n-gram features are its
    words' features, so the data is kept as two sparse products: sentence x distinct word
    (scaled counts) and distinct word x feature, plus the pairs and marks of each sentence; a
    gradient step costs a few ``bincount`` calls over them."""

    def __init__(self, texts: Sequence[Text]) -> None:
        vocabulary: dict[str, int] = {}
        word_index: dict[str, int] = {}
        word_sizes: list[int] = []
        word_rows: list[int] = []  # distinct word -> its features
        word_columns: list[int] = []
        word_counts: list[float] = []
        text_rows: list[int] = []  # sentence -> its distinct words, scaled
        text_words: list[int] = []
        text_values: list[float] = []
        direct_rows: list[int] = []  # sentence -> its pairs (scaled) and marks (1.0)
        direct_columns: list[int] = []
        direct_values: list[float] = []
        for row, text in enumerate(texts):
            named = Counter({f"b:{a}_{b}" for a, b in pairs(text.words)})
            total = sum(named.values())
            words = Counter(dict.fromkeys(text.words, 1))
            for word, count in words.items():
                if word not in word_index:
                    word_index[word] = len(word_index)
                    names = word_features(word)
                    word_sizes.append(len(names))
                    for name, times in Counter(names).items():
                        word_rows.append(word_index[word])
                        word_columns.append(vocabulary.setdefault(name, len(vocabulary)))
                        word_counts.append(float(times))
                total += count * word_sizes[word_index[word]]
            scale = 1.0 / math.sqrt(total + EVIDENCE)
            for word, count in words.items():
                text_rows.append(row)
                text_words.append(word_index[word])
                text_values.append(count * scale)
            for name, count in named.items():
                direct_rows.append(row)
                direct_columns.append(vocabulary.setdefault(name, len(vocabulary)))
                direct_values.append(count * scale)
            for mark in set(text.marks):
                direct_rows.append(row)
                direct_columns.append(vocabulary.setdefault(f"g:{mark}", len(vocabulary)))
                direct_values.append(1.0)
        self.names = sorted(vocabulary, key=vocabulary.__getitem__)
        self.wr, self.wc = np.array(word_rows, dtype=np.int64), np.array(word_columns, np.int64)
        self.wv = np.array(word_counts)
        self.tr, self.tw = np.array(text_rows, dtype=np.int64), np.array(text_words, np.int64)
        self.tv = np.array(text_values)
        self.dr, self.dc = np.array(direct_rows, np.int64), np.array(direct_columns, np.int64)
        self.dv = np.array(direct_values)
        self.n, self.d, self.u = len(texts), len(vocabulary), len(word_index)

    def scores(self, w: np.ndarray, b: float) -> np.ndarray:
        """X w + b."""
        per_word = np.bincount(self.wr, weights=self.wv * w[self.wc], minlength=self.u)
        z = np.bincount(self.tr, weights=self.tv * per_word[self.tw], minlength=self.n)
        return z + np.bincount(self.dr, weights=self.dv * w[self.dc], minlength=self.n) + b

    def transposed(self, error: np.ndarray) -> np.ndarray:
        """X' error."""
        per_word = np.bincount(self.tw, weights=self.tv * error[self.tr], minlength=self.u)
        g = np.bincount(self.wc, weights=self.wv * per_word[self.wr], minlength=self.d)
        return g + np.bincount(self.dc, weights=self.dv * error[self.dr], minlength=self.d)

    def fit(
        self, labels: Sequence[bool], sample: Sequence[float], steps: int
    ) -> tuple[np.ndarray, float]:
        """The weights and bias minimising the sample-weighted mean log loss plus the L2 term."""
        y = np.array([1.0 if label else 0.0 for label in labels])
        s = np.array(sample) / float(np.sum(sample))
        # The step is 1 / L, L the gradient's Lipschitz constant: 0.25 * the largest eigenvalue
        # of X' S X (S the sample weights, bias column included), by power iteration from ones.
        vector, bias_part, largest = np.ones(self.d), 1.0, 1.0
        for _ in range(POWER_STEPS):
            z = self.scores(vector, bias_part) * s
            vector, bias_part = self.transposed(z), float(z.sum())
            largest = math.sqrt(float(vector @ vector) + bias_part**2)
            vector, bias_part = vector / largest, bias_part / largest
        step = 1.0 / (0.25 * largest + L2)
        w, b = np.zeros(self.d), 0.0
        w_prev, b_prev = w.copy(), b
        for k in range(1, steps + 1):
            momentum = (k - 1) / (k + 2)
            w_look = w + momentum * (w - w_prev)
            b_look = b + momentum * (b - b_prev)
            error = (1.0 / (1.0 + np.exp(-self.scores(w_look, b_look))) - y) * s
            w_prev, b_prev = w, b
            w = w_look - step * (self.transposed(error) + L2 * w_look)
            b = b_look - step * float(error.sum())
        return w, b


class Classifier:
    """Logistic regression over sentences, trained on construction (see the module docstring)."""

    def __init__(self, bags: Sequence[Bag]) -> None:
        self.weights: dict[str, float] = {}
        self.bias = 0.0
        self._pairs: dict[tuple[str, str], float] = {}
        """(word, next word) -> the pair's weight."""
        self._weight = Remembered(self._word_weight)
        """Word -> the summed weight of its ``w:`` and ``c:`` features."""
        self._size = Remembered(lambda word: len(word_features(word)))
        """Word -> how many features it adds."""
        bags = [bag for bag in bags if bag.sentences]
        if len({bag.acute for bag in bags}) < 2:
            return
        texts = [text for bag in bags for text in bag.sentences]
        labels = [bag.acute for bag in bags for _ in bag.sentences]
        owners = [number for number, bag in enumerate(bags) for _ in bag.sentences]
        weights = [bags[owner].weight for owner in owners]
        data = _Data(texts)
        # Round 1: every sentence of an acute message counts as acute, each message as one.
        sizes = Counter(owners)
        shares = [weight / sizes[owner] for weight, owner in zip(weights, owners, strict=True)]
        first = data.fit(labels, shares, FIRST_STEPS)
        # Round 2: of an acute message, only its most acute sentence (by round 1) counts.
        z = data.scores(*first)
        best: dict[int, int] = {}
        for row, owner in enumerate(owners):
            if labels[row] and (owner not in best or z[row] > z[best[owner]]):
                best[owner] = row
        chosen = set(best.values())
        sample = [
            0.0 if labels[row] and row not in chosen else weights[row] for row in range(len(texts))
        ]
        w, self.bias = data.fit(labels, sample, STEPS)
        self.weights = {name: float(weight) for name, weight in zip(data.names, w, strict=True)}
        for name, weight in self.weights.items():
            if name.startswith("b:"):
                pair = name[2:].split("_", 1)
                self._pairs[(pair[0], pair[1])] = weight

    @property
    def trained(self) -> bool:
        return bool(self.weights)

    def _word_weight(self, word: str) -> float:
        weights = self.weights
        return sum(weights.get(name, 0.0) for name in word_features(word))

    def lean(self, words: Sequence[str]) -> float:
        """The summed weight of the words' own features: a cheap sign of how acute a sentence
        reads (0.0 when untrained)."""
        return sum(map(self._weight.__getitem__, words)) if self.weights else 0.0

    def probability(self, words: Sequence[str], marks: Iterable[str]) -> float:
        """P(acute) of a sentence from its words and marks; 0.5 when untrained. The same sum
        as ``probability_reference``, from remembered per-word shares (C loops only)."""
        if not self.trained:
            return 0.5
        distinct = dict.fromkeys(words)
        found = pairs(words)
        total = sum(map(self._weight.__getitem__, distinct))
        total += sum(map(self._pairs.get, found, repeat(0.0)))
        count = sum(map(self._size.__getitem__, distinct)) + len(found)
        z = self.bias + total / math.sqrt(count + EVIDENCE)
        weights = self.weights
        z += sum(weights.get(f"g:{mark}", 0.0) for mark in set(marks))
        return 1.0 / (1.0 + math.exp(-z))

    def probability_reference(self, words: Sequence[str], marks: Iterable[str]) -> float:
        """The same probability from the full feature vector (slow; for tests)."""
        if not self.trained:
            return 0.5
        vector = features(words, marks)
        z = self.bias + sum(self.weights.get(name, 0.0) * x for name, x in vector.items())
        return 1.0 / (1.0 + math.exp(-z))
