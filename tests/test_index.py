"""The index build equals a plain, obvious reference build: every text through the normaliser
one at a time, terms, pairs, words and trigrams numbered by dict loops, every count kept in a
dict per document. Only the formulas that turn counts into weights (``build_tf_idf_index``,
``bayes_of_counts``, the IDF line) and the inverted layout (``sparse_index``, checked against
a plain loop in test_matcher.py) are shared, so every array must be equal to the last bit, and
with it every score; the engine's results on every eval.yaml question are compared too."""

import copy
import dataclasses
import itertools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from faqbot import kb
from faqbot.matcher import Matcher
from faqbot.matcher import index as index_module
from faqbot.matcher.engine import groups_of_phrasings
from faqbot.matcher.index import (
    BAYES_ANSWER,
    Entries,
    GramIndex,
    Index,
    PhrasingIndex,
    Vocabulary,
    bayes_of_counts,
    build_index,
    build_tf_idf_index,
    sparse_index,
    trigrams,
)
from faqbot.text import Normalizer, tokenise

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def reference_index(knowledge: kb.KnowledgeBase) -> Index:
    """The index built the plain way, text by text and document by document."""
    base = Normalizer(knowledge.synonyms)
    owners = [
        (at, text)
        for at, item in enumerate(knowledge.items)
        for text in knowledge.indexed_phrasings(item)
    ]
    n_phrasings, n_items = len(owners), len(knowledge.items)
    texts = [text for _, text in owners] + [item.answer for item in knowledge.items]
    texts += [" ".join((*item.tags, item.category)) for item in knowledge.items]
    texts += knowledge.indexed_negatives
    normalizer = base.with_compounds(base.vocabulary(tokenise(texts)))
    term_ids: dict[str, int] = {}
    as_ids = []
    for text in texts:
        terms = normalizer.terms(text)
        for term in terms:
            term_ids.setdefault(term, len(term_ids))
        as_ids.append(tuple(term_ids[term] for term in terms))
    kept = [at for at in range(n_phrasings) if as_ids[at]]
    phrasings = [as_ids[at] for at in kept]
    phrasing_item = [owners[at][0] for at in kept]
    answers = as_ids[n_phrasings : n_phrasings + n_items]
    tags = as_ids[n_phrasings + n_items : n_phrasings + 2 * n_items]
    negatives = [ids for ids in as_ids[n_phrasings + 2 * n_items :] if ids]
    pair_ids: dict[tuple[int, int], int] = {}
    for phrasing in phrasings:
        for pair in itertools.pairwise(phrasing):
            pair_ids.setdefault(pair, len(term_ids) + len(pair_ids))
    n_terms = len(term_ids)
    by_item: list[list[tuple[int, ...]]] = [[] for _ in range(n_items)]
    for item, phrasing in zip(phrasing_item, phrasings, strict=True):
        by_item[item].append(phrasing)
    vocabulary = Vocabulary(
        normalizer=normalizer,
        term_ids=term_ids,
        terms=tuple(term_ids),
        phrasings=tuple(phrasings),
        phrasing_item=np.asarray(phrasing_item, dtype=np.int64),
        answers=tuple(answers),
        tags=tuple(tags),
        negatives=tuple(negatives),
        pair_ids=pair_ids,
        subject=frozenset(t for p in knowledge.subject for t in normalizer.terms(p) if len(t) >= 3),
        other_groups=frozenset(
            t for p in knowledge.other_groups for t in normalizer.terms(p) if len(t) >= 4
        ),
    )

    # IDF: in how many items (phrasings, tags, answer) each term occurs.
    items_with: list[set[int]] = [set() for _ in range(n_terms)]
    for item in range(n_items):
        for term_id in (*tags[item], *answers[item]):
            items_with[term_id].add(item)
        for phrasing in by_item[item]:
            for term_id in phrasing:
                items_with[term_id].add(item)
    df = np.asarray([len(items) for items in items_with], dtype=np.float64)
    idf = np.log1p(max(n_items, 1) / np.maximum(df, 1.0))

    def mass(terms: Sequence[int]) -> float:
        return sum(float(idf[term]) for term in sorted(set(terms)))

    sets = [{term: 1.0 for term in phrasing} for phrasing in phrasings]
    negative_sets = [{term: 1.0 for term in negative} for negative in negatives]
    phrasing_index = PhrasingIndex(
        phrasings=sparse_index(entries(sets, n_terms)),
        phrasing_mass=np.asarray([mass(p) for p in phrasings], dtype=np.float64),
        negatives=sparse_index(entries(negative_sets, n_terms)),
        negative_mass=np.asarray([mass(n) for n in negatives], dtype=np.float64),
        item_bounds=np.cumsum([0] + [len(group) for group in by_item], dtype=np.int64),
    )

    # The classifier: per item, its tags' and phrasings' terms and pairs, then its answer.
    counts: list[dict[int, float]] = []
    for item in range(n_items):
        count: dict[int, float] = {}
        features = [(term, 1.0) for term in tags[item]]
        for phrasing in by_item[item]:
            features += [(term, 1.0) for term in phrasing]
        for phrasing in by_item[item]:
            pairs = itertools.pairwise(phrasing)
            features += [(pair_ids[pair], 1.0) for pair in pairs]
        features += [(term, BAYES_ANSWER) for term in answers[item]]
        for feature, value in features:
            count[feature] = count.get(feature, 0.0) + value
        counts.append(count)
    bayes = bayes_of_counts(entries(counts, n_terms + len(pair_ids)))

    # The surface: each kept phrasing's words as written, counted as trigrams.
    word_ids: dict[str, int] = {}
    written = [tokenise((owners[at][1],)).flat() for at in kept]
    for words in written:
        for word in words:
            word_ids.setdefault(word, len(word_ids))
    gram_ids: dict[str, int] = {}
    grams_of: dict[str, list[int]] = {}
    for word in word_ids:
        grams_of[word] = [gram_ids.setdefault(gram, len(gram_ids)) for gram in trigrams(word)]
    bags: list[dict[int, float]] = []
    for words in written:
        bag: Counter[int] = Counter()
        for word in words:
            bag.update(grams_of[word])
        bags.append({gram: float(count) for gram, count in bag.items()})
    grams = entries(bags, len(gram_ids))
    as_built = Entries(  # the types the build hands on (32 bits)
        grams.docs.astype(np.int32),
        grams.features.astype(np.int32),
        grams.values.astype(np.float32),
        grams.n_docs,
        grams.n_features,
    )
    surface = GramIndex(build_tf_idf_index(as_built), gram_ids)

    buckets: dict[tuple[str, int], list[str]] = {}
    for term in term_ids:
        if len(term) >= 4:
            buckets.setdefault((term[0], len(term)), []).append(term)
    return Index(
        vocabulary=vocabulary,
        idf=idf,
        phrasings=phrasing_index,
        bayes=bayes,
        surface=surface,
        typo_buckets=buckets,
        answer_terms=tuple(frozenset(answer) for answer in answers),
        answer_mass=np.asarray([mass(answer) for answer in answers], dtype=np.float64),
    )


def entries(rows: Sequence[dict[int, float]], n_features: int) -> Entries:
    """Documents' feature values as (document, feature, value), by document, then feature."""
    docs: list[int] = []
    features: list[int] = []
    values: list[float] = []
    for doc, row in enumerate(rows):
        ordered = sorted(row)
        docs += [doc] * len(ordered)
        features += ordered
        values += [row[feature] for feature in ordered]
    return Entries(
        np.asarray(docs, dtype=np.int64),
        np.asarray(features, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
        len(rows),
        n_features,
    )


def assert_same(fast: object, plain: object, path: str = "index") -> None:
    """Equal field by field: arrays in type, shape and every bit, dicts in order too."""
    if isinstance(fast, Normalizer):
        assert isinstance(plain, Normalizer), path
        assert fast.compounds == plain.compounds, path
    elif dataclasses.is_dataclass(fast) and not isinstance(fast, type):
        assert type(fast) is type(plain), path
        for field in dataclasses.fields(fast):
            name = field.name
            assert_same(getattr(fast, name), getattr(plain, name), f"{path}.{name}")
    elif isinstance(fast, np.ndarray):
        assert isinstance(plain, np.ndarray), path
        assert fast.dtype == plain.dtype, (path, fast.dtype, plain.dtype)
        assert fast.shape == plain.shape, path
        assert np.array_equal(fast, plain), path
    elif isinstance(fast, dict):
        assert isinstance(plain, dict), path
        assert list(fast.items()) == list(plain.items()), path
    else:
        assert type(fast) is type(plain) and fast == plain, path


def _asked(text: str, author: str, expect: str | None = None) -> kb.AskedQuestion:
    kind = "question" if expect else "out_of_scope"
    return kb.AskedQuestion(text, kind, author, expect)


@pytest.fixture(scope="module")
def fixture_kb() -> kb.KnowledgeBase:
    """The engine's fixture with everything the build reads: labelled questions of two
    authors, out-of-scope examples, subject words, other staff groups, a phrasing of stop
    words only (no term: not indexed) and split compounds."""
    knowledge = kb.load(FIXTURE)
    first, *rest = knowledge.items
    first = dataclasses.replace(first, alternates=(*first.alternates, "hvad gør man så?"))
    ids = [item.id for item in knowledge.items]
    asked = (
        _asked("bliver en peer medarbejder tit syg", "A", ids[1]),
        _asked("peer støtte og tavshedspligt", "A", ids[0]),
        _asked("hvad nu?", "B", ids[2]),
        _asked("tilbagefald hos peeren igen igen", "B", ids[-1]),
        _asked("hvornår er der frokost", "A"),
        _asked("hvor må jeg parkere min cykel", "B"),
    )
    return dataclasses.replace(
        knowledge,
        items=(first, *rest),
        negatives=("Hvornår kommer vagtplanen?", "og så?", "Bivirkninger af medicinen"),
        subject=("peer", "tidligere bruger"),
        other_groups=("sygeplejerske", "psykolog"),
        asked=asked,
    )


def test_the_build_equals_the_plain_reference_on_the_fixture(
    fixture_kb: kb.KnowledgeBase,
) -> None:
    fast = build_index(fixture_kb)
    assert len(fast.vocabulary.phrasings) < sum(
        len(fixture_kb.indexed_phrasings(item)) for item in fixture_kb.items
    )  # the stop-word phrasing has no term and is left out
    assert fast.vocabulary.pair_ids and len(fast.vocabulary.negatives) == 4
    assert_same(fast, reference_index(fixture_kb))
    for author in ("A", "B", None):
        without = fixture_kb.without_author(author)
        assert_same(build_index(without), reference_index(without), f"without {author}")


def test_the_build_equals_the_plain_reference_with_small_chunks(
    fixture_kb: kb.KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts, trigrams and items are read a few thousand at a time in a large knowledge base:
    chunks of three give the same index."""
    monkeypatch.setattr(index_module, "TEXT_CHUNK", 3)
    monkeypatch.setattr(index_module, "GRAM_CHUNK", 3)
    assert_same(build_index(fixture_kb), reference_index(fixture_kb))


@pytest.mark.slow
def test_the_real_build_and_every_eval_result_equal_the_plain_reference() -> None:
    """The real knowledge base (with dev.yaml's questions) built both ways gives the same
    index, and the engine the same result (status, item, probability, suggestions) on every
    eval.yaml question, as does one author's leave-one-out build."""
    knowledge = kb.load(KNOWLEDGE)
    fast = Matcher(knowledge)
    plain = copy.copy(fast)
    plain.index = reference_index(knowledge)
    plain.phrasing_groups = groups_of_phrasings(plain.index)
    assert_same(fast.index, plain.index)
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", knowledge)
    questions = [entry.question for entry in evalset.questions] + list(evalset.out_of_scope)
    assert len(questions) > 700
    for question in questions:
        assert fast.match(question) == plain.match(question), question
    author = knowledge.asked_authors[0]
    without = knowledge.without_author(author)
    assert_same(fast.without_author(author).index, reference_index(without), f"without {author}")
