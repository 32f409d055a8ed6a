"""The validator's rules a maintainer meets: unreadable files reported alone, "did you mean"
hints, declared categories, normalised duplicates, an empty knowledge base, honest eval sets, and
the house rules of rules.yaml. One broken copy of the fixture per rule, with its exact message."""

import shutil
from pathlib import Path

import pytest

from faqbot import kb

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kb"

CATEGORIES = "- name: Sygdom og fravær\n- name: Tavshedspligt og oplysningspligt\n"
NEW_ITEM = """\
- id: nyt-item
  category: {category}
  question: {question}
  alternates:
    - {alternate}
  answer: Et svar.
  sources:
    - source: guide-a
      section: Del 1
"""


def new_item(
    category: str = "Sygdom og fravær",
    question: str = "Et nyt spørgsmål?",
    alternate: str = "en ny formulering",
) -> str:
    return NEW_ITEM.format(category=category, question=question, alternate=alternate)


@pytest.fixture
def kb_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the fixture at ./kb, so problems print as kb/<file>:<line>."""
    shutil.copytree(FIXTURE, tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    return Path("kb")


def problems_after(kb_copy: Path, files: dict[str, str]) -> list[str]:
    for name, content in files.items():
        (kb_copy / name).write_text(content, encoding="utf-8")
    return [str(problem) for problem in kb.validate(kb_copy)]


# --- a file that cannot be read is reported first and alone ------------------------------------

BAD_INDENT = """\
- id: peer-tavshed
  category: Tavshedspligt og oplysningspligt
  question: Har en peer-medarbejder tavshedspligt?
   alternates:
    - Må peeren fortælle videre?
"""


def test_an_unreadable_item_file_is_reported_alone(kb_copy: Path) -> None:
    # peer-tavshed is lost with the file: sygdom.yaml's "related: [peer-tavshed]" and eval.yaml's
    # question about it would follow, and must not be reported.
    assert problems_after(kb_copy, {"items/tavshed.yaml": BAD_INDENT}) == [
        "kb/items/tavshed.yaml:4: invalid YAML: mapping values are not allowed here (a ':' "
        "where YAML does not expect one: put the text in quotes, or check the indentation)"
    ]


def test_every_unreadable_file_is_listed_and_nothing_else(kb_copy: Path) -> None:
    assert problems_after(
        kb_copy,
        {
            "items/tavshed.yaml": "- id: peer-tavshed\n\tquestion: x\n",
            "items/zz.yaml": new_item(category="Ukendt") + "  farve: blå\n",
            "sources.yaml": "",
        },
    ) == [
        "kb/items/tavshed.yaml:2: invalid YAML: found character '\\t' that cannot start any "
        "token (indent with spaces, not tabs)",
        "kb/sources.yaml:1: file is empty",
    ]


def test_an_unreadable_eval_set_is_reported_alone(kb_copy: Path) -> None:
    assert problems_after(
        kb_copy,
        {"eval.yaml": "questions:\n  - q: @hej\n", "items/zz.yaml": new_item() + "  farve: blå\n"},
    ) == [
        "kb/eval.yaml:2: invalid YAML: found character '@' that cannot start any token "
        "(put text that starts with @, ` or % in quotes)"
    ]


def test_an_unreadable_rules_file_is_reported_alone(kb_copy: Path) -> None:
    assert problems_after(kb_copy, {"rules.yaml": "min_alternates: [5\n"}) == [
        "kb/rules.yaml:2: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


# --- names: did you mean ------------------------------------------------------------------------


def test_an_unknown_key_without_a_close_one_lists_the_known_keys(kb_copy: Path) -> None:
    assert problems_after(kb_copy, {"items/zz.yaml": new_item() + "  farve: blå\n"}) == [
        "kb/items/zz.yaml:10: item 'nyt-item': unknown key 'farve' (expected one of: "
        "alternates, answer, category, id, question, quote, related, sources, tags)"
    ]


def test_an_unknown_key_of_a_source_gets_a_hint(kb_copy: Path) -> None:
    sources = (FIXTURE / "sources.yaml").read_text(encoding="utf-8")
    assert problems_after(kb_copy, {"sources.yaml": sources.replace("  url:", "  ulr:")}) == [
        "kb/sources.yaml:5: source 'guide-a': unknown key 'ulr' (did you mean 'url'?)"
    ]


# --- categories ---------------------------------------------------------------------------------


def test_a_category_typo_is_an_unknown_category_with_a_hint(kb_copy: Path) -> None:
    files = {
        "categories.yaml": CATEGORIES,
        "items/zz.yaml": new_item(category="Tavshedspligt og Oplysningspligt"),
    }
    assert problems_after(kb_copy, files) == [
        "kb/items/zz.yaml:2: item 'nyt-item': unknown category 'Tavshedspligt og "
        "Oplysningspligt' (did you mean 'Tavshedspligt og oplysningspligt'?); the categories are "
        "listed in categories.yaml"
    ]


def test_a_new_category_must_be_declared(kb_copy: Path) -> None:
    files = {"categories.yaml": CATEGORIES, "items/zz.yaml": new_item(category="Kantinen")}
    assert problems_after(kb_copy, files) == [
        "kb/items/zz.yaml:2: item 'nyt-item': unknown category 'Kantinen' (expected one of: "
        "Sygdom og fravær, Tavshedspligt og oplysningspligt); the categories are listed in "
        "categories.yaml"
    ]


def test_a_declared_category_needs_an_item(kb_copy: Path) -> None:
    files = {"categories.yaml": CATEGORIES + "- name: Ledelse\n"}
    assert problems_after(kb_copy, files) == [
        "kb/categories.yaml:3: category 'Ledelse' has no items"
    ]


def test_a_category_is_declared_once(kb_copy: Path) -> None:
    files = {"categories.yaml": CATEGORIES + "- name: sygdom  og fravær\n  nme: x\n"}
    assert problems_after(kb_copy, files) == [
        "kb/categories.yaml:3: category 'sygdom og fravær' is already declared at line 1",
        "kb/categories.yaml:4: category 'sygdom og fravær': unknown key 'nme' (did you mean "
        "'name'?)",
    ]


def test_without_categories_yaml_a_spelling_variant_of_a_category_is_a_problem(
    kb_copy: Path,
) -> None:
    assert problems_after(kb_copy, {"items/zz.yaml": new_item(category="Sygdom og Fravaer")}) == [
        "kb/items/zz.yaml:2: item 'nyt-item': category 'Sygdom og Fravaer' differs from 'Sygdom "
        "og fravær' (kb/items/sygdom.yaml:2) only in its spelling"
    ]


# --- a knowledge base must have content (issue 14) ---------------------------------------------


def test_an_item_file_without_items_is_a_problem(kb_copy: Path) -> None:
    assert problems_after(kb_copy, {"items/zz.yaml": "[]\n"}) == [
        "kb/items/zz.yaml:1: no items in this file; an item file needs at least one"
    ]


def test_a_knowledge_base_without_items_does_not_load(kb_copy: Path) -> None:
    (kb_copy / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    for path in (kb_copy / "items").glob("*.yaml"):
        path.write_text("[]\n", encoding="utf-8")
    expected = [
        "kb/categories.yaml:1: category 'Sygdom og fravær' has no items",
        "kb/categories.yaml:2: category 'Tavshedspligt og oplysningspligt' has no items",
        "kb/items/sygdom.yaml:1: no items in this file; an item file needs at least one",
        "kb/items/tavshed.yaml:1: no items in this file; an item file needs at least one",
    ]
    assert [str(problem) for problem in kb.validate(kb_copy)] == expected
    with pytest.raises(kb.InvalidKnowledgeBase) as caught:
        kb.load(kb_copy)
    assert [str(problem) for problem in caught.value.problems] == expected


# --- phrasings ------------------------------------------------------------------------------------


def test_phrasings_are_the_same_after_normalisation_within_an_item(kb_copy: Path) -> None:
    item = new_item(question="Hvad er peer-støtte?", alternate="hvad er PEERSTOETTE")
    assert problems_after(kb_copy, {"items/zz.yaml": item}) == [
        "kb/items/zz.yaml:5: item 'nyt-item': phrasing 'hvad er PEERSTOETTE' is the same as "
        "'Hvad er peer-støtte?' at line 3 (case, punctuation, spacing and æ/ae/a spellings are "
        "ignored)"
    ]


def test_a_phrasing_repeated_word_for_word(kb_copy: Path) -> None:
    item = new_item(question="Et nyt spørgsmål?", alternate="Et nyt spørgsmål?")
    assert problems_after(kb_copy, {"items/zz.yaml": item}) == [
        "kb/items/zz.yaml:5: item 'nyt-item': phrasing 'Et nyt spørgsmål?' is repeated "
        "(first at line 3)"
    ]


def test_phrasings_are_the_same_after_normalisation_across_items(kb_copy: Path) -> None:
    item = new_item(alternate="'Er peers mere syge end andre...!'")
    assert problems_after(kb_copy, {"items/zz.yaml": item}) == [
        "kb/items/zz.yaml:5: item 'nyt-item': phrasing 'Er peers mere syge end andre...!' is "
        "already used by item 'peer-syg' as 'Er peers mere syge end andre?' "
        "(kb/items/sygdom.yaml:5)"
    ]


def test_a_phrasing_needs_words(kb_copy: Path) -> None:
    assert problems_after(kb_copy, {"items/zz.yaml": new_item(alternate="'???'")}) == [
        "kb/items/zz.yaml:5: item 'nyt-item': phrasing '???' has no words to match on"
    ]


# --- an honest eval set -------------------------------------------------------------------------

EVAL = """\
floors: {top1: 0.5}
questions:
  - q: bliver peers syge
    expect: peer-syg
  - q: har en peer medarbejder TAVSHEDSPLIGT
    expect: peer-tavshed
out_of_scope:
  - hvornår er der frokost
crisis:
  - jeg vil begå selvmord
"""


def test_an_eval_question_must_not_be_a_phrasing(kb_copy: Path) -> None:
    assert problems_after(kb_copy, {"eval.yaml": EVAL}) == [
        "kb/eval.yaml:5: eval question 'har en peer medarbejder TAVSHEDSPLIGT' is a phrasing of "
        "item 'peer-tavshed' (kb/items/tavshed.yaml:3); an eval question must be worded "
        "differently from every phrasing"
    ]


def test_an_out_of_scope_eval_question_must_not_be_an_out_of_scope_example(
    kb_copy: Path,
) -> None:
    files = {"out_of_scope.yaml": "- Hvornår er der frokost?\n"}
    assert problems_after(kb_copy, files) == [
        "kb/eval.yaml:12: out-of-scope question 'hvornår er der frokost' is also in "
        "out_of_scope.yaml; the eval must not test questions the engine has been given"
    ]


DEV = """\
questions:
  - q: "Er peers mere syge end andre?"
    expect: peer-syg
    author: C
  - q: "bliver peeren syg igen"
    expect: peer-syg
    author: D
out_of_scope:
  - q: "Hvornår er der frokost?"
    author: C
"""


def test_a_development_set_question_must_not_be_a_phrasing(kb_copy: Path) -> None:
    files = {"dev.yaml": DEV, "out_of_scope.yaml": "- hvornår er der frokost\n"}
    assert problems_after(kb_copy, files) == [
        "kb/dev.yaml:2: question 'Er peers mere syge end andre?' is also a phrasing of its item "
        "'peer-syg' (kb/items/sygdom.yaml:5); the matcher learns dev.yaml's questions already: "
        "an alternate must not repeat one",
        "kb/dev.yaml:9: out-of-scope question 'Hvornår er der frokost?' is also in "
        "out_of_scope.yaml; the eval must not test questions the engine has been given",
        "kb/eval.yaml:12: out-of-scope question 'hvornår er der frokost' is also in "
        "out_of_scope.yaml; the eval must not test questions the engine has been given",
    ]


def test_a_development_question_worded_as_another_items_phrasing_is_reported(
    kb_copy: Path,
) -> None:
    dev = DEV.replace("expect: peer-syg\n    author: C", "expect: peer-tavshed\n    author: C")
    assert problems_after(kb_copy, {"dev.yaml": dev})[0] == (
        "kb/dev.yaml:2: question 'Er peers mere syge end andre?' expects 'peer-tavshed' but is a "
        "phrasing of item 'peer-syg' (kb/items/sygdom.yaml:5); the matcher would learn the same "
        "words for two items: relabel the question or reword the phrasing"
    )


def test_the_same_development_question_with_two_labels_is_reported(kb_copy: Path) -> None:
    dev = DEV.replace("Er peers mere syge end andre?", "bliver peeren syg igen?").replace(
        "expect: peer-syg\n    author: D", "expect: peer-tavshed\n    author: D"
    )
    assert problems_after(kb_copy, {"dev.yaml": dev})[0] == (
        "kb/dev.yaml:5: question 'bliver peeren syg igen' expects 'peer-tavshed' but the same "
        "question at line 2 expects 'peer-syg'; the matcher would learn the same words for two "
        "items: give both the same label"
    )


def test_an_eval_question_must_not_be_a_development_question(kb_copy: Path) -> None:
    dev = DEV.replace("Er peers mere syge end andre?", "Bliver peers syge?")
    assert problems_after(kb_copy, {"dev.yaml": dev}) == [
        "kb/eval.yaml:7: eval question 'bliver peers syge' is also a question in dev.yaml "
        "(line 2), which the matcher learns from; an eval question must be worded differently",
        "kb/eval.yaml:12: out-of-scope question 'hvornår er der frokost' is also in dev.yaml "
        "(out of scope); the eval must not test questions the engine has been given",
    ]


def test_a_development_set_with_an_unknown_item_or_key_is_reported(kb_copy: Path) -> None:
    broken = DEV.replace("expect: peer-syg\n    author: D", "expect: ukendt\n    forfatter: D")
    assert problems_after(kb_copy, {"dev.yaml": broken}) == [
        "kb/dev.yaml:5: development question: unknown item id 'ukendt'",
        "kb/dev.yaml:7: development question: unknown key 'forfatter' (expected one of: also, "
        "author, expect, q)",
    ]


# --- calibration.yaml: the matcher's decision numbers -------------------------------------------


def test_calibration_yaml_is_read_as_numbers(kb_copy: Path) -> None:
    files = {
        "calibration.yaml": "calibration: {intercept: -5, score: 6.5, margin: 4, negative: -20,"
        " on_topic: 2, phrasing_lead: -1, bayes_lead: -2.5, surface_lead: 0.5, agreement: 1,"
        " coverage: 2.5}\n"
        "thresholds: {answer: 0.9, tie: 0.0, clarify: 0.8}\n"
    }
    assert problems_after(kb_copy, files) == []
    assert kb.load(kb_copy).decision == {
        "calibration": {
            "intercept": -5.0,
            "score": 6.5,
            "margin": 4.0,
            "negative": -20.0,
            "on_topic": 2.0,
            "phrasing_lead": -1.0,
            "bayes_lead": -2.5,
            "surface_lead": 0.5,
            "agreement": 1.0,
            "coverage": 2.5,
        },
        "thresholds": {"answer": 0.9, "tie": 0.0, "clarify": 0.8},
    }


def test_calibration_yaml_with_a_missing_weight_a_typo_or_text_is_reported(
    kb_copy: Path,
) -> None:
    files = {
        "calibration.yaml": "calibration: {intercept: -5, score: 6.5, margin: 4, negative: -20,"
        " phrasing_lead: 0, bayes_lead: 0, surface_lead: 0, agreement: 0, coverage: 0}\n"
        "thresholds: {answr: 0.9, clarify: høj}\n"
    }
    assert problems_after(kb_copy, files) == [
        "kb/calibration.yaml:1: calibration: missing required field 'on_topic'",
        "kb/calibration.yaml:2: thresholds: 'clarify' must be a number",
        "kb/calibration.yaml:2: thresholds: unknown key 'answr' (did you mean 'answer'?)",
    ]
    assert problems_after(kb_copy, {"calibration.yaml": "- 1\n"}) == [
        "kb/calibration.yaml:1: expected a mapping with 'calibration' and 'thresholds'"
    ]


# --- the house rules (rules.yaml): validate checks them, load does not ------------------------


RULES = [
    (
        "min_alternates: 2\n",
        {},
        [
            "kb/items/sygdom.yaml:17: item 'peer-symptomer': 1 alternates; rules.yaml asks for "
            "at least 2",
            "kb/items/tavshed.yaml:4: item 'peer-tavshed': 1 alternates; rules.yaml asks for at "
            "least 2",
        ],
    ),
    (
        "min_answer_words: 9\nmax_answer_words: 10\n",
        {},
        [
            "kb/items/sygdom.yaml:7: item 'peer-syg': the answer has 11 words; rules.yaml "
            "asks for from 9 to 10",
            "kb/items/tavshed.yaml:6: item 'peer-tavshed': the answer has 8 words; rules.yaml "
            "asks for from 9 to 10",
        ],
    ),
    (
        "min_eval_questions_per_item: 1\n",
        {},
        [
            "kb/items/sygdom.yaml:14: item 'peer-symptomer': 0 eval question(s) in eval.yaml "
            "expect this item; rules.yaml asks for at least 1"
        ],
    ),
    (
        "# policy\nmin_items: 4\n",
        {},
        ["kb/rules.yaml:2: the knowledge base has 3 items; rules.yaml asks for at least 4"],
    ),
    (
        "min_items_per_category: 2\n",
        {},
        [
            "kb/rules.yaml:1: category 'Tavshedspligt og oplysningspligt' has 1 items; "
            "rules.yaml asks for at least 2"
        ],
    ),
    (
        "min_items_per_category: 1\n",
        {
            "categories.yaml": "- name: Sygdom og fravær\n  min_items: 3\n"
            "- name: Tavshedspligt og oplysningspligt\n"
        },
        [
            "kb/categories.yaml:1: category 'Sygdom og fravær' has 2 items; categories.yaml asks "
            "for at least 3"
        ],
    ),
    (
        "min_related_share: 0.5\n",
        {},
        ["kb/rules.yaml:1: 1 of 3 items list related items; rules.yaml asks for at least 50%"],
    ),
    (
        "every_source_cited: true\n",
        {
            "sources.yaml": (FIXTURE / "sources.yaml").read_text(encoding="utf-8")
            + "- id: guide-c\n  title: C\n  publisher: C\n  year: 2020\n  licence: fri\n"
        },
        [
            "kb/sources.yaml:12: source 'guide-c' is cited by no item; rules.yaml asks that "
            "every source is cited"
        ],
    ),
    (
        "min_eval_out_of_scope: 2\nmin_eval_crisis: 2\n",
        {},
        [
            "kb/rules.yaml:1: eval.yaml has 1 out-of-scope questions; rules.yaml asks for at "
            "least 2",
            "kb/rules.yaml:2: eval.yaml has 1 crisis messages; rules.yaml asks for at least 2",
        ],
    ),
    (
        "min_alternate: 5\nmin_items: -1\nmin_related_share: 2\nevery_source_cited: ja\n",
        {},
        [
            "kb/rules.yaml:1: rules: unknown key 'min_alternate' (did you mean 'min_alternates'?)",
            "kb/rules.yaml:2: rules: 'min_items' must be a whole number of 0 or more",
            "kb/rules.yaml:3: rules: 'min_related_share' must be from 0 to 1",
            "kb/rules.yaml:4: rules: 'every_source_cited' must be true or false",
        ],
    ),
]


@pytest.mark.parametrize(("rules", "files", "expected"), RULES)
def test_each_house_rule_is_reported_as_path_line_message(
    kb_copy: Path, rules: str, files: dict[str, str], expected: list[str]
) -> None:
    assert problems_after(kb_copy, {"rules.yaml": rules, **files}) == expected


def test_eval_rules_without_an_eval_set(kb_copy: Path) -> None:
    (kb_copy / "eval.yaml").unlink()
    assert problems_after(kb_copy, {"rules.yaml": "min_eval_crisis: 1\n"}) == [
        "kb/rules.yaml:1: eval.yaml has 0 crisis messages; rules.yaml asks for at least 1"
    ]


def test_the_bot_loads_a_knowledge_base_that_breaks_only_house_rules(kb_copy: Path) -> None:
    (kb_copy / "rules.yaml").write_text("min_alternates: 5\n", encoding="utf-8")
    assert len(kb.validate(kb_copy)) == 3
    assert len(kb.load(kb_copy).items) == 3


def test_rules_yaml_must_be_a_mapping(kb_copy: Path) -> None:
    assert problems_after(kb_copy, {"rules.yaml": "- min_alternates\n"}) == [
        "kb/rules.yaml:1: expected a mapping of rule names to numbers"
    ]
