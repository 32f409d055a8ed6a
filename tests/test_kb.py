"""The loader and the validator: the fixture knowledge base, and one broken copy per error."""

import shutil
from pathlib import Path

import pytest

from faqbot import kb

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kb"


@pytest.fixture
def kb_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the fixture at ./kb, so problems print as kb/<file>:<line>."""
    shutil.copytree(FIXTURE, tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    return Path("kb")


def test_fixture_loads_into_frozen_dataclasses() -> None:
    knowledge = kb.load(FIXTURE)
    assert [item.id for item in knowledge.items] == ["peer-syg", "peer-symptomer", "peer-tavshed"]
    assert knowledge.categories == ("Sygdom og fravær", "Tavshedspligt og oplysningspligt")
    item = knowledge.item("peer-syg")
    assert item.alternates == ("Er peers mere syge end andre?", "peer sygefravær")
    assert item.answer == (
        "Ikke nødvendigvis. En peer-medarbejder kan blive syg som alle andre kollegaer."
    )
    assert item.sources == (kb.SourceRef("guide-a", "Del 1. Sygdom"),)
    assert item.related == ("peer-tavshed",)
    assert item.phrasings[0] == item.question
    quote = knowledge.item("peer-symptomer").quote
    assert quote == kb.Quote(
        "Behandl peer-medarbejderen som enhver anden kollega.", "guide-b", "Spørgsmål 2"
    )
    assert knowledge.source("guide-b").year == "2025"
    assert knowledge.source("guide-b").url is None
    assert knowledge.synonyms[0][0] == "peer-medarbejder"
    assert knowledge.safety.phrases == ("selvmord", "skade mig selv")
    assert knowledge.safety.response.startswith("Ring 112")
    with pytest.raises(AttributeError):
        item.answer = "changed"  # type: ignore[misc]


def test_citation_format() -> None:
    knowledge = kb.load(FIXTURE)
    ref = knowledge.item("peer-tavshed").sources[0]
    assert knowledge.citation(ref) == "Kilde: Guide A (Forlag A, 2023), Del 2. Tavshedspligt"


def test_categories_and_items_in() -> None:
    knowledge = kb.load(FIXTURE)
    assert [i.id for i in knowledge.items_in("Sygdom og fravær")] == ["peer-syg", "peer-symptomer"]
    assert knowledge.get_item("nope") is None


def test_eval_set_loads() -> None:
    knowledge = kb.load(FIXTURE)
    evalset = kb.load_eval(FIXTURE / "eval.yaml", knowledge)
    assert evalset.floors["safety_recall"] == 1.0
    assert evalset.questions[0] == kb.EvalQuestion("bliver peers syge", "peer-syg")
    assert evalset.out_of_scope == ("hvornår er der frokost",)
    assert evalset.crisis == ("jeg vil begå selvmord",)
    assert evalset.not_crisis == ("hvad er oplysningspligten ved selvmordsrisiko",)


def test_out_of_scope_questions_are_optional_negatives(kb_copy: Path) -> None:
    assert kb.load(kb_copy).negatives == ()
    (kb_copy / "out_of_scope.yaml").write_text(
        "- Hvornår er der frokost?\n-   Hvor må jeg  parkere?\n", encoding="utf-8"
    )
    assert kb.load(kb_copy).negatives == ("Hvornår er der frokost?", "Hvor må jeg parkere?")


def test_subject_words_are_optional(kb_copy: Path) -> None:
    assert kb.load(kb_copy).subject == ()
    (kb_copy / "subject.yaml").write_text("- peer\n- tidligere  bruger\n", encoding="utf-8")
    assert kb.load(kb_copy).subject == ("peer", "tidligere bruger")


def test_other_staff_groups_are_optional(kb_copy: Path) -> None:
    assert kb.load(kb_copy).other_groups == ()
    (kb_copy / "other_groups.yaml").write_text(
        "- sygeplejerske\n- sosu-hjælper\n", encoding="utf-8"
    )
    assert kb.load(kb_copy).other_groups == ("sygeplejerske", "sosu-hjælper")


def test_valid_fixture_has_no_problems() -> None:
    assert kb.validate(FIXTURE) == []


ONE_ITEM = """\
- id: {id}
  category: Sygdom og fravær
  question: {question}
  alternates:
    - {alternate}
  answer: {answer}
  sources:
    - source: {source}
      section: Del 1
  related: [{related}]
"""


def item_file(**overrides: str) -> str:
    values = {
        "id": "nyt-item",
        "question": "Et nyt spørgsmål?",
        "alternate": "en ny formulering",
        "answer": "Et svar.",
        "source": "guide-a",
        "related": "peer-syg",
    }
    values.update(overrides)
    return ONE_ITEM.format(**values)


BROKEN = [
    (
        "items/zz.yaml",
        "- id: x\n  question: [unclosed\n  answer: y\n",
        ["kb/items/zz.yaml:3: invalid YAML: expected ',' or ']', but got ':'"],
    ),
    (
        "items/zz.yaml",
        "- id: nyt-item\n  category: Sygdom og fravær\n  answer: Svar.\n"
        "  sources:\n    - source: guide-a\n      section: Del 1\n",
        ["kb/items/zz.yaml:1: item 'nyt-item': missing required field 'question'"],
    ),
    (
        "items/zz.yaml",
        item_file(answer='""'),
        ["kb/items/zz.yaml:6: item 'nyt-item': 'answer' is empty"],
    ),
    (
        "items/zz.yaml",
        item_file() + "  answr: stavefejl\n",
        ["kb/items/zz.yaml:11: item 'nyt-item': unknown key 'answr' (did you mean 'answer'?)"],
    ),
    (
        "items/zz.yaml",
        item_file(id="peer-syg", related="peer-tavshed"),
        ["kb/items/zz.yaml:1: duplicate item id 'peer-syg' (first at kb/items/sygdom.yaml:1)"],
    ),
    (
        "items/zz.yaml",
        item_file(source="guide-x"),
        [
            "kb/items/zz.yaml:8: item 'nyt-item': unknown source id 'guide-x' "
            "(did you mean 'guide-b'?)"
        ],
    ),
    (
        "items/zz.yaml",
        item_file(related="findes-ikke"),
        [
            "kb/items/zz.yaml:10: item 'nyt-item': unknown related item id 'findes-ikke' "
            "(expected one of: peer-syg, peer-symptomer, peer-tavshed)"
        ],
    ),
    (
        "items/zz.yaml",
        item_file(answer="a" * 4060),
        [
            "kb/items/zz.yaml:6: item 'nyt-item': answer with its citation is 4100 characters, "
            "more than the 4096 that fit in one Telegram message"
        ],
    ),
    (
        "items/zz.yaml",
        item_file(alternate="Peer  SYGEFRAVÆR"),
        [
            "kb/items/zz.yaml:5: item 'nyt-item': phrasing 'Peer SYGEFRAVÆR' is already used "
            "by item 'peer-syg' as 'peer sygefravær' (kb/items/sygdom.yaml:6)"
        ],
    ),
    (
        "items/zz.yaml",
        item_file(id="Nyt_Item"),
        [
            "kb/items/zz.yaml:1: item 'Nyt_Item': id must be lowercase letters, digits "
            "and single hyphens"
        ],
    ),
    (
        "items/zz.yaml",
        item_file() + "  quote:\n    text: Citat.\n    source: guide-z\n    section: Del 9\n",
        [
            "kb/items/zz.yaml:11: item 'nyt-item': quote has unknown source id 'guide-z' "
            "(did you mean 'guide-b'?)"
        ],
    ),
    (
        "sources.yaml",
        "- id: guide-a\n  title: Guide A\n  publisher: Forlag A\n  year: 2023\n  licence: fri\n"
        "- id: guide-a\n  title: Guide A2\n  publisher: Forlag A\n  year: 2024\n  licence: fri\n",
        [
            "kb/items/sygdom.yaml:21: item 'peer-symptomer': unknown source id 'guide-b' "
            "(did you mean 'guide-a'?)",
            "kb/items/sygdom.yaml:23: item 'peer-symptomer': quote has unknown source id "
            "'guide-b' (did you mean 'guide-a'?)",
            "kb/items/tavshed.yaml:10: item 'peer-tavshed': unknown source id 'guide-b' "
            "(did you mean 'guide-a'?)",
            "kb/sources.yaml:6: duplicate source id 'guide-a' (first at kb/sources.yaml:1)",
        ],
    ),
    (
        "sources.yaml",
        "- id: guide-a\n  title: Guide A\n  year: 2023\n  licence: fri\n"
        "- id: guide-b\n  title: Guide B\n  publisher: B\n  year: 2025\n  licence: fri\n",
        ["kb/sources.yaml:1: source 'guide-a': missing required field 'publisher'"],
    ),
    (
        "synonyms.yaml",
        "- [peer, peermedarbejder]\n- [sygemelding, Peer]\n",
        ["kb/synonyms.yaml:2: 'Peer' is already in the synonym group at line 1"],
    ),
    (
        "safety.yaml",
        "response: Ring 112.\nphrases: []\n",
        ["kb/safety.yaml:2: safety: 'phrases' is empty"],
    ),
    (
        "eval.yaml",
        "floors: {top1: 0.9}\nquestions:\n  - q: hej\n    expect: ukendt-item\n"
        "out_of_scope: [frokost]\ncrisis: [selvmord]\n",
        [
            "kb/eval.yaml:3: eval question: unknown item id 'ukendt-item' "
            "(expected one of: peer-syg, peer-symptomer, peer-tavshed)"
        ],
    ),
    (
        "eval.yaml",
        "floors: {top1: 0.9}\nquestions:\n  - q: hej\n    expect: peer-syg\n    also: [nej]\n"
        "out_of_scope: [frokost]\ncrisis: [selvmord]\n",
        [
            "kb/eval.yaml:3: eval question: unknown item id 'nej' "
            "(expected one of: peer-syg, peer-symptomer, peer-tavshed)"
        ],
    ),
    (
        "eval.yaml",
        "floors: {top1: 1.5}\nquestions:\n  - q: hej\n    expect: peer-syg\n"
        "out_of_scope: [frokost]\ncrisis: [selvmord]\n",
        ["kb/eval.yaml:1: eval: floor 'top1' must be a number from 0 to 1"],
    ),
    (
        "out_of_scope.yaml",
        "- Hvornår er der frokost?\n- ''\n- hvornår  ER der frokost?\n",
        [
            "kb/out_of_scope.yaml:2: every out-of-scope question must be non-empty text",
            "kb/out_of_scope.yaml:3: 'hvornår ER der frokost?' is already listed at line 1",
        ],
    ),
    (
        "out_of_scope.yaml",
        "frokost: kantinen\n",
        ["kb/out_of_scope.yaml:1: expected a list of out-of-scope questions at the top level"],
    ),
    (
        "subject.yaml",
        "- peer\n- 3\n- Peer\n",
        [
            "kb/subject.yaml:2: every subject word must be non-empty text",
            "kb/subject.yaml:3: 'Peer' is already listed at line 1",
        ],
    ),
    (
        "subject.yaml",
        "peer: true\n",
        ["kb/subject.yaml:1: expected a list of the words that name the knowledge base's subject"],
    ),
    (
        "other_groups.yaml",
        "- psykolog\n- ''\n- Psykolog\n",
        [
            "kb/other_groups.yaml:2: every staff group must be non-empty text",
            "kb/other_groups.yaml:3: 'Psykolog' is already listed at line 1",
        ],
    ),
    (
        "other_groups.yaml",
        "psykolog: ja\n",
        ["kb/other_groups.yaml:1: expected a list of the words that name other staff groups"],
    ),
    (
        "answerable.yaml",
        "- aalborg\n",
        ["kb/answerable.yaml:1: expected a mapping with 'names' and 'facts'"],
    ),
    (
        "answerable.yaml",
        'facts:\n  - says: priser\n    asks: [hvad koster]\n    shown_by: ["<beløb>", kr]\n',
        [
            "kb/answerable.yaml:4: answerable: unknown mark '<beløb>' "
            "(known: <tal>, <år>, <telefonnummer>, <link>, <paragraf>, <dato>, <navn>)"
        ],
    ),
    (
        "answerable.yaml",
        "names:\n  - kind: steder\n    navne: [Aalborg]\n",
        [
            "kb/answerable.yaml:2: answerable name kind: missing required field 'names'",
            "kb/answerable.yaml:3: answerable name kind: unknown key 'navne' "
            "(did you mean 'names'?)",
        ],
    ),
    (
        "answerable.yaml",
        "names:\n  - kind: steder\n    names: [Region Nordjylland]\n"
        "  - kind: steder\n    within: Region Nordjyland\n    names: [Aalborg]\n",
        [
            "kb/answerable.yaml:5: answerable: 'within' is 'Region Nordjyland', which is no "
            "name's first form (did you mean 'Region Nordjylland'?)"
        ],
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), BROKEN)
def test_each_problem_is_reported_as_path_line_message(
    kb_copy: Path, name: str, content: str, expected: list[str]
) -> None:
    (kb_copy / name).write_text(content, encoding="utf-8")
    problems = [str(problem) for problem in kb.validate(kb_copy)]
    assert problems == expected


def test_answerable_rules_are_read_with_each_names_forms(kb_copy: Path) -> None:
    assert kb.load(kb_copy).answerable == kb.AnswerableRules()  # no file: no rules
    (kb_copy / "answerable.yaml").write_text(
        "names:\n  - kind: steder\n    names: [Region Syddanmark / Region Syd, Aalborg]\n"
        "    endings: [loven]\nfacts:\n  - says: priser\n    asks: [hvad koster]\n"
        '    shown_by: ["<tal>", Kr]\n',
        encoding="utf-8",
    )
    assert kb.load(kb_copy).answerable == kb.AnswerableRules(
        names=(
            kb.NameKind("steder", (("Region Syddanmark", "Region Syd"), ("Aalborg",)), ("loven",)),
        ),
        facts=(kb.FactKind("priser", ("hvad koster",), ("<tal>", "kr")),),
    )
    (kb_copy / "answerable.yaml").write_text(
        "names:\n  - kind: steder\n    names: [Region Nordjylland]\n"
        "  - kind: steder\n    within: Region Nordjylland\n    names: [Aalborg, Hjørring]\n",
        encoding="utf-8",
    )
    assert kb.load(kb_copy).answerable.names[1] == kb.NameKind(
        "steder", (("Aalborg",), ("Hjørring",)), within="Region Nordjylland"
    )


def test_load_raises_with_every_problem(kb_copy: Path) -> None:
    (kb_copy / "items" / "zz.yaml").write_text(
        item_file(source="guide-x", related="findes-ikke"), encoding="utf-8"
    )
    with pytest.raises(kb.InvalidKnowledgeBase) as caught:
        kb.load(kb_copy)
    assert [str(problem) for problem in caught.value.problems] == [
        "kb/items/zz.yaml:8: item 'nyt-item': unknown source id 'guide-x' "
        "(did you mean 'guide-b'?)",
        "kb/items/zz.yaml:10: item 'nyt-item': unknown related item id 'findes-ikke' "
        "(expected one of: peer-syg, peer-symptomer, peer-tavshed)",
    ]


def test_missing_files_are_named(kb_copy: Path) -> None:
    (kb_copy / "safety.yaml").unlink()
    assert [str(p) for p in kb.validate(kb_copy)] == ["kb/safety.yaml:1: file is missing"]


def test_missing_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert [str(p) for p in kb.validate(Path("nowhere"))] == [
        "nowhere:1: knowledge directory does not exist"
    ]


def test_an_eval_question_accepts_its_expected_and_also_items() -> None:
    question = kb.EvalQuestion("hvem bestemmer?", "leder-a", ("leder-b",))
    assert question.acceptable == frozenset({"leder-a", "leder-b"})
    assert kb.EvalQuestion("hvem bestemmer?", "leder-a").acceptable == frozenset({"leder-a"})


ASKED = """\
questions:
  - q: "kan en peer blive syg af jobbet"
    expect: peer-syg
    also: [peer-symptomer]
    author: C
  - q: "må peeren sige noget videre"
    expect: peer-tavshed
    author: D
uncovered:
  - q: "hvad tjener en peer"
    why: no item
    author: C
out_of_scope:
  - q: "hvor er kantinen"
    author: D
"""


def test_dev_yaml_questions_are_loaded_as_phrasings_of_their_item(kb_copy: Path) -> None:
    (kb_copy / "dev.yaml").write_text(ASKED, encoding="utf-8")
    knowledge = kb.load(kb_copy)
    assert knowledge.asked[0] == kb.AskedQuestion(
        "kan en peer blive syg af jobbet", "question", "C", "peer-syg", ("peer-symptomer",), 2
    )
    assert [(q.kind, q.author) for q in knowledge.asked[1:]] == [
        ("question", "D"),
        ("uncovered", "C"),
        ("out_of_scope", "D"),
    ]
    item = knowledge.item("peer-syg")
    assert knowledge.indexed_phrasings(item) == (*item.phrasings, "kan en peer blive syg af jobbet")
    assert item.alternates == ("Er peers mere syge end andre?", "peer sygefravær")  # untouched
    assert knowledge.asked_authors == ("C", "D")
    assert knowledge.indexed_negatives == (*knowledge.negatives, "hvor er kantinen")
    without = knowledge.without_author("C")
    assert without.indexed_phrasings(item) == item.phrasings
    assert [q.author for q in without.asked] == ["D", "D"]
    assert kb.load(FIXTURE).asked == ()  # no dev.yaml: nothing learnt


def test_a_dev_yaml_question_with_an_unknown_item_is_refused_with_file_and_line(
    kb_copy: Path,
) -> None:
    (kb_copy / "dev.yaml").write_text(ASKED.replace("expect: peer-tavshed", "expect: tavshed"))
    with pytest.raises(kb.InvalidKnowledgeBase) as error:
        kb.load(kb_copy)
    assert [str(p) for p in error.value.problems] == [
        "kb/dev.yaml:6: development question: unknown item id 'tavshed'"
    ]
