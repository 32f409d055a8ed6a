"""Rendering: the one place results become Danish words, escaped for Telegram, citation included."""

from html import escape
from pathlib import Path

import pytest

from faqbot import kb, render
from faqbot.matcher import Matcher, Result, Status, Suggestion

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"


@pytest.fixture(scope="module")
def knowledge() -> kb.KnowledgeBase:
    return kb.load(FIXTURE)


def test_answer_html_is_escaped_answer_blank_line_escaped_citation(
    knowledge: kb.KnowledgeBase,
) -> None:
    item = knowledge.item("peer-tavshedspligt")  # cites "Guide B <om> & ledere"
    html = render.answer_html(item, knowledge)
    citation = knowledge.citation(item.sources[0])
    assert "<om>" in citation
    assert html == f"{escape(item.answer)}\n\n{escape(citation)}"
    assert "&lt;om&gt; &amp;" in html and "<om>" not in html


def test_answer_plain_keeps_the_citation_line_unchanged(knowledge: kb.KnowledgeBase) -> None:
    item = knowledge.item("peer-syg")
    plain = render.answer_plain(item, knowledge)
    assert plain == f"{item.answer}\n\nKilde: Guide A om peers (Forlaget A, 2020), Kapitel 1"


def test_a_quote_follows_with_its_own_citation(knowledge: kb.KnowledgeBase) -> None:
    item = knowledge.item("peer-tilbagefald")
    plain = render.answer_plain(item, knowledge)
    assert plain.startswith(f"{item.answer}\n\n{knowledge.citation(item.sources[0])}")
    assert plain.endswith(
        "»Tilbagefald er en del af livet.«\nKilde: Guide B <om> & ledere (Forlaget B, 2021), Del 3"
    )
    html = render.answer_html(item, knowledge)
    assert "<i>»Tilbagefald er en del af livet.«</i>" in html
    assert "Guide B &lt;om&gt; &amp; ledere" in html


def test_result_for_each_status(knowledge: kb.KnowledgeBase) -> None:
    item, other = knowledge.item("peer-medicin"), knowledge.item("peer-medicin-egen")
    answered = Result("q", Status.ANSWERED, item, 0.9, ())
    assert render.result_plain(answered, knowledge) == render.answer_plain(item, knowledge)
    assert render.result_html(answered, knowledge) == render.answer_html(item, knowledge)

    clarify = Result(
        "q", Status.CLARIFY, item, 0.5, (Suggestion(item, 0.5), Suggestion(other, 0.45))
    )
    assert render.result_plain(clarify, knowledge) == (
        f"{render.CLARIFY_LEAD}\n1. {item.question}\n2. {other.question}"
    )
    assert render.CLARIFY_LEAD.startswith("Mente du") and render.CLARIFY_LEAD.endswith("?")

    no_match = Result("q", Status.NO_MATCH, item, 0.1, ())
    assert render.result_plain(no_match, knowledge) == render.NO_MATCH_TEXT
    assert "/emner" in render.NO_MATCH_TEXT and "leder" in render.NO_MATCH_TEXT
    assert render.result_html(no_match, knowledge) == escape(render.NO_MATCH_TEXT)

    safety = Result("q", Status.SAFETY, None, 1.0, ())
    assert render.result_plain(safety, knowledge) == knowledge.safety.response
    assert "112" in render.result_html(safety, knowledge)


def test_clarify_html_escapes_the_suggested_questions(knowledge: kb.KnowledgeBase) -> None:
    item = knowledge.item("peer-medicin")
    tricky = kb.Item(**{**item.__dict__, "question": "A <b> & c?"})
    result = Result("q", Status.CLARIFY, tricky, 0.5, (Suggestion(tricky, 0.5),))
    assert render.result_html(result, knowledge).endswith("1. A &lt;b&gt; &amp; c?")


def test_sources_listing(knowledge: kb.KnowledgeBase) -> None:
    html = render.sources_html(knowledge)
    assert '<a href="https://example.org/guide-a">Guide A om peers</a> (Forlaget A, 2020)' in html
    assert "Guide B &lt;om&gt; &amp; ledere (Forlaget B, 2021)" in html
    plain = render.sources_plain(knowledge)
    assert "• Guide A om peers (Forlaget A, 2020)\n  https://example.org/guide-a" in plain
    assert "• Guide B <om> & ledere (Forlaget B, 2021)" in plain


def test_categories_and_category_listings(knowledge: kb.KnowledgeBase) -> None:
    assert render.categories_plain(knowledge).splitlines()[1:] == [
        "1. Sygdom (4)",
        "2. Tavshedspligt (2)",
    ]
    lines = render.category_plain(knowledge, "Tavshedspligt").splitlines()
    assert lines == [
        "Tavshedspligt:",
        "1. Har peer-medarbejderen tavshedspligt?",
        "2. Har peeren oplysningspligt, hvis en patient er til fare for sig selv?",
    ]


def test_rendering_a_real_match_end_to_end(knowledge: kb.KnowledgeBase) -> None:
    result = Matcher(knowledge).match("har peeren tavshedspligt")
    text = render.result_plain(result, knowledge)
    assert text.endswith("Kilde: Guide B <om> & ledere (Forlaget B, 2021), Spørgsmål og svar")
