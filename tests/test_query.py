"""Reading a question: its asking part is cut once, and a clause that introduces the asker
("Jeg arbejder som sygeplejerske på ...") counts less in the ranking, never in the evidence
about scope; the fast reading equals a plain one (the rest read as a question of its own)."""

from pathlib import Path

import numpy as np
import pytest

from faqbot import kb
from faqbot.matcher import Matcher
from faqbot.matcher.answerable import asking_part, without_introduction
from faqbot.matcher.query import INTRODUCTION_WEIGHT, Query
from faqbot.matcher.signals import SIGNALS, phrasing

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
INTRODUCED = (
    "Jeg arbejder med medicin på et lukket afsnit, hvad gør vi hvis vores peer får et tilbagefald?"
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(kb.load(FIXTURE))


@pytest.fixture(scope="module")
def real() -> Matcher:
    return Matcher(kb.load(KNOWLEDGE))


@pytest.mark.parametrize(
    ("question", "rest"),
    [
        (
            "Jeg arbejder som sygeplejerske på en lukket afdeling i Aarhus. Hvordan støtter jeg "
            "en ny peerkollega bedst?",
            "Hvordan støtter jeg en ny peerkollega bedst?",
        ),
        (
            "Jeg er leder i Vejle Kommune, hvordan forbereder vi personalet?",
            " hvordan forbereder vi personalet?",
        ),
        # A situation stays (only the asker's own clause goes), in every sentence.
        (
            "Vores peer er syg igen. Jeg er leder, hvad gør vi?",
            "Vores peer er syg igen.  hvad gør vi?",
        ),
        ("hvad gør vi hvis peeren er syg", "hvad gør vi hvis peeren er syg"),
    ],
)
def test_without_introduction_drops_the_clauses_that_introduce_the_asker(
    question: str, rest: str
) -> None:
    assert without_introduction(question) == rest


def test_the_asking_part_is_cut_once_and_kept_on_the_query(matcher: Matcher) -> None:
    query = matcher.query(INTRODUCED)
    assert query.asking.text == asking_part(INTRODUCED)
    assert query.asking.query is not None
    assert query.asking.query.terms == matcher.query(asking_part(INTRODUCED)).terms
    assert matcher.asking_query(INTRODUCED, query) is query.asking.query
    plain = matcher.query("hvad gør vi hvis vores peer får et tilbagefald")
    assert plain.asking.query is None  # the whole question asks: read once
    assert plain.ranking is None and plain.ranked is plain


def test_a_term_only_in_the_introduction_weighs_less_in_the_ranking(matcher: Matcher) -> None:
    query = matcher.query(INTRODUCED)
    ranking = query.ranking
    assert ranking is not None and ranking.ranking is None
    vocabulary = matcher.index.vocabulary
    weights = dict(zip(ranking.known.ids.tolist(), ranking.known.weights.tolist(), strict=True))
    plain = dict(zip(query.known.ids.tolist(), query.known.weights.tolist(), strict=True))
    medicin = vocabulary.term_ids[vocabulary.normalizer.terms("medicin")[0]]
    tilbagefald = vocabulary.term_ids[vocabulary.normalizer.terms("tilbagefald")[0]]
    assert weights[medicin] == pytest.approx(INTRODUCTION_WEIGHT * plain[medicin])
    assert weights[tilbagefald] == plain[tilbagefald]
    assert ranking.mass < query.mass
    # The evidence about scope reads the question as written.
    assert query.known.weights.tolist() == [plain[i] for i in query.known.ids.tolist()]


def test_the_introduction_pulls_the_ranking_less(matcher: Matcher) -> None:
    """Read as written, "medicin" in the asker's introduction lends the medicine item part of
    the question's words; read for the ranking, the item the question asks about gains on it."""
    query = matcher.query(INTRODUCED)
    assert query.ranking is not None
    items = [item.id for item in matcher.kb.items]
    asked, context = items.index("peer-tilbagefald"), items.index("peer-medicin")
    written = phrasing(matcher.index, query)
    ranked = phrasing(matcher.index, query.ranking)
    assert ranked[asked] > written[asked]
    assert ranked[context] < written[context]
    assert ranked[asked] - ranked[context] > written[asked] - written[context]
    signals = matcher.signals(query)
    for name, values in signals.items():
        assert values.tolist() == SIGNALS[name](matcher.index, query.ranking).tolist()


def plain_ranking(matcher: Matcher, question: str) -> tuple[list[float], float, list[float]]:
    """The reference ranking reading: the question and its rest without the introduction read
    as two questions; a term id or trigram id the rest lacks counts ``INTRODUCTION_WEIGHT``,
    and an unknown word the rest lacks too (as many as the whole has more)."""
    whole = matcher.query(question)
    rest = matcher.query(without_introduction(question))
    factor = np.where(np.isin(whole.known.ids, rest.known.ids), 1.0, INTRODUCTION_WEIGHT)
    weights = whole.known.weights * factor
    idf = matcher.index.idf
    extra = whole.known.unknown - rest.known.unknown
    unknown = rest.known.unknown + INTRODUCTION_WEIGHT * extra
    mass = float((idf[whole.known.ids] * weights).sum()) + unknown * float(idf.max(initial=1.0))
    grams = np.where(np.isin(whole.surface.ids, rest.surface.ids), 1.0, INTRODUCTION_WEIGHT)
    return weights.tolist(), mass, grams.tolist()


def test_the_ranking_reading_equals_the_plain_reading_on_every_eval_question(
    real: Matcher,
) -> None:
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    introduced = 0
    for question in (q.question for q in evalset.questions):
        query: Query = real.query(question)
        if query.ranking is None:
            continue
        introduced += 1
        weights, mass, grams = plain_ranking(real, question)
        ranking = query.ranking
        assert ranking.known.ids.tolist() == query.known.ids.tolist(), question
        assert ranking.known.weights.tolist() == pytest.approx(weights), question
        assert ranking.mass == pytest.approx(mass), question
        assert ranking.surface.emphasis is not None
        assert ranking.surface.emphasis.tolist() == grams, question
    assert introduced > 20
