"""Grouping similar question texts (``faqbot.similar``), shared by the report and suggest."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from faqbot.similar import (
    SIMILAR,
    TextGroup,
    _default_terms,
    _Group,
    _lines,
    _plain,
    canonical_terms,
    group_similar,
    same_term,
    similarity,
)

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def timed(texts: list[str]) -> list[tuple[datetime, str]]:
    return [(START + timedelta(minutes=n), text) for n, text in enumerate(texts)]


def lines(groups: list[TextGroup]) -> list[tuple[int, str, tuple[str, ...]]]:
    return [(group.count, group.text, group.variants) for group in groups]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kan en peer have nattevagt?", "Må peers tage nattevagter?"),
        ("Hvad tjener en peer?", "hvad tjener en per"),  # a typo
        ("Kan min peer-kollega få fleksjob?", "Kan en peer være på fleksjob"),  # a compound
        ("Hvornår åbner kantinen?", "Kantinen åbner hvornår"),  # word order
        ("HVAD SÅ??", "hvad så"),  # no terms at all: casefolded words
    ],
)
def test_the_same_question_asked_differently_is_one_group(a: str, b: str) -> None:
    groups = group_similar(timed([a, b]))
    assert lines(groups) == [(2, a, (b,))]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Må en peer have nattevagt?", "Må en peer have nøgler?"),
        ("Hvad tjener en peer?", "Hvad får peers i ferie?"),
        ("Kan en peer have nattevagt?", "Hvornår åbner kantinen?"),
        ("hvad så", "hvad nu"),
    ],
)
def test_different_questions_stay_apart(a: str, b: str) -> None:
    assert [group.count for group in group_similar(timed([a, b]))] == [1, 1]


def test_groups_are_ordered_by_size_then_by_the_latest_question() -> None:
    groups = group_similar(
        timed(
            [
                "Hvad tjener en peer?",
                "Må en peer køre bil med borgere?",
                "hvad tjener en peer",
                "Kan en peer have nattevagt?",
                "Hvad tjener en peer?",
                "  ",
                "???",
            ]
        )
    )
    assert lines(groups) == [
        (3, "Hvad tjener en peer?", ("hvad tjener en peer",)),  # the most frequent wording
        (1, "???", ()),  # no words at all, still counted; the latest of the single ones
        (1, "Kan en peer have nattevagt?", ()),  # asked after the bil question
        (1, "Må en peer køre bil med borgere?", ()),
    ]
    assert groups[0].last_asked == START + timedelta(minutes=4)
    assert groups[0].wordings == (("Hvad tjener en peer?", 2), ("hvad tjener en peer", 1))


def test_whitespace_inside_a_text_is_one_space() -> None:
    [group] = group_similar(timed(["Hvad  tjener\nen peer?", "Hvad tjener en peer?"]))
    assert group.wordings == (("Hvad tjener en peer?", 2),)


def test_a_custom_normaliser_is_used() -> None:
    def letters(text: str) -> tuple[str, ...]:
        return tuple(sorted(set(text.casefold()) - {" ", "?"}))

    groups = group_similar(timed(["abc", "cab?", "xyz"]), terms=letters)
    assert [(g.count, g.text) for g in groups] == [(2, "abc"), (1, "xyz")]


def test_same_term_and_similarity() -> None:
    assert same_term("peer", "per") and same_term("peerkollega", "peer")
    assert same_term("nattevagt", "natevagt") and same_term("sygefravar", "fravar")
    assert not same_term("lon", "lov") and not same_term("syg", "sygeplejersk")
    assert similarity(frozenset({"a", "b"}), frozenset({"a", "b"})) == 1.0
    assert similarity(frozenset({"peer", "lon"}), frozenset({"peer", "ferie"})) == 0.5
    assert similarity(frozenset(), frozenset({"a"})) == 0.0


def test_canonical_terms_prefer_the_more_frequent_spelling() -> None:
    counts = Counter({"peer": 5, "per": 1, "peerkollega": 2, "lon": 3, "lonn": 1, "ferie": 1})
    assert canonical_terms(counts) == {
        "peer": "peer",
        "peerkollega": "peer",
        "per": "peer",
        "lon": "lon",
        "lonn": "lon",
        "ferie": "ferie",
    }


# --------------------------------------------------------------------------------------------
# The inverted index against the plain loop
# --------------------------------------------------------------------------------------------


def reference_canonical_terms(counts: Counter[str]) -> dict[str, str]:
    """The slow twin of ``canonical_terms``: every earlier canonical term tried in turn."""
    mapping: dict[str, str] = {}
    canonical: list[str] = []
    for term in sorted(counts, key=lambda t: (-counts[t], t)):
        mapping[term] = next((c for c in canonical if same_term(term, c)), term)
        if mapping[term] == term:
            canonical.append(term)
    return mapping


def reference_group_similar(texts: list[tuple[datetime, str]]) -> list[TextGroup]:
    """The slow, obvious twin of ``group_similar``: every text compared with every group."""
    analyse = _default_terms()
    entries = [(t, " ".join(raw.split())) for t, raw in texts if raw.strip()]
    found = [(t, text, analyse(text)) for t, text in entries]
    mapping = reference_canonical_terms(Counter(term for *_, ts in found for term in set(ts)))
    groups: list[_Group] = []
    seen: list[tuple[object, _Group]] = []  # a repeat joins the group its first occurrence did
    for asked_at, text, terms in found:
        term_set = frozenset(mapping[term] for term in terms)
        key = term_set or _plain(text) or text.casefold()
        chosen = next((group for earlier, group in seen if earlier == key), None)
        if chosen is None and term_set:
            scored = [(similarity(term_set, g.terms), -i) for i, g in enumerate(groups)]
            best = max(scored, default=(0.0, 0))
            if best[0] >= SIMILAR:
                chosen = groups[-best[1]]
        if chosen is None:
            chosen = _Group(term_set)
            groups.append(chosen)
        seen.append((key, chosen))
        chosen.texts[text] += 1
        chosen.last = asked_at if chosen.last is None else max(chosen.last, asked_at)
    return _lines(groups)


def eval_questions() -> list[str]:
    """Realistic question texts: the tuning eval set's questions and out-of-scope ones."""
    data = yaml.safe_load((KNOWLEDGE / "eval.yaml").read_text(encoding="utf-8"))
    questions = [entry["q"] for entry in data["questions"]]
    return questions + list(data.get("out_of_scope", []))


def test_canonical_terms_match_the_plain_loop() -> None:
    terms = _default_terms()
    counts = Counter(term for question in eval_questions() for term in set(terms(question)))
    assert len(counts) > 500
    assert canonical_terms(counts) == reference_canonical_terms(counts)


def test_the_index_groups_exactly_like_the_plain_loop() -> None:
    questions = eval_questions()
    rng = random.Random(15)
    texts = questions + [q.lower().rstrip("?") for q in rng.sample(questions, 80)]
    texts += [" ".join(rng.sample(q.split(), len(q.split()))) for q in rng.sample(questions, 80)]
    rng.shuffle(texts)
    timed_texts = timed(texts)
    fast = group_similar(timed_texts)
    assert fast == reference_group_similar(timed_texts)
    assert sum(group.count for group in fast) == len(texts)
    assert len(fast) < len(texts)  # something was grouped


def test_every_text_is_in_exactly_one_group() -> None:
    texts = [f"{a} {b}" for a, b in itertools.product(["peer løn", "nattevagt", "ferie"], "xyz")]
    groups = group_similar(timed(texts))
    counted: Counter[str] = Counter()
    for group in groups:
        for text, times in group.wordings:
            counted[text] += times
    assert counted == Counter(texts)
