"""The matcher: finds the item despite typos and missing æøå, asks back when two items are
equally plausible, admits when nothing fits, and never raises."""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from faqbot import kb
from faqbot.matcher import (
    MAX_QUERY_CHARS,
    Matcher,
    Result,
    Status,
    Suggestion,
    Thresholds,
    Weights,
    _Index,
    _pair_keys,
    _SurfaceBuilder,
    _trigram_keys,
    decide,
)
from faqbot.text import words

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def knowledge() -> kb.KnowledgeBase:
    return kb.load(FIXTURE)


@pytest.fixture(scope="module")
def matcher(knowledge: kb.KnowledgeBase) -> Matcher:
    return Matcher(knowledge)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Har peer-medarbejderen tavshedspligt?", "peer-tavshedspligt"),
        ("har peer medarbejderen tavshedspligt", "peer-tavshedspligt"),
        ("tavshetspligt for peers?", "peer-tavshedspligt"),  # typo
        ("bliver peers oftere syge", "peer-syg"),
        ("peer sygemeldt meget", "peer-syg"),  # synonym of sygefravær
        ("hvad goer vi hvis peeren faar tilbagefald", "peer-tilbagefald"),  # no æøå
        ("PEER TILBAGEFALD!!!", "peer-tilbagefald"),
    ],
)
def test_finds_the_item(matcher: Matcher, question: str, expected: str) -> None:
    result = matcher.match(question)
    assert result.status is Status.ANSWERED, result
    assert result.item is not None and result.item.id == expected
    assert result.suggestions == ()
    assert matcher.thresholds.answer <= result.score <= 1.0


def test_two_equally_plausible_items_ask_back(matcher: Matcher) -> None:
    result = matcher.match("hvad mener peeren, tager hun medicin?")
    assert result.status is Status.CLARIFY
    ids = [suggestion.item.id for suggestion in result.suggestions]
    assert set(ids[:2]) == {"peer-medicin", "peer-medicin-egen"}
    assert 1 <= len(result.suggestions) <= 3
    scores = [suggestion.score for suggestion in result.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert result.item is result.suggestions[0].item
    assert result.score == scores[0]


@pytest.mark.parametrize(
    "question",
    ["hvornår har kantinen åbent", "hvordan booker jeg et mødelokale", "vejret i morgen"],
)
def test_nothing_fits_is_an_honest_no_match(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.status is Status.NO_MATCH
    assert result.suggestions == ()
    assert result.score < matcher.thresholds.clarify


def test_out_of_scope_examples_turn_a_weak_match_into_no_match(
    knowledge: kb.KnowledgeBase,
) -> None:
    negatives = ("Hvilke bivirkninger har medicinen?", "Hvornår kommer vagtplanen?")
    plain = Matcher(knowledge)
    guarded = Matcher(dataclasses.replace(knowledge, negatives=negatives))
    weak = "bivirkninger af medicin"  # about patients' medication, not the peer's
    assert plain.match(weak).status is Status.CLARIFY
    result = guarded.match(weak)
    assert result.status is Status.NO_MATCH and result.suggestions == ()
    assert result.item is not None and result.item in knowledge.items  # never an example
    for question, expected in [
        ("peer medicin", "peer-medicin"),
        ("peer tilbagefald", "peer-tilbagefald"),
    ]:
        strong = guarded.match(question)
        assert strong.status is Status.ANSWERED and strong.item is not None
        assert strong.item.id == expected
    assert len(guarded.scores(weak)) == len(knowledge.items)
    assert all(item in knowledge.items for item, _ in guarded.ranked(weak, 10))


def test_subject_words_decide_what_is_on_topic(knowledge: kb.KnowledgeBase) -> None:
    computed = Matcher(knowledge)  # without subject.yaml: terms in half the items' phrasings
    assert computed.on_topic("peeruddannelsen") and not computed.on_topic("brugerbaggrund")
    named = Matcher(dataclasses.replace(knowledge, subject=("brugerbaggrund", "tidligere bruger")))
    assert named.on_topic("hende med brugerbaggrund")
    assert named.on_topic("vores nye kollega er tidligere bruger")
    assert not named.on_topic("peeruddannelsen")  # the file replaces the computed terms
    assert not named.on_topic("hvornår har kantinen åbent")


def test_the_index_gives_the_same_products_with_dense_rows_for_common_features() -> None:
    rng = np.random.default_rng(7)
    n_features, n_docs = 40, 60
    matrix = rng.random((n_features, n_docs)) * (rng.random((n_features, n_docs)) < 0.1)
    matrix[:5] = rng.random((5, n_docs)) + 0.1  # in every document: kept dense
    features, docs = np.nonzero(matrix)
    index = _Index(docs, features, matrix[features, docs], n_features, n_docs)
    assert list(index.dense_features) == [0, 1, 2, 3, 4]
    assert len(index.docs) == np.count_nonzero(matrix[5:])
    query = np.array([0, 3, 7, 12, 39])
    weights = np.array([0.5, 2.0, 1.0, 0.25, 3.0])
    assert index.dot(query, weights) == pytest.approx(weights @ matrix[query], rel=1e-6)
    assert list(index.document_frequency()) == list(np.count_nonzero(matrix, axis=1))


# --- the naive Bayes classifier -------------------------------------------------------------


def test_the_classifier_spreads_probability_over_items_and_favours_the_items_words(
    matcher: Matcher,
) -> None:
    probabilities = matcher.components("peer tilbagefald")["bayes"][: len(matcher.kb.items)]
    assert probabilities.sum() == pytest.approx(1.0)
    assert (probabilities > 0).all()
    ids = [item.id for item in matcher.kb.items]
    assert ids[int(probabilities.argmax())] == "peer-tilbagefald"
    # Out-of-scope examples are never classified: they get no probability.
    guarded = Matcher(dataclasses.replace(matcher.kb, negatives=("Hvornår er der frokost?",)))
    assert guarded.components("frokost")["bayes"][len(ids) :].tolist() == [0.0]


def test_the_classifier_adds_its_weighted_probability_to_the_similarity(
    knowledge: kb.KnowledgeBase, matcher: Matcher
) -> None:
    without = Matcher(knowledge, weights=Weights(bayes=0.0))
    question = "hvad goer vi hvis peeren faar tilbagefald"
    probabilities = matcher.components(question)["bayes"][: len(knowledge.items)]
    expected = without.scores(question) + matcher.weights.bayes * probabilities
    assert matcher.scores(question) == pytest.approx(expected.clip(0, 1))
    assert "bayes" not in without.components(question)


def test_the_classifier_alone_never_makes_a_match(knowledge: kb.KnowledgeBase) -> None:
    # Its probabilities always sum to 1, even for the canteen: only the similarity says
    # whether anything fits, so a heavy classifier weight still gives an honest no match.
    heavy = Matcher(knowledge, weights=Weights(bayes=1.0))
    result = heavy.match("hvornår har kantinen åbent")
    assert result.status is Status.NO_MATCH and result.suggestions == ()


def test_decide_admits_when_the_words_do_not_fit_whatever_the_score(
    knowledge: kb.KnowledgeBase,
) -> None:
    ranking = _ranking(knowledge, 0.8, 0.5, 0.2)
    assert decide("q", ranking, THRESHOLDS, evidence=0.29).status is Status.NO_MATCH
    assert decide("q", ranking, THRESHOLDS, evidence=0.3).status is Status.ANSWERED
    close = _ranking(knowledge, 0.45, 0.4)
    assert decide("q", close, THRESHOLDS, evidence=0.31).status is Status.CLARIFY


BAD_INPUT = [
    "",
    "   \t \n ",
    "🙂🙏🔥",
    "\x00\x01\x02\x1b[31m\x7f",
    "精神科の同僚について",
    "Что такое коллега?",
    "ما هو الزميل",
    "x" * 20_000,
    "peer " * 4_000,
    "\ud800",  # a lone surrogate
]


@pytest.mark.parametrize("question", BAD_INPUT)
def test_bad_input_never_raises(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert isinstance(result, Result)
    assert result.question == question
    assert 0.0 <= result.score <= 1.0
    assert result.status in set(Status)


@pytest.mark.parametrize("question", ["", "   ", "🙂", "\x00\x1b", "精神科"])
def test_empty_or_unreadable_input_is_no_match(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.status is Status.NO_MATCH
    assert result.item is None and result.score == 0.0


def test_long_questions_are_matched_on_their_first_1000_characters(matcher: Matcher) -> None:
    head = "Har peer-medarbejderen tavshedspligt? "
    long_question = head + "bla " * 5_000
    assert len(long_question) > 20_000
    result = matcher.match(long_question)
    assert result.question == long_question  # as given
    assert result.status is Status.ANSWERED
    assert _fields(result) == _fields(matcher.match(long_question[:MAX_QUERY_CHARS]))
    hidden = "bla " * (MAX_QUERY_CHARS // 4 + 10) + head
    assert matcher.match(hidden).status is Status.NO_MATCH


def _fields(result: Result) -> tuple:
    return (result.status, result.item, result.score, result.suggestions)


def test_match_is_fast(matcher: Matcher) -> None:
    questions = ["peer medicin", "har peeren tavshedspligt", "kantinen", "x" * 20_000]
    matcher.match("warm up")
    started = time.perf_counter()
    for _ in range(50):
        for question in questions:
            matcher.match(question)
    per_query_ms = (time.perf_counter() - started) * 1000 / (50 * len(questions))
    assert per_query_ms < 5, per_query_ms  # the benchmark holds the real target (2 ms p99)


def test_ranked_lists_items_best_first_with_scores_in_range(matcher: Matcher) -> None:
    ranked = matcher.ranked("peer tilbagefald syg", 3)
    assert 1 <= len(ranked) <= 3
    assert ranked[0][0].id == "peer-tilbagefald"
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores)


# --- the decision alone, on made-up rankings ---------------------------------------------


def _ranking(knowledge: kb.KnowledgeBase, *scores: float) -> list[tuple[kb.Item, float]]:
    return list(zip(knowledge.items, scores, strict=False))


THRESHOLDS = Thresholds(answer=0.5, margin=0.1, clarify=0.3, suggest_window=0.15)


def test_decide_answers_a_clear_winner(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.8, 0.5, 0.2), THRESHOLDS)
    assert result.status is Status.ANSWERED
    assert result.item is knowledge.items[0] and result.score == 0.8
    assert result.suggestions == ()


def test_decide_asks_back_when_the_runner_up_is_close(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.8, 0.75, 0.7, 0.68), THRESHOLDS)
    assert result.status is Status.CLARIFY
    assert [s.score for s in result.suggestions] == [0.8, 0.75, 0.7]  # at most three
    assert result.item is knowledge.items[0]


def test_decide_asks_back_below_the_answer_threshold(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.45, 0.2), THRESHOLDS)
    assert result.status is Status.CLARIFY
    assert result.suggestions == (Suggestion(knowledge.items[0], 0.45),)


def test_decide_suggests_only_items_near_the_best(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.6, 0.55, 0.35), THRESHOLDS)
    assert [s.score for s in result.suggestions] == [0.6, 0.55]


def test_decide_admits_when_nothing_fits(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.29, 0.1), THRESHOLDS)
    assert result.status is Status.NO_MATCH
    assert result.item is knowledge.items[0]  # the best candidate, for the log
    assert result.suggestions == ()
    assert decide("q", [], THRESHOLDS) == Result("q", Status.NO_MATCH, None, 0.0, ())


def test_the_real_knowledge_base_finds_its_own_questions() -> None:
    knowledge = kb.load(KNOWLEDGE)
    started = time.perf_counter()
    matcher = Matcher(knowledge)
    assert time.perf_counter() - started < 2.0  # the benchmark holds the real target (0.5 s)
    found = sum(matcher.ranked(item.question, 1)[0][0].id == item.id for item in knowledge.items)
    assert found >= 0.95 * len(knowledge.items)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Får vi en patient som kollega?", "peer-patient-som-kollega"),
        ("hvad er CHIME", "chime-modellen"),
    ],
)
def test_a_question_close_to_an_own_phrasing_is_on_topic_without_the_word_peer(
    question: str, expected: str
) -> None:
    """The off-topic damping is for questions like "how do I book a room", not for ours."""
    real = Matcher(kb.load(KNOWLEDGE))
    assert not real.on_topic(question)
    result = real.match(question)
    assert result.status is Status.ANSWERED
    assert result.item is not None and result.item.id == expected


def test_trigram_keys_are_the_exact_byte_trigrams_of_each_marked_word() -> None:
    keys, owner = _trigram_keys(["hvor", "a"])
    expected = [b"#hv", b"hvo", b"vor", b"or#", b"#a#"]
    assert keys.tolist() == [t[0] << 16 | t[1] << 8 | t[2] for t in expected]
    assert owner.tolist() == [0, 0, 0, 0, 1]
    assert [len(part) for part in _trigram_keys([])] == [0, 0]


def test_the_surface_index_gives_each_items_best_tf_idf_cosine() -> None:
    texts = ["hvor mange timer", "hvor mange timer om ugen", "må hun få medicin", "kantinen"]
    builder = _SurfaceBuilder()
    builder.add(words(text) for text in texts[:1])
    builder.add(words(text) for text in texts[1:])  # in parts, as the index adds them
    surface = builder.index()

    def vector(text: str) -> dict[int, float]:
        keys, counts = np.unique(_trigram_keys(words(text))[0], return_counts=True)
        at = np.searchsorted(surface.known, keys)
        idf = [
            float(surface.idf[a])
            if a < len(surface.known) and surface.known[a] == k
            else float(surface.idf.max())
            for a, k in zip(at, keys, strict=True)
        ]
        weights = (1 + np.log(counts)) * np.asarray(idf)
        weights /= np.linalg.norm(weights)
        return dict(zip(keys.tolist(), weights.tolist(), strict=True))

    question = vector("hvor mange timer arbejder hun")
    cosines = []
    for text in texts:
        doc = vector(text)
        cosines.append(sum(weight * doc.get(key, 0.0) for key, weight in question.items()))
    keys = _trigram_keys(words("hvor mange timer arbejder hun"))[0]
    best = surface.best(keys, np.array([0, 2]), np.array([2, 4]))
    assert best == pytest.approx([max(cosines[:2]), max(cosines[2:])], abs=1e-5)
    assert best[0] > best[1]


def test_pair_keys_keep_word_order() -> None:
    assert _pair_keys(np.array([3, 5, 7])).tolist() == [3 << 32 | 5, 5 << 32 | 7]
    assert _pair_keys(np.array([5, 3])).tolist() != _pair_keys(np.array([3, 5])).tolist()


def test_the_surface_rerank_never_decides_whether_anything_fits(
    knowledge: kb.KnowledgeBase, matcher: Matcher
) -> None:
    # "Does anything fit?" is decided on the similarity without the surface form: a question
    # that shares only "hvor", "hvordan", "man" with the phrasings stays a no match.
    plain = Matcher(knowledge, weights=Weights(phrasing_grams=0.0))
    for question in ["hvornår har kantinen åbent", "hvordan booker man et mødelokale"]:
        assert matcher.match(question).status is plain.match(question).status
        assert matcher.match(question).status is Status.NO_MATCH
