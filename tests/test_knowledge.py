"""Coverage floors of the real knowledge base, so they cannot silently drop."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from faqbot import kb

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

CATEGORIES = {
    "Sygdom og fravær",
    "Tavshedspligt og oplysningspligt",
    "Medicin og behandling",
    "Kommunikation og samarbejde",
    "Rolle og opgaver",
    "Uddannelse, supervision og mentor",
    "Ansættelse, løn og timer",
    "Opstart og onboarding",
    "Ledelse",
    "Begreber",
    "Arbejdsmarked og dilemmaer",
}
MOST_ASKED = (
    "Sygdom og fravær",
    "Tavshedspligt og oplysningspligt",
    "Medicin og behandling",
    "Kommunikation og samarbejde",
)


@pytest.fixture(scope="module")
def knowledge() -> kb.KnowledgeBase:
    return kb.load(KNOWLEDGE)


@pytest.fixture(scope="module")
def evalset(knowledge: kb.KnowledgeBase) -> kb.EvalSet:
    return kb.load_eval(KNOWLEDGE / "eval.yaml", knowledge)


def test_the_real_knowledge_base_validates() -> None:
    assert [str(problem) for problem in kb.validate(KNOWLEDGE)] == []


def test_at_least_80_items_in_every_category(knowledge: kb.KnowledgeBase) -> None:
    assert len(knowledge.items) >= 80
    assert set(knowledge.categories) >= CATEGORIES
    per_category = Counter(item.category for item in knowledge.items)
    for category in MOST_ASKED:
        assert per_category[category] >= 5, category
    for category in CATEGORIES:
        assert per_category[category] >= 3, category


def test_five_sources_all_cited(knowledge: kb.KnowledgeBase) -> None:
    assert len(knowledge.sources) == 5
    cited = {ref.source for item in knowledge.items for ref in item.sources}
    assert cited == {source.id for source in knowledge.sources}


def test_every_item_has_five_alternates_and_a_sized_answer(knowledge: kb.KnowledgeBase) -> None:
    for item in knowledge.items:
        assert len(item.alternates) >= 5, item.id
        words = len(item.answer.split())
        assert 30 <= words <= 200, f"{item.id}: {words} words"


def test_most_items_point_to_related_items(knowledge: kb.KnowledgeBase) -> None:
    with_related = sum(1 for item in knowledge.items if item.related)
    assert with_related >= 0.9 * len(knowledge.items)


def test_eval_set_covers_every_item_twice(knowledge: kb.KnowledgeBase, evalset: kb.EvalSet) -> None:
    per_item = Counter(question.expect for question in evalset.questions)
    for item in knowledge.items:
        assert per_item[item.id] >= 2, item.id
    assert len(evalset.out_of_scope) >= 25
    assert len(evalset.crisis) >= 8
    assert evalset.floors == {
        "answered_right": 0.72,
        "wrong_answer_max": 0.03,
        "asked_back_max": 0.10,
        "top1": 0.90,
        "out_of_scope_rejection": 0.90,
        "safety_recall": 1.0,
    }


def test_eval_questions_are_not_copies_of_item_phrasings(
    knowledge: kb.KnowledgeBase, evalset: kb.EvalSet
) -> None:
    phrasings = {" ".join(p.casefold().split()) for item in knowledge.items for p in item.phrasings}
    copies = [
        q.question
        for q in evalset.questions
        if " ".join(q.question.casefold().split()) in phrasings
    ]
    assert copies == []


def test_the_house_rules_hold_the_floors_above() -> None:
    """rules.yaml states these rules for `faqbot validate`; they must not be lowered quietly."""
    rules = kb.house_rules(KNOWLEDGE)
    assert rules.min_items >= 80
    assert rules.min_items_per_category >= 3
    assert rules.min_alternates >= 5
    assert rules.min_answer_words >= 30
    assert 0 < rules.max_answer_words <= 200
    assert rules.min_related_share >= 0.9
    assert rules.min_eval_questions_per_item >= 2
    assert rules.min_eval_out_of_scope >= 25
    assert rules.min_eval_crisis >= 8
    assert rules.every_source_cited


def test_the_categories_are_declared_once_in_categories_yaml() -> None:
    declared = yaml.safe_load((KNOWLEDGE / "categories.yaml").read_text(encoding="utf-8"))
    assert {entry["name"] for entry in declared} == CATEGORIES
    assert {entry["name"] for entry in declared if entry.get("min_items", 0) >= 5} == set(
        MOST_ASKED
    )
