"""The matcher: finds the item despite typos and missing æøå, asks back when two items are
equally plausible, admits when nothing fits, never raises, and its fast scorer equals a slow,
obvious reference loop on every eval question."""

import dataclasses
import itertools
import math
from collections import Counter
from dataclasses import MISSING, dataclass
from pathlib import Path

import numpy as np
import pytest

from faqbot import kb
from faqbot.matcher import (
    CALIBRATION,
    MAX_QUERY_CHARS,
    Calibration,
    Evidence,
    Matcher,
    OutOfScopeModel,
    OutsideEvidence,
    Result,
    Status,
    Suggestion,
    Thresholds,
    decide,
)
from faqbot.matcher import index as index_module
from faqbot.matcher.answerable import asking_part
from faqbot.matcher.engine import lead
from faqbot.matcher.index import trigrams
from faqbot.matcher.signals import (
    BAYES_TEMPERATURE,
    SIGNALS,
    TERM_ODDS_PRIOR,
    coverage,
    negative,
    term_odds,
    unknown,
    word_odds,
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
    result = matcher.match("medicin hvad med hende selv")
    assert result.status is Status.CLARIFY
    ids = [suggestion.item.id for suggestion in result.suggestions]
    assert set(ids[:2]) == {"peer-medicin", "peer-medicin-egen"}
    assert 2 <= len(result.suggestions) <= 3
    scores = [suggestion.score for suggestion in result.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert result.item is result.suggestions[0].item


@pytest.mark.parametrize(
    "question",
    ["hvornår har kantinen åbent", "hvordan booker jeg et mødelokale", "vejret i morgen"],
)
def test_nothing_fits_is_an_honest_no_match(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.status is Status.NO_MATCH
    assert result.suggestions == ()
    assert result.score < matcher.thresholds.clarify


def test_out_of_scope_examples_count_against_a_weak_match(knowledge: kb.KnowledgeBase) -> None:
    negatives = ("Hvilke bivirkninger har medicinen?", "Hvornår kommer vagtplanen?")
    plain = Matcher(knowledge)
    guarded = Matcher(dataclasses.replace(knowledge, negatives=negatives))
    weak = "bivirkninger af medicin"  # about patients' medication, not the peer's
    plain_evidence, _ = plain.assess(weak)
    guarded_evidence, ranked = guarded.assess(weak)
    assert plain_evidence is not None and guarded_evidence is not None
    assert plain_evidence.negative == 0.0 < guarded_evidence.negative
    assert guarded.match(weak).status is not Status.ANSWERED
    assert all(0 <= i < len(knowledge.items) for i, _ in ranked)  # never an example
    for question, expected in [
        ("peer medicin", "peer-medicin"),
        ("peer tilbagefald", "peer-tilbagefald"),
    ]:
        strong = guarded.match(question)
        assert strong.status is Status.ANSWERED and strong.item is not None
        assert strong.item.id == expected


def test_subject_words_decide_what_is_on_topic(knowledge: kb.KnowledgeBase) -> None:
    named = Matcher(dataclasses.replace(knowledge, subject=("brugerbaggrund", "tidligere bruger")))
    assert named.on_topic(named.query("hende med brugerbaggrund"))
    assert named.on_topic(named.query("vores nye kollega er tidligere bruger"))
    assert not named.on_topic(named.query("peeruddannelsen"))
    assert not named.on_topic(named.query("hvornår har kantinen åbent"))
    subject = Matcher(dataclasses.replace(knowledge, subject=("peer",)))
    assert subject.on_topic(subject.query("peeruddannelsen"))  # inside a compound


OTHER_GROUPS_ONLY = [
    "Hvor mange timer om ugen arbejder en sygeplejerske?",
    "Hvad får SOSU-hjælperne i løn?",
    "Hvem er kontaktperson for en ny sygeplejerske?",
    "Hvordan får lægerne supervision?",
    "Skal overlægen have en mentor det første år?",
    "Hvilken uddannelse har en socialrådgiver?",
    "Må vikarer give medicin på aftenvagten?",
    "Hvordan introducerer vi nye sosu-assistenter i afsnittet?",
    "Kan psykologerne få betalt videreuddannelse?",
    "Hvor meget tid skal jeg afsætte til en ergoterapeutstuderende?",
    "Hvem skriver journalnotater, sekretæren eller pædagogen?",
    "Har fysioterapeuten tavshedspligt over for pårørende?",
    "Hvad siger overenskomsten om pædagogers pauser?",
    "Hvordan tager vi imod en ny elev i hjemmeplejen?",
    "Skal psykiateren deltage i tavlemødet hver morgen?",
    "Hvordan får en nyansat sygeplejerske sparring i sin første tid?",
]
"""Questions about another staff group in the items' own words, naming no subject word."""

GROUP_AND_SUBJECT = [
    "Kan en sygeplejerske blive peer?",
    "kan en sygeplejerske blive peermedarbejder?",
    "Skal en peer have samme løn som en SOSU-hjælper?",
    "Må en erfaringsmedarbejder give medicin som sygeplejerskerne?",
    "Hvad kan en peer, som en psykolog ikke kan?",
    "Jeg er pædagog og skal være mentor for vores nye peer. Hvad indebærer det?",
]


@pytest.mark.parametrize("question", OTHER_GROUPS_ONLY)
def test_a_question_about_another_staff_group_is_out_of_scope(real: Matcher, question: str) -> None:
    result = real.match(question)
    assert result.status is Status.NO_MATCH
    assert result.off_topic


@pytest.mark.parametrize("question", GROUP_AND_SUBJECT)
def test_a_question_naming_a_group_and_the_subject_is_still_answered(
    real: Matcher, question: str
) -> None:
    result = real.match(question)
    assert result.status in (Status.ANSWERED, Status.CLARIFY)
    assert not result.off_topic


def test_the_phrasings_naming_other_groups_equal_a_plain_loop_over_every_phrasing(
    real: Matcher,
) -> None:
    """The twin of ``groups_of_phrasings``: each phrasing's terms checked one by one."""
    vocabulary = real.index.vocabulary
    plain = {
        p: frozenset(
            g for t in phrasing for g in vocabulary.other_groups if vocabulary.terms[t].endswith(g)
        )
        for p, phrasing in enumerate(vocabulary.phrasings)
    }
    assert any(plain.values())
    assert real.phrasing_groups == {p: groups for p, groups in plain.items() if groups}


def test_other_groups_are_matched_in_every_form_and_at_the_end_of_compounds(real: Matcher) -> None:
    for text in ["sygeplejersker", "sygeplejersken", "sygeplejerskerne", "psykiatrisygeplejersken"]:
        assert real.other_groups(real.query(text).terms) == {"sygeplejersk"}, text
    for text in ["pædagogisk arbejde", "psykologisk tryghed", "vi lægger tid ind"]:
        assert not real.other_groups(real.query(text).terms), text  # not a group, nor "læge"


def test_an_items_own_phrasing_naming_a_group_stays_in_scope(real: Matcher) -> None:
    # mentor-hvad-er-en-mentor's own phrasing: the item is about that group, so it is answered.
    result = real.match("Skal mentoren være sygeplejerske?")
    assert result.status is Status.ANSWERED and result.item is not None
    assert result.item.id == "mentor-hvad-er-en-mentor"


def test_only_a_close_phrasing_naming_the_same_group_carries_a_group_question_into_scope(
    knowledge: kb.KnowledgeBase,
) -> None:
    first, second, *rest = knowledge.items
    base = dataclasses.replace(knowledge, subject=("peer",), other_groups=("sygeplejerske",))

    def with_alternates(one: str, other: str) -> Matcher:
        items = (
            dataclasses.replace(first, alternates=(*first.alternates, one)),
            dataclasses.replace(second, alternates=(*second.alternates, other)),
            *rest,
        )
        return Matcher(dataclasses.replace(base, items=items))

    question = "hvornår har sygeplejersken fri"
    named = with_alternates("hvornår har sygeplejersken fri", "hvem er hun")
    assert named.in_scope(named.query(question), 1.0, 0)
    assert not named.in_scope(named.query(question), 0.5, 0)  # not close to any phrasing
    assert named.in_scope(named.query("hvornår har hun fri"), 1.0, 0)  # names no group
    # Close to the item overall, but its close phrasing names no nurse (one elsewhere does).
    unnamed = with_alternates("hvornår har hun fri", "hvem er sygeplejersken")
    assert not unnamed.in_scope(unnamed.query(question), 1.0, 0)
    assert unnamed.in_scope(unnamed.query("kan en sygeplejerske blive peer"), 0.0, 0)
    without = Matcher(dataclasses.replace(base, other_groups=()))
    assert without.in_scope(without.query(question), 1.0, 0)  # no list: today's rule


# --- the reference scorer: a plain loop per item -------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The knowledge base's side of the reference scorer, as plain dicts per item and phrasing."""

    phrasing_sets: list[frozenset[int]]
    counts: list[dict[int, float]]
    known: set[int]
    surface: list[dict[int, float]]
    surface_idf: dict[int, float]


_REFERENCES: dict[int, Reference] = {}


def reference(matcher: Matcher) -> Reference:
    """Built once per matcher: each item's phrasings, classifier counts and surface vectors."""
    if id(matcher) in _REFERENCES:
        return _REFERENCES[id(matcher)]
    vocabulary = matcher.index.vocabulary
    n_items = len(matcher.kb.items)
    phrasings: list[list[tuple[int, ...]]] = [[] for _ in range(n_items)]
    for owner, phrasing in zip(
        vocabulary.phrasing_item.tolist(), vocabulary.phrasings, strict=True
    ):
        phrasings[owner].append(phrasing)
    # The classifier: counts of terms (tags, phrasings, answer) and adjacent pairs (phrasings).
    counts: list[dict[int, float]] = []
    for i in range(n_items):
        features = [(t, 1.0) for t in vocabulary.tags[i]]
        for p in phrasings[i]:
            features += [(t, 1.0) for t in p]
            features += [(vocabulary.pair_ids[pair], 1.0) for pair in itertools.pairwise(p)]
        features += [(t, index_module.BAYES_ANSWER) for t in vocabulary.answers[i]]
        count: dict[int, float] = {}
        for feature, value in features:
            count[feature] = count.get(feature, 0.0) + value
        counts.append(count)
    # The surface: each phrasing's words as written, as a unit TF-IDF vector of trigrams (a
    # phrasing without a term, all stop words, is not indexed).
    gram_ids = matcher.index.surface.gram_ids
    texts = [text for item in matcher.kb.items for text in matcher.kb.indexed_phrasings(item)]
    written = [words(text) for text in texts if vocabulary.normalizer.terms(text)]
    bags = [Counter(gram_ids[g] for word in ws for g in trigrams(word)) for ws in written]
    df = Counter(g for bag in bags for g in bag)
    idf = {g: math.log((len(bags) + 1) / (df[g] + 0.5)) for g in range(len(gram_ids))}
    surface = []
    for bag in bags:
        doc = {g: (1 + math.log(n)) * idf[g] for g, n in bag.items()}
        norm = math.sqrt(sum(v * v for v in doc.values())) or 1.0
        surface.append({g: v / norm for g, v in doc.items()})
    phrasing_sets = [frozenset(p) for p in vocabulary.phrasings]
    found = Reference(phrasing_sets, counts, {f for c in counts for f in c}, surface, idf)
    _REFERENCES[id(matcher)] = found
    return found


def reference_signals(matcher: Matcher, question: str) -> dict[str, list[float]]:
    """Every signal, computed item by item with dicts and sums."""
    ref = reference(matcher)
    vocabulary = matcher.index.vocabulary
    query = matcher.query(question)
    idf = matcher.index.idf.tolist()
    n_items = len(matcher.kb.items)
    asked = dict(zip(query.known.ids.tolist(), query.known.weights.tolist(), strict=True))
    mass = sum(idf[t] * w for t, w in asked.items()) + query.known.unknown * max(idf)

    # phrasing: the best phrasing's IDF-weighted Dice overlap
    def dice(terms: frozenset[int], terms_mass: float) -> float:
        overlap = sum(idf[t] * asked[t] for t in terms & asked.keys())
        return 2 * overlap / (mass + terms_mass)

    best_phrasing = [0.0] * n_items
    for owner, terms in zip(vocabulary.phrasing_item.tolist(), ref.phrasing_sets, strict=True):
        value = dice(terms, sum(idf[t] for t in terms)) if terms & asked.keys() else 0.0
        best_phrasing[owner] = max(best_phrasing[owner], value)

    # bayes: sum of weight x log P(feature | item), then a softmax
    features = [(t, w) for t, w in asked.items() if t in ref.known]
    features += [(p, 1.0) for p in query.pairs.tolist()]
    alpha = index_module.BAYES_ALPHA
    log_likelihood = []
    for count in ref.counts:
        total = math.log(sum(count.values()) + alpha * len(ref.known))
        log_likelihood.append(
            sum(w * (math.log1p(count.get(f, 0.0) / alpha) - total) for f, w in features)
        )
    top = max(log_likelihood)
    exps = [math.exp((x - top) / BAYES_TEMPERATURE) for x in log_likelihood]

    # surface: the best phrasing's cosine of the trigrams of the words as written
    asked_grams = zip(query.surface.ids.tolist(), query.surface.weights.tolist(), strict=True)
    q = {g: (1 + math.log(n)) * ref.surface_idf[g] for g, n in asked_grams}
    unseen = query.surface.unknown * max(ref.surface_idf.values(), default=0.0) ** 2
    q_norm = math.sqrt(sum(v * v for v in q.values()) + unseen)
    best_surface = [0.0] * n_items
    for owner, doc in zip(vocabulary.phrasing_item.tolist(), ref.surface, strict=True):
        shared = doc.keys() & q.keys()
        if shared:
            cosine = sum(q[g] * doc[g] for g in shared) / q_norm
            best_surface[owner] = max(best_surface[owner], cosine)
    return {
        "phrasing": best_phrasing,
        "bayes": [x / sum(exps) for x in exps] if features else [0.0] * n_items,
        "surface": best_surface,
    }


def _assert_signals_equal(matcher: Matcher, question: str) -> None:
    query = matcher.query(question)
    expected = reference_signals(matcher, question)
    fast = {name: signal(matcher.index, query) for name, signal in SIGNALS.items()}
    for name, values in expected.items():
        assert fast[name] == pytest.approx(values, abs=1e-6), (name, question)


def test_the_fast_signals_equal_the_reference_loop_on_the_fixture(matcher: Matcher) -> None:
    evalset = kb.load_eval(FIXTURE / "eval.yaml", matcher.kb)
    questions = [entry.question for entry in evalset.questions] + list(evalset.out_of_scope)
    for question in [
        *questions,
        "tavshetspligt peers",
        "peerlon",
        "x",
        "hvad mener peeren om medicin",
    ]:
        _assert_signals_equal(matcher, question)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_fast_signals_equal_the_reference_loop_on_every_eval_question(real: Matcher) -> None:
    """With the colleagues' labelled questions (dev.yaml) indexed as phrasings, as the bot runs."""
    learnt = [q for q in real.kb.asked if q.kind == "question"]
    own = sum(len(item.phrasings) for item in real.kb.items)
    assert len(learnt) > 1000
    assert len(real.index.vocabulary.phrasings) == own + len(learnt)
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    for entry in evalset.questions:
        _assert_signals_equal(real, entry.question)
    for question in evalset.out_of_scope:
        _assert_signals_equal(real, question)


def test_the_sparse_product_equals_a_plain_loop_exactly(matcher: Matcher) -> None:
    """``SparseIndex.dot`` adds the same products in the same order as a loop over the
    features' postings, so every score is the same to the last bit."""
    questions = ["tavshetspligt peers", "hvad goer vi hvis peeren faar tilbagefald", "x", ""]
    for index, features_of in [
        (matcher.index.surface.tf_idf.index, lambda q: q.surface),
        (matcher.index.phrasings.phrasings, lambda q: q.known),
    ]:
        for question in questions:
            features = features_of(matcher.query(question))
            expected = [0.0] * index.n_docs
            for feature, weight in zip(
                features.ids.tolist(), features.weights.tolist(), strict=True
            ):
                for at in range(index.indptr[feature], index.indptr[feature + 1]):
                    expected[int(index.docs[at])] += float(index.values[at]) * weight
            assert index.dot(features.ids, features.weights).tolist() == expected, question


def plain_surface(matcher: Matcher, question: str) -> tuple[list[int], list[float], int]:
    """The reference reading of a question's trigrams: every word cut by ``trigrams``, counted
    in order of first use, the known ones looked up one by one."""
    grams = Counter(g for word in words(question[:MAX_QUERY_CHARS]) for g in trigrams(word))
    gram_ids = matcher.index.surface.gram_ids
    known = {gram_ids[g]: float(n) for g, n in grams.items() if g in gram_ids}
    return list(known), list(known.values()), len(grams) - len(known)


def plain_mass(matcher: Matcher, question: str) -> float:
    """The reference question mass: the IDF of each known term times its weight, plus the
    largest IDF for each unknown word (``index.idf`` summed as the signals sum it)."""
    query = matcher.query(question)
    idf = matcher.index.idf
    known = float((idf[query.known.ids] * query.known.weights).sum())
    return max(known + query.known.unknown * float(idf.max(initial=1.0)), 1e-12)


def _assert_query_read_as_the_plain_reading(matcher: Matcher, question: str) -> None:
    query = matcher.query(question)
    ids, counts, unknown = plain_surface(matcher, question)
    assert query.surface.ids.tolist() == ids, question  # the order the product adds them in
    assert query.surface.weights.tolist() == counts, question
    assert query.surface.unknown == unknown, question
    assert query.mass == plain_mass(matcher, question), question  # to the last bit
    idf = matcher.index.idf.tolist()
    by_hand = sum(idf[t] * w for t, w in zip(query.known.ids, query.known.weights, strict=True))
    by_hand += query.known.unknown * max(idf)
    assert query.mass == pytest.approx(max(by_hand, 1e-12), rel=1e-12), question


def test_the_question_is_read_as_the_plain_reading_on_the_fixture(matcher: Matcher) -> None:
    evalset = kb.load_eval(FIXTURE / "eval.yaml", matcher.kb)
    questions = [entry.question for entry in evalset.questions] + list(evalset.out_of_scope)
    odd = ["", "x", "🙂", "at at at at", "aaaa aaa", "#hv# ## #", "hvad  goer\tvi\n nu", "a" * 3000]
    for question in [*questions, *odd]:
        _assert_query_read_as_the_plain_reading(matcher, question)


@pytest.mark.slow
def test_every_eval_question_is_read_as_the_plain_reading(real: Matcher) -> None:
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    questions = [entry.question for entry in evalset.questions]
    for question in [*questions, *evalset.out_of_scope, *evalset.crisis, *evalset.not_crisis]:
        _assert_query_read_as_the_plain_reading(real, question)


def test_a_lead_is_the_plain_difference_to_the_best_other_item() -> None:
    values = np.asarray([0.25, 0.5, 0.5, 0.125, 0.0])
    for item in range(len(values)):
        others = max(float(v) for at, v in enumerate(values) if at != item)
        assert lead(values, item) == float(values[item]) - others  # exactly
    assert lead(np.asarray([0.3]), 0) == 0.0 and lead(None, 0) == 0.0


def test_the_out_of_scope_overlap_is_the_best_examples_dice(knowledge: kb.KnowledgeBase) -> None:
    guarded = Matcher(dataclasses.replace(knowledge, negatives=("Hvornår er der frokost?",)))
    query = guarded.query("frokost i dag")
    assert 0 < negative(guarded.index, query) <= 1
    assert negative(guarded.index, guarded.query("peer tilbagefald")) == 0.0


def test_the_term_odds_equal_a_plain_count_of_examples_and_phrasings(real: Matcher) -> None:
    """The out-of-scope examples and phrasings that have each term, counted by a plain loop,
    against the inverted indexes' row lengths."""
    vocabulary, prior = real.index.vocabulary, TERM_ODDS_PRIOR
    inside = Counter(t for phrasing in vocabulary.phrasings for t in set(phrasing))
    outside = Counter(t for example in vocabulary.negatives for t in set(example))
    n_in, n_out = len(vocabulary.phrasings), len(vocabulary.negatives)
    odds = term_odds(real.index)
    assert len(odds) == len(vocabulary.terms)
    for term in range(len(vocabulary.terms)):
        expected = math.log((outside[term] + prior) / (n_out + 2 * prior)) - math.log(
            (inside[term] + prior) / (n_in + 2 * prior)
        )
        assert odds[term] == pytest.approx(expected, abs=1e-12), vocabulary.terms[term]
    assert (real.term_odds == odds).all()


def test_the_outside_evidence_reads_unknown_words_and_odds(knowledge: kb.KnowledgeBase) -> None:
    """Unknown: the question's term mass no item has (a word only an out-of-scope example has
    counts as unknown); word odds: the IDF-weighted odds over the whole mass. Both by hand."""
    guarded = Matcher(dataclasses.replace(knowledge, negatives=("Hvornår er der julefrokost?",)))
    index = guarded.index
    query = guarded.query("peer julefrokost zxqv")  # an item's word, an example's, an unknown
    peer, party = (index.vocabulary.term_ids[t] for t in ("peer", "julefrokost"))
    largest = float(index.idf.max())
    mass = float(index.idf[peer] + index.idf[party]) + largest
    assert query.known.unknown == 1
    assert unknown(index, query) == pytest.approx(1 - float(index.idf[peer]) / mass)
    odds = guarded.term_odds
    by_hand = (odds[peer] * index.idf[peer] + odds[party] * index.idf[party]) / mass
    assert word_odds(index, odds, query) == pytest.approx(float(by_hand))
    assert odds[party] > 0 > odds[peer]  # the examples' word against the phrasings'
    assert unknown(index, guarded.query("peer tilbagefald")) == 0.0
    evidence, outside, ranked = guarded.judge("peer julefrokost zxqv")
    assert evidence is not None and outside is not None
    phrasing = float(SIGNALS["phrasing"](index, query)[ranked[0][0]])
    assert outside == OutsideEvidence(
        off_topic=1.0 - evidence.on_topic,
        negative_gap=pytest.approx(negative(index, query) - phrasing),
        unknown=pytest.approx(unknown(index, query)),
        coverage=evidence.coverage,
        word_odds=pytest.approx(word_odds(index, odds, query)),
        margin=evidence.margin,
    )
    scores = guarded.scores("peer julefrokost zxqv")
    runner_up = max(float(scores[i]) for i, _ in ranked[1:])
    assert outside.margin == pytest.approx(float(scores[ranked[0][0]]) - runner_up)
    assert outside.margin == pytest.approx(ranked[0][1] - ranked[1][1])


def test_outside_coverage_reads_the_asking_part_without_the_askers_introduction(
    matcher: Matcher,
) -> None:
    """A leader in Vejle Kommune saying so says who asks, not what: the out-of-scope evidence's
    coverage is the best item's share of the asking part (read by hand here), while the
    calibration's coverage still reads the whole message."""
    question = "Jeg er leder i Vejle Kommune, hvad gør vi hvis vores peer får et tilbagefald?"
    query = matcher.query(question)
    asking = matcher.asking_query(query)
    assert asking is not query
    assert asking.terms == matcher.query("hvad gør vi hvis vores peer får et tilbagefald?").terms
    evidence, outside, ranked = matcher.judge(question)
    assert evidence is not None and outside is not None
    best = ranked[0][0]
    assert matcher.kb.items[best].id == "peer-tilbagefald"
    assert evidence.coverage == pytest.approx(coverage(matcher.index, query, best))
    assert outside.coverage == pytest.approx(coverage(matcher.index, asking, best))
    assert outside.coverage > evidence.coverage
    # A question that is all asking part is read once: both coverages are the same.
    plain = "hvad gør vi hvis vores peer får et tilbagefald"
    plain_query = matcher.query(plain)
    assert plain_query.asking.query is None
    assert matcher.asking_query(plain_query) is plain_query
    evidence, outside, _ = matcher.judge(plain)
    assert evidence is not None and outside is not None
    assert outside.coverage == evidence.coverage


def test_an_asking_part_without_terms_falls_back_to_the_whole_question(matcher: Matcher) -> None:
    question = "Jeg er leder på et bosted med en peer, og jeg er i tvivl. Hvad så?"
    query = matcher.query(question)
    assert matcher.query("Hvad så?").terms == ()
    assert matcher.asking_query(query) is query


def test_the_asking_query_equals_reading_the_asking_part_on_every_eval_question(
    real: Matcher,
) -> None:
    """The plain twin of ``asking_query``'s shortcut (the question's own query when the asking
    part has the same words): reading the asking part every time gives the same terms, ids and
    weights, on every eval.yaml question."""
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    shortcuts = 0
    for question in (q.question for q in evalset.questions):
        query = real.query(question)
        fast = real.asking_query(query)
        shortcuts += fast is query
        plain = real.query(asking_part(question))
        if not plain.terms:
            plain = query
        assert fast.terms == plain.terms, question
        assert fast.known.ids.tolist() == plain.known.ids.tolist(), question
        assert fast.known.weights.tolist() == plain.known.weights.tolist(), question
        assert fast.known.unknown == plain.known.unknown, question
    assert 0 < shortcuts < len(evalset.questions)


def test_the_out_of_scope_model_is_a_logistic_model_of_its_evidence() -> None:
    model = OutOfScopeModel(-2.0, 3.0, 4.0, 2.0, -1.5, 0.5, -2.5)
    evidence = OutsideEvidence(
        off_topic=1.0, negative_gap=-0.2, unknown=0.3, coverage=0.6, word_odds=1.2, margin=0.4
    )
    z = -2.0 + 3.0 * 1.0 + 4.0 * -0.2 + 2.0 * 0.3 - 1.5 * 0.6 + 0.5 * 1.2 - 2.5 * 0.4
    assert model.probability(evidence) == pytest.approx(1 / (1 + math.exp(-z)))
    # A clear lead over the next answer says "in scope": the same question, a smaller margin,
    # a higher P(out of scope).
    close = dataclasses.replace(evidence, margin=0.05)
    assert model.probability(close) > model.probability(evidence)


def test_asking_back_is_turned_away_at_its_own_lower_threshold(
    knowledge: kb.KnowledgeBase,
) -> None:
    """The question without a subject word is at P(out of scope) 0.982: between
    ``reject_clarify`` 0.98 and ``reject`` 0.99 its "Mente du ...?" becomes a no-match (outside
    the subject) while an answer stands; a calibration.yaml without ``reject_clarify`` reads
    it as ``reject``."""
    question = "hvad hvis vedkommende faar tilbagefald"
    fitted = _with_out_of_scope(knowledge, reject=0.99)
    both = {"reject": 0.99, "reject_clarify": 0.98}
    asks_back = Matcher(fitted, thresholds=Thresholds(answer=1.1, clarify=0.0, **both))
    said_no = asks_back.match(question)
    assert said_no.status is Status.NO_MATCH and said_no.off_topic and said_no.suggestions == ()
    lenient = Thresholds(answer=1.1, clarify=0.0, reject=0.99, reject_clarify=0.99)
    assert Matcher(fitted, thresholds=lenient).match(question).status is Status.CLARIFY
    answers = Matcher(fitted, thresholds=Thresholds(answer=0.0, tie=0.0, **both))
    assert answers.match(question).status is Status.ANSWERED
    assert Matcher(fitted).thresholds.reject_clarify == 0.99
    assert Thresholds.fitted({"reject": 0.9, "reject_clarify": 0.6}).reject_clarify == 0.6
    turns = Thresholds(reject=0.9, reject_clarify=0.6)
    assert [turns.turns_away(s, 0.7) for s in (Status.ANSWERED, Status.CLARIFY)] == [False, True]
    assert not turns.turns_away(Status.NO_MATCH, 1.0)


def test_a_calibration_yaml_without_the_margin_weight_reads_it_as_zero(
    knowledge: kb.KnowledgeBase,
) -> None:
    """A calibration.yaml fitted before the margin was evidence still loads: margin weighs 0,
    so the model gives what it gave then."""
    matcher = Matcher(_with_out_of_scope(knowledge, reject=0.98))
    assert matcher.out_of_scope is not None and matcher.out_of_scope.margin == 0.0
    _, outside, _ = matcher.judge("hvad hvis vedkommende faar tilbagefald")
    assert outside is not None and outside.margin > 0
    assert matcher.out_of_scope.probability(outside) == pytest.approx(1 / (1 + math.exp(-4)))


def _with_out_of_scope(knowledge: kb.KnowledgeBase, reject: float) -> kb.KnowledgeBase:
    """A knowledge base whose out-of-scope model says a question without a subject word is
    outside (P 0.982 off topic, 0.119 on topic)."""
    model = {"intercept": -2.0, "off_topic": 6.0, "negative_gap": 0.0, "unknown": 0.0}
    decision = {
        "out_of_scope": {**model, "coverage": 0.0, "word_odds": 0.0},
        "thresholds": {"reject": reject},
    }
    subject = ("peer", "peer-medarbejder")
    return dataclasses.replace(knowledge, decision=decision, subject=subject)


def test_a_fitted_out_of_scope_model_says_no_at_its_threshold(knowledge: kb.KnowledgeBase) -> None:
    """The same well-matched question without a subject word: answered without the model or
    below its threshold, a no-match (outside the subject) at or above it; a question naming
    the subject is answered either way."""
    question, named = "hvad hvis vedkommende faar tilbagefald", "peer tilbagefald"
    plain = Matcher(dataclasses.replace(knowledge, subject=("peer", "peer-medarbejder")))
    assert plain.out_of_scope is None
    assert plain.match(question).status is Status.ANSWERED
    lenient = Matcher(_with_out_of_scope(knowledge, reject=0.99))
    assert lenient.match(question).status is Status.ANSWERED
    strict = Matcher(_with_out_of_scope(knowledge, reject=0.98))
    assert strict.thresholds.reject == 0.98
    _, outside, _ = strict.judge(question)
    assert outside is not None and outside.off_topic == 1.0
    assert strict.out_of_scope is not None
    assert strict.out_of_scope.probability(outside) == pytest.approx(1 / (1 + math.exp(-4)))
    said_no = strict.match(question)
    assert said_no.status is Status.NO_MATCH and said_no.off_topic and said_no.suggestions == ()
    assert said_no.item is not None and said_no.item.id == "peer-tilbagefald"  # for the log
    answered = strict.match(named)
    assert answered.status is Status.ANSWERED and answered.item is not None
    assert answered.item.id == "peer-tilbagefald"


# --- the decision ---------------------------------------------------------------------------


def _ranking(knowledge: kb.KnowledgeBase, *scores: float) -> list[tuple[kb.Item, float]]:
    return list(zip(knowledge.items, scores, strict=False))


THRESHOLDS = Thresholds(answer=0.6, tie=0.03, clarify=0.3, suggest_window=0.15)


def test_decide_answers_at_the_answer_probability(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.8, 0.5), 0.6, THRESHOLDS)
    assert result == Result("q", Status.ANSWERED, knowledge.items[0], 0.6)


def test_decide_asks_back_on_a_tie_whatever_the_probability(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.8, 0.78), 0.99, THRESHOLDS)
    assert result.status is Status.CLARIFY
    assert [s.item for s in result.suggestions] == list(knowledge.items[:2])
    assert decide("q", _ranking(knowledge, 0.8, 0.77), 0.99, THRESHOLDS).status is Status.ANSWERED


def test_decide_asks_back_with_at_most_three_near_items(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.8, 0.75, 0.7, 0.68), 0.5, THRESHOLDS)
    assert result.status is Status.CLARIFY and result.item is knowledge.items[0]
    assert [s.score for s in result.suggestions] == [0.8, 0.75, 0.7]
    near = decide("q", _ranking(knowledge, 0.6, 0.55, 0.35), 0.4, THRESHOLDS)
    assert near.suggestions == (
        Suggestion(knowledge.items[0], 0.6),
        Suggestion(knowledge.items[1], 0.55),
    )


def test_decide_admits_when_nothing_fits(knowledge: kb.KnowledgeBase) -> None:
    result = decide("q", _ranking(knowledge, 0.9, 0.1), 0.29, THRESHOLDS)
    assert result.status is Status.NO_MATCH and result.suggestions == ()
    assert result.item is knowledge.items[0]  # the best candidate, for the log
    assert decide("q", [], 0.0, THRESHOLDS) == Result("q", Status.NO_MATCH, None, 0.0)


def test_the_calibration_is_a_logistic_model_of_the_evidence() -> None:
    calibration = Calibration(-1.0, 2.0, 3.0, -1.0, 0.5, -0.5, 1.5, 0.25, 0.75, 2.5)
    evidence = Evidence(
        score=0.5,
        margin=0.1,
        negative=0.2,
        on_topic=1.0,
        phrasing_lead=0.3,
        bayes_lead=-0.2,
        surface_lead=0.4,
        agreement=2 / 3,
        coverage=0.6,
    )
    z = -1.0 + 2.0 * 0.5 + 3.0 * 0.1 - 1.0 * 0.2 + 0.5 * 1.0 - 0.5 * 0.3 + 1.5 * -0.2 + 0.25 * 0.4
    z += 0.75 * 2 / 3 + 2.5 * 0.6
    assert calibration.probability(evidence) == pytest.approx(1 / (1 + math.exp(-z)))
    low = Evidence(-1e6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert 0.0 < calibration.probability(low) < 1e-20


def test_the_evidence_counts_agreeing_signals_and_covered_words(real: Matcher) -> None:
    """Agreement: the share of signals that rank the best item first. Coverage: the share of
    the question's IDF mass among the best item's phrasing and tag terms, against a plain loop
    over those terms."""
    for question in ("hvad koster peeruddannelsen", "peer tavshedspligt kantinen frokost"):
        query = real.query(question)
        signals = real.signals(query)
        evidence, ranked = real.assess(question)
        assert evidence is not None
        best = ranked[0][0]
        tops = [max(range(len(v)), key=lambda i, v=v: (v[i], -i)) for v in signals.values()]
        assert evidence.agreement == pytest.approx(tops.count(best) / len(tops))
        vocabulary, index = real.index.vocabulary, real.index
        own = set(vocabulary.tags[best])
        for phrasing, item in zip(vocabulary.phrasings, vocabulary.phrasing_item, strict=True):
            if item == best:
                own.update(phrasing)
        ids, weights = query.known.ids.tolist(), query.known.weights.tolist()
        covered = sum(index.idf[t] * w for t, w in zip(ids, weights, strict=True) if t in own)
        mass = sum(index.idf[t] * w for t, w in zip(ids, weights, strict=True))
        mass += query.known.unknown * index.idf.max()
        assert evidence.coverage == pytest.approx(covered / mass)
    assert real.assess("peer tavshedspligt kantinen frokost")[0].coverage < 1.0


def test_the_evidence_reads_score_margin_and_topic(matcher: Matcher) -> None:
    evidence, ranked = matcher.assess("peer tilbagefald")
    assert evidence is not None
    assert matcher.kb.items[ranked[0][0]].id == "peer-tilbagefald"
    assert evidence.score == pytest.approx(matcher.scores("peer tilbagefald").max())
    assert evidence.margin == pytest.approx(ranked[0][1] - ranked[1][1])
    assert evidence.on_topic == 1.0 and evidence.negative == 0.0
    signals = matcher.signals(matcher.query("peer tilbagefald"))
    best = ranked[0][0]
    for name in ("phrasing", "bayes", "surface"):
        values = [float(v) for v in signals[name]]
        others = max(v for i, v in enumerate(values) if i != best)
        assert getattr(evidence, f"{name}_lead") == pytest.approx(values[best] - others), name


def test_items_with_the_same_answer_are_one_candidate(knowledge: kb.KnowledgeBase) -> None:
    first = knowledge.items[0]
    twin = dataclasses.replace(knowledge.items[1], answer=first.answer)
    doubled = Matcher(dataclasses.replace(knowledge, items=(first, twin, *knowledge.items[2:])))
    assert doubled.same_answer(0, 1) and not doubled.same_answer(0, 2)
    _, ranked = doubled.assess("bliver peers oftere syge")
    assert not {0, 1} <= {i for i, _ in ranked}


# --- odd input ------------------------------------------------------------------------------

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
    result = matcher.match(long_question)
    assert result.question == long_question  # as given
    assert result.status is Status.ANSWERED
    assert _fields(result) == _fields(matcher.match(long_question[:MAX_QUERY_CHARS]))
    hidden = "bla " * (MAX_QUERY_CHARS // 4 + 10) + head
    assert matcher.match(hidden).status is Status.NO_MATCH


def _fields(result: Result) -> tuple[object, ...]:
    return (result.status, result.item, result.score, result.suggestions)


def test_ranked_lists_items_best_first_with_scores_in_range(matcher: Matcher) -> None:
    ranked = matcher.ranked("peer tilbagefald syg", 3)
    assert 1 <= len(ranked) <= 3
    assert ranked[0][0].id == "peer-tilbagefald"
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores)


def test_matching_keeps_nothing_of_the_questions(matcher: Matcher) -> None:
    fresh = Matcher(matcher.kb)
    before = {name: id(value) for name, value in vars(fresh).items()}
    first = fresh.match("hvad med peerxq og tavshetspligt")
    for number in range(50):
        fresh.match(f"hvad med peerxq{number} og tavshedspligt i dag nummer {number}")
    assert {name: id(value) for name, value in vars(fresh).items()} == before
    assert fresh.match("hvad med peerxq og tavshetspligt") == first


def test_the_real_knowledge_base_finds_its_own_questions(real: Matcher) -> None:
    found = sum(real.ranked(item.question, 1)[0][0].id == item.id for item in real.kb.items)
    assert found >= 0.95 * len(real.kb.items)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("hvad koster peeruddannelsen", "peeruddannelse-pris-og-timing"),
        ("har en peer tavshedspligt", "peer-tavshedspligt"),
    ],
)
def test_real_questions_are_answered_not_hedged(
    real: Matcher, question: str, expected: str
) -> None:
    result = real.match(question)
    assert result.status is Status.ANSWERED
    assert result.item is not None and result.item.id == expected


def test_the_decision_numbers_of_calibration_yaml_are_the_matchers_fields() -> None:
    """kb.py checks calibration.yaml's names without importing the matcher: the same names."""
    calibration, thresholds = kb.DECISION_KEYS["calibration"], kb.DECISION_KEYS["thresholds"]
    assert set(calibration[0]) == {f.name for f in dataclasses.fields(Calibration)}
    required, optional = kb.DECISION_KEYS["out_of_scope"]
    assert {*required, *optional} == {f.name for f in dataclasses.fields(OutOfScopeModel)}
    defaults = {f.name for f in dataclasses.fields(OutOfScopeModel) if f.default is not MISSING}
    assert set(optional) == defaults == {"margin"}
    numbers = {f.name for f in dataclasses.fields(Thresholds) if f.type in ("float", float)}
    assert set(thresholds[1]) == numbers


def test_a_knowledge_base_with_calibration_yaml_decides_by_it(knowledge: kb.KnowledgeBase) -> None:
    strict = dataclasses.replace(
        knowledge,
        decision={
            "calibration": {
                "intercept": -9.0,
                "score": 1,
                "margin": 1,
                "negative": 0,
                "on_topic": 0,
                "phrasing_lead": 0,
                "bayes_lead": 0,
                "surface_lead": 0,
                "agreement": 0,
                "coverage": 0,
            },
            "thresholds": {"answer": 0.99, "clarify": 0.98},
        },
    )
    matcher = Matcher(strict)
    assert matcher.calibration == Calibration(-9.0, 1, 1, 0, 0, 0, 0, 0, 0, 0)
    assert (matcher.thresholds.answer, matcher.thresholds.clarify) == (0.99, 0.98)
    assert matcher.thresholds.tie == Thresholds().tie  # not in the file: the default
    result = matcher.match("Har peer-medarbejderen tavshedspligt?")
    assert result.status is Status.NO_MATCH and result.score < 0.01
    assert (
        Matcher(knowledge).match("Har peer-medarbejderen tavshedspligt?").status is Status.ANSWERED
    )


def test_the_real_knowledge_base_has_its_fitted_decision(real: Matcher) -> None:
    assert set(real.kb.decision) == {"calibration", "thresholds", "out_of_scope"}
    assert real.out_of_scope is not None and real.thresholds.reject < 1.0
    assert real.calibration != CALIBRATION and real.thresholds != Thresholds()


@pytest.mark.parametrize(
    "question",
    [
        "Jeg er ny leder på et værested i Randers. Hvordan skriver vi et godt stillingsopslag "
        "til en peer?",
        "Jeg er leder i Vejle Kommune, hvordan forbereder vi personalet på at få en peer?",
    ],
)
def test_an_askers_introduction_does_not_make_a_question_out_of_scope(
    real: Matcher, question: str
) -> None:
    """Who asks ("Jeg er ny leder på et værested i Randers") is not what is asked: the best
    item explains the asking part, and the question is answered or asked back with the item
    (the introduction lowers P(right) below the answer threshold for the first), never turned
    away as outside the subject."""
    evidence, outside, ranked = real.judge(question)
    assert evidence is not None and outside is not None and real.out_of_scope is not None
    assert outside.coverage > evidence.coverage
    assert real.out_of_scope.probability(outside) < real.thresholds.reject_clarify
    result = real.match(question)
    assert result.status in (Status.ANSWERED, Status.CLARIFY) and not result.off_topic
    assert result.item is real.kb.items[ranked[0][0]]
