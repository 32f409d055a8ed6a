"""Crisis detection: a message about acute danger gets the safety text, before any matching; a
question that only names the subject gets its answer (with the safety note first when it touches
on danger). The phrasings below are written for these tests, not copied from the examples."""

import io
import json
import math
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from faqbot import cli, kb, render
from faqbot.evaluate import crisis_lines, run_crisis, run_eval
from faqbot.kb import SafetyExample, SafetyRules
from faqbot.matcher import Matcher, Result, Status
from faqbot.safety import HELDOUT_SAFETY, SafetyDetector, SafetyLevel
from faqbot.safety.detector import (
    ALONE_PRIOR,
    IN_ORDER,
    ORDINARY_MAX,
    ORDINARY_WEIGHT,
    asks,
    bags,
    decide,
    ordinary_bags,
)
from faqbot.safety.lexicon import (
    Group,
    Lexicon,
    clauses,
    inflections,
    sentences,
    summary,
    tokens,
    tokens_reference,
    word_of,
)
from faqbot.safety.model import Classifier, pairs, word_features

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"


@pytest.fixture(scope="module")
def knowledge() -> kb.KnowledgeBase:
    return kb.load(KNOWLEDGE)


@pytest.fixture(scope="module")
def detector(knowledge: kb.KnowledgeBase) -> SafetyDetector:
    return SafetyDetector(knowledge.safety)


# --- each kind of issue 12, both ways ----------------------------------------------------------

ACUTE = {
    "situation": [
        "Der står en mand oppe på taget af plejehjemmet og råber at han springer",
        "hun står på den anden side af rækværket på Knippelsbro lige nu",
        "Vi har fundet ham med et bælte om halsen inde på værelset",
        "Beboeren hænger i et reb på badeværelset, hvad gør vi",
        "Min kollega er faldet om i kaffestuen og reagerer ikke",
        "Han ligger på gulvet og trækker ikke vejret!!",
        "hun har slugt en hel pakke hovedpinepiller for en halv time siden",
        "Jeg har taget alle mine sovepiller",
        "Han har en pistol i tasken og siger han vil skyde sig selv i aften",
        "Borgeren sidder i sin bil i garagen med motoren tændt",
        "Vi kan lugte gas ude på trappen og naboen åbner ikke",
    ],
    "violence": [
        "En patient tæsker løs på en anden patient i fællesrummet lige nu",
        "Han har fået fat om halsen på sin kæreste og kvæler hende",
        "En beboer jagter en anden beboer rundt med en køkkenkniv",
        "Han står og råber ude foran døren at han slår mig ihjel",
        "Min kollega er ved at slå en patient, han har mistet besindelsen",
        "Der er en mand med en kniv i receptionen der truer personalet",
        "Hendes eks er på vej med en pistol, han er her om ti minutter",
        "Han holder en pude ned over ansigtet på sin bror",
    ],
    "self_harm": [
        "jeg skar mig selv i går aftes og det bløder stadig",
        "Jeg har skåret mig igen",
        "Hun sidder og skærer sig i armene ude på toilettet",
        "Han har skåret sig dybt i håndleddet og blodet stopper ikke",
        "Jeg brænder mig med en lighter lige nu",
        "jeg har skåret for dybt og det bliver ved med at bløde",
    ],
    "hopelessness": [
        "jeg kan ikke mere",
        "Det ville være bedre for alle hvis jeg ikke var her",
        "Jeg er bare en byrde for alle omkring mig",
        "Ingen vil savne mig",
        "Jeg har købt et reb",
        "Jeg har givet katten væk og sagt farvel til min søster",
        "I aften er sidste gang nogen hører fra mig",
        "Jeg har tænkt på at tage mit eget liv i weekenden",
        "Mine kolleger klarer sig fint uden mig, det har jeg tænkt længe over",
        "Husk mig som jeg var før alt det her",
        "Du må ikke være ked af det bagefter, det er mit eget valg",
    ],
    "spelling_language": [
        "kan ik mere vil ik leve",
        "jeg vil ikke leve laengere, har skaaret mig",
        "i want to die",
        "im going to kill myself",
        "he is not breathing, please help",
        "hun har tagit alla sina tabletter och svarar inte",
        "JEG VIL DØ",
        "jg orker ik mer",
        "ich kann nicht mehr, heute Abend mache ich Schluss",
        "nie mogę już, chcę to skończyć dzisiaj",
        "take care of my dog for me, i wont be back",
    ],
    "embedded": [
        "Hej. Vi skal have lavet en vagtplan for marts, og vi har spørgsmål om ansættelse af en "
        "peer på 15 timer og om supervision. Midt i det hele sidder min kollega og siger at hun "
        "vil tage sit liv i aften. Hvad gør jeg?",
        "Jeg har et spørgsmål om løn til vores peer. Og så ligger der en beboer på gulvet her ved "
        "siden af mig som ikke reagerer.",
    ],
}

CALM = {
    "practice": [
        "Hvordan taler man med en borger om selvmordstanker?",
        "Hvad gør vi hvis en beboer en dag siger at han vil skade sig selv?",
        "hvad gør man hvis man lugter gas i en borgers lejlighed?",
        "Hvordan spørger jeg en ung om selvskade uden at skræmme hende?",
    ],
    "training": [
        "Findes der kurser om selvskade for nye medarbejdere?",
        "Er der et kursus i selvmordsforebyggelse for peers?",
    ],
    "research": [
        "Er der forskning der viser at peer-støtte mindsker selvmord?",
        "Hvad siger studier om peers og vold på afdelingerne?",
    ],
    "policy": [
        "Har peeren tavshedspligt, hvis en borger fortæller om selvmordstanker?",
        "Hvad er reglerne for underretning, når en patient er til fare for sig selv?",
    ],
    "past": [
        "For 10 år siden forsøgte jeg selv at tage mit liv. Kan jeg blive peer?",
        "Som teenager skar jeg i mig selv, men det er mange år siden",
        "Sidste år var jeg indlagt efter et selvmordsforsøg, nu har jeg det godt",
    ],
    "figure_of_speech": [
        "Jeg har fået en overdosis af powerpoints i dag",
        "Den deadline slår mig ihjel, hvornår skal rapporten om peers være færdig?",
        "Jeg døde af grin over peerens historie",
        "Jeg kunne skyde mig selv i foden over den vagtplan",
    ],
    "ordinary": [
        "Hvor mange timer arbejder en peer om ugen?",
        "Har peeren ret til barsel?",
        "Må vi ansætte en peer der selv har været indlagt?",
    ],
    "incidental": [
        "Må vores peer hænge en plakat op om selvmordsforebyggelse?",
        "Peeren skal til begravelse på fredag, får hun fri?",
    ],
}


def _cases(groups: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(kind, message) for kind, messages in groups.items() for message in messages]


@pytest.mark.parametrize(("kind", "message"), _cases(ACUTE))
def test_acute_messages_of_every_kind_get_the_safety_text(
    detector: SafetyDetector, kind: str, message: str
) -> None:
    assert detector.assess(message) is SafetyLevel.ACUTE, (kind, detector.judge(message))


@pytest.mark.parametrize(("kind", "message"), _cases(CALM))
def test_questions_that_name_the_subject_are_never_acute(
    detector: SafetyDetector, kind: str, message: str
) -> None:
    assert detector.assess(message) is not SafetyLevel.ACUTE, (kind, detector.judge(message))


def test_a_question_about_the_subject_gets_the_note_an_ordinary_one_nothing(
    detector: SafetyDetector,
) -> None:
    assert detector.assess("Hvordan taler man med en borger om selvmordstanker?") is (
        SafetyLevel.NOTE
    )
    assert detector.assess("For 10 år siden forsøgte jeg at tage mit liv. Kan jeg blive peer?") is (
        SafetyLevel.NOTE
    )
    assert detector.assess("Hvor mange timer arbejder en peer om ugen?") is SafetyLevel.NONE
    assert detector.assess("Jeg døde af grin over peerens historie") is SafetyLevel.NONE


def test_a_question_in_one_sentence_never_cancels_danger_in_another(
    detector: SafetyDetector,
) -> None:
    calm = "Hvad siger reglerne om tavshedspligt og underretningspligt for peers?"
    acute = "Min kollega har lige taget alle sine piller."
    assert detector.assess(calm) is not SafetyLevel.ACUTE
    assert detector.assess(f"{calm} {acute}") is SafetyLevel.ACUTE
    assert detector.assess(f"{acute} {calm}") is SafetyLevel.ACUTE
    # ...and a word of danger in a calm sentence stays calm next to ordinary ones
    assert detector.assess(f"{calm} Hvordan taler man om selvmord?") is SafetyLevel.NOTE


def test_happening_now_outweighs_a_calm_cue_in_the_same_sentence(
    detector: SafetyDetector,
) -> None:
    assert detector.assess("hvad gør vi hvis hun tager sit liv lige nu") is SafetyLevel.ACUTE


def test_a_long_work_message_with_one_acute_sentence_at_the_end_is_acute(
    knowledge: kb.KnowledgeBase,
) -> None:
    work = (
        "Vi er ved at planlægge introduktionen af vores nye peer-medarbejder, og jeg har en "
        "række spørgsmål om løn, supervision, tavshedspligt og arbejdstid. "
    )
    message = work * 26 + "Og lige nu står en beboer ude på altanen og siger at han springer."
    assert 3000 < len(message) <= 4096
    result = Matcher(knowledge).match(message)
    assert result.status is Status.SAFETY
    assert result.safety_situation == "suicide"


def test_inflections_word_order_spelling_and_compounds(detector: SafetyDetector) -> None:
    for message in (
        "jeg skar i armen i nat",  # past tense
        "hun har skåret i sig selv",  # perfect
        "han skaerer i armene",  # ae for æ
        "i nat skærer jeg igen",  # inverted word order
        "har slugt en håndfuld hovedpinepiller",  # a compound
        "hun har TAGET ALLE SINE PILLER",  # shouting
        "jeg vil ikk leve mer",  # chat spelling
        "hjææælp han hænger i trappeopgangen",  # a letter held down
    ):
        assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


@pytest.mark.parametrize("message", ["", "   ", "🙂", "\x00\x1b[2J", "a" * 20_000, "精神科", "?!."])
def test_odd_input_is_not_acute_and_never_raises(detector: SafetyDetector, message: str) -> None:
    assert detector.assess(message) is not SafetyLevel.ACUTE
    assert detector.judge(message).level is detector.assess(message)


# --- the safety texts --------------------------------------------------------------------------


def test_each_situation_gets_its_own_safety_text(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    cases = {
        "Jeg vil ikke leve længere, jeg har en plan om at tage mit liv": "suicide",
        "Jeg har skåret mig og det bløder meget": "self_harm",
        "Han trækker ikke vejret og reagerer ikke": "medical",
        "En patient slår løs på min kollega med en stol": "violence",
    }
    matcher = Matcher(knowledge)
    texts = set()
    for message, situation in cases.items():
        assert detector.situation(message) == situation, message
        result = matcher.match(message)
        assert result.status is Status.SAFETY and result.safety_situation == situation
        text = render.result_plain(result, knowledge)
        assert text == knowledge.safety.response_for(situation)
        texts.add(text)
    assert len(texts) == 4


def test_the_safety_texts_name_where_to_get_help_now(knowledge: kb.KnowledgeBase) -> None:
    rules = knowledge.safety
    texts = [rules.response, *(s.response for s in rules.situations)]
    assert {s.name for s in rules.situations} == set(kb.SITUATIONS)
    for text in texts:
        assert "112" in text and "leder" in text, text
        assert len(text) < 500, "short enough to read in a crisis"
    for name in ("suicide", "self_harm"):
        text = rules.response_for(name)
        assert "Livslinien" in text and "70 201 201" in text
        assert "psykiatriske akutmodtagelse i din region" in text
    violence = rules.response_for("violence")
    assert "sikkerhed" in violence and "alarm" in violence
    assert "Livslinien" in rules.response and "akutmodtagelse" in rules.response
    assert "112" in rules.note and "Livslinien" in rules.note


def test_the_note_goes_first_in_html_and_plain(knowledge: kb.KnowledgeBase) -> None:
    item = knowledge.items[0]
    result = Result("q", Status.ANSWERED, item, 0.9, (), safety_note=True)
    plain = render.result_plain(result, knowledge)
    assert plain == f"{knowledge.safety.note}\n\n{render.answer_plain(item, knowledge)}"
    html = render.result_html(result, knowledge)
    assert html.startswith(knowledge.safety.note.replace("&", "&amp;") + "\n\n")
    assert html.endswith(render.answer_html(item, knowledge))
    no_match = Result("q", Status.NO_MATCH, None, 0.0, (), safety_note=True)
    assert render.result_plain(no_match, knowledge).startswith(knowledge.safety.note)
    without = Result("q", Status.ANSWERED, item, 0.9, ())
    assert not render.result_plain(without, knowledge).startswith(knowledge.safety.note)


def test_the_matcher_answers_a_question_about_the_subject_with_the_note(
    knowledge: kb.KnowledgeBase,
) -> None:
    result = Matcher(knowledge).match(
        "Har peer-medarbejderen oplysningspligt, hvis en patient er til fare for sig selv?"
    )
    assert result.status is not Status.SAFETY
    assert result.safety_note is True


def test_the_matcher_checks_safety_first_and_never_answers_a_crisis() -> None:
    matcher = Matcher(kb.load(FIXTURE))
    assert matcher.match("peer tavshedspligt").status is Status.ANSWERED
    result = matcher.match("peer tavshedspligt, jeg vil tage mit liv")
    assert result.status is Status.SAFETY
    assert result.item is None and result.suggestions == ()
    assert result.question == "peer tavshedspligt, jeg vil tage mit liv"


def test_the_real_eval_sets_crisis_lines_are_all_handled(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", knowledge)
    assert evalset.crisis
    assert [m for m in evalset.crisis if not detector.is_crisis(m)] == []
    assert [m for m in evalset.not_crisis if detector.is_crisis(m)] == []


# --- the lexicon's rules, on a small set of phrases --------------------------------------------


def _rules(**fields: object) -> SafetyRules:
    values: dict[str, object] = {"response": "Ring 112.", "phrases": ("vil dø",)}
    values.update(fields)
    return SafetyRules(**values)  # type: ignore[arg-type]


def test_phrase_words_match_inflections_forms_starts_ends_classes_and_typos() -> None:
    rules = _rules(
        phrases=("skære <self>", "selvmord- nu", "-piller slugt", "bevidstløs"),
        words=(("self", ("mig", "sig")),),
        forms=(("skære", "skar", "skåret"),),
    )
    lexicon = Lexicon(rules)

    def danger(message: str) -> list[str]:
        return [
            hit.phrase.text
            for sentence in sentences(message)
            for hit in lexicon.hits(sentence)
            if hit.phrase.group is Group.DANGER
        ]

    assert danger("hun skærer sig") == ["skære <self>"]  # an ending
    assert danger("han skar mig") == ["skære <self>"]  # a form
    assert danger("jeg har skaaret mig") == ["skære <self>"]  # aa for å
    assert danger("selvmordstanker nu") == ["selvmord- nu"]  # a start
    assert danger("hovedpinepiller slugt") == ["-piller slugt"]  # an end
    assert danger("han er bevistløs") == ["bevidstløs"]  # a typo in a long word
    assert danger("skærer en kage til mig") == []  # more than two words between
    assert danger("mig skærer") == []  # the order written
    assert danger("skære. Mig") == []  # never across sentences


def test_short_words_are_only_themselves_and_typos_only_count_in_long_words() -> None:
    assert "dør" not in inflections("dø")
    assert "far" not in inflections("fare") and "fart" not in inflections("fare")
    assert {"skærer", "skæres", "skærende", "skæret"} <= inflections("skære")
    lexicon = Lexicon(_rules(phrases=("kaster",)))
    assert lexicon.hits(sentences("hvad koster det")[0]) == []


def test_a_figure_of_speech_uses_up_its_words_and_a_cue_inside_danger_does_not_calm() -> None:
    rules = _rules(
        phrases=("slår mig ihjel", "bedre hvis jeg ikke var her"),
        figurative_phrases=("deadline slår",),
        policy_phrases=("hvis",),
    )
    detector = SafetyDetector(rules)
    assert detector.assess("den deadline slår mig ihjel") is SafetyLevel.NONE
    assert detector.assess("han slår mig ihjel") is SafetyLevel.ACUTE
    # "hvis" belongs to the danger phrase here, so it is no question
    assert detector.assess("det var bedre hvis jeg ikke var her") is SafetyLevel.ACUTE
    assert detector.assess("hvis nu han slår mig ihjel") is SafetyLevel.NOTE


def test_without_examples_the_lexicon_alone_decides() -> None:
    detector = SafetyDetector(
        _rules(topic_phrases=("selvmord-",), policy_phrases=("regler",), urgent_phrases=("nu",))
    )
    assert not detector.classifier.trained
    assert detector.assess("jeg vil dø") is SafetyLevel.ACUTE
    assert detector.assess("regler når nogen vil dø") is SafetyLevel.NOTE
    assert detector.assess("regler når nogen vil dø nu") is SafetyLevel.ACUTE
    assert detector.assess("regler om selvmord") is SafetyLevel.NOTE
    assert detector.assess("regler om ferie") is SafetyLevel.NONE


def test_the_decision_table() -> None:
    danger, topic, policy, urgent = Group.DANGER, Group.TOPIC, Group.POLICY, Group.URGENT
    supposed, figure = Group.HYPOTHETICAL, Group.FIGURATIVE
    assert decide({danger}, 0.1) is SafetyLevel.ACUTE
    assert decide({danger}, None) is SafetyLevel.ACUTE
    assert decide({danger}, 0.01) is SafetyLevel.NOTE  # the classifier finds it clearly ordinary
    assert decide({danger, policy}, 0.1) is SafetyLevel.NOTE
    assert decide({danger, policy}, 0.95) is SafetyLevel.ACUTE
    assert decide({danger, policy, urgent}, 0.0) is SafetyLevel.ACUTE
    assert decide({danger, supposed}, 0.5, question=True) is SafetyLevel.NOTE
    assert decide({danger, supposed, policy}, 0.95) is SafetyLevel.NOTE
    assert decide({danger, supposed}, 0.5) is SafetyLevel.ACUTE  # "hvis I læser det her, ..."
    assert decide({danger, supposed, urgent}, 0.5, question=True) is SafetyLevel.ACUTE
    assert decide({topic}, 0.9) is SafetyLevel.ACUTE
    assert decide({topic, policy}, 0.99) is SafetyLevel.ACUTE  # the classifier is sure
    assert decide({topic, policy}, 0.99, question=True) is SafetyLevel.NOTE
    assert decide({topic, policy}, 0.6) is SafetyLevel.NOTE
    assert decide({topic, policy, urgent}, 0.5) is SafetyLevel.ACUTE
    assert decide({topic}, 0.1) is SafetyLevel.NONE
    assert decide({topic}, 0.35) is SafetyLevel.NOTE
    assert decide({topic, figure}, 0.6) is SafetyLevel.NOTE
    assert decide({topic, figure}, 0.9) is SafetyLevel.ACUTE
    assert decide({figure}, 0.9, question=True) is SafetyLevel.NOTE
    assert decide({figure}, 0.1) is SafetyLevel.NONE
    assert decide(set(), 0.99) is SafetyLevel.ACUTE
    assert decide(set(), 0.99, question=True) is SafetyLevel.NOTE  # never the classifier alone
    assert decide(set(), 0.55) is SafetyLevel.NOTE
    assert decide(set(), 0.1) is SafetyLevel.NONE


# --- optimised paths and their slow, obvious twins ---------------------------------------------


def _sample_sentences(knowledge: kb.KnowledgeBase, count: int) -> list[str]:
    random.seed(12)
    texts = [example.text for example in knowledge.safety.examples]
    texts += [phrasing for item in knowledge.items for phrasing in item.phrasings]
    return random.sample(texts, count)


def test_lexicon_hits_equal_the_all_pairs_reference(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    checked = 0
    for text in _sample_sentences(knowledge, 120) + [m for _, m in _cases(ACUTE)]:
        for sentence in sentences(text):
            fast = sorted((h.phrase.text, h.positions) for h in detector.lexicon.hits(sentence))
            slow = sorted(
                (h.phrase.text, h.positions) for h in detector.lexicon.hits_reference(sentence)
            )
            assert fast == slow, text
            checked += bool(fast)
    assert checked > 50


def test_the_short_way_gives_the_same_levels_as_the_explained_one(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    """``assess`` (groups only, stops early) against ``judge`` (every hit), message and sentence."""
    texts = _sample_sentences(knowledge, 200) + [m for _, m in _cases(ACUTE) + _cases(CALM)]
    random.seed(3)
    glued = [" ".join(random.sample(texts, 12)) for _ in range(30)]
    for text in texts + glued:
        assert detector.assess(text) is detector.judge(text).level, text
    for text in texts[::2] + glued[:3]:  # the reference is slow: every other text
        for sentence in sentences(text):
            full = summary(detector.lexicon.hits_reference(sentence))
            assert detector.lexicon.groups(sentence) == full, text


def test_classifier_probability_equals_the_full_feature_vector(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    classifier = detector.classifier
    for text in _sample_sentences(knowledge, 200):
        for sentence in sentences(text):
            marks = ("question",) if sentence.question else ()
            fast = classifier.probability(sentence.words, marks)
            slow = classifier.probability_reference(sentence.words, marks)
            assert fast == pytest.approx(slow, abs=1e-12), text


def test_remembered_words_equal_the_rule() -> None:
    for token in ["Hjæææælp", "peer-støtte", "SELVMORDSTANKER", "😂", "😭", "skåret", "x"]:
        sentence = sentences(token)[0]
        assert sentence.words == (word_of(token.casefold()),)
    assert word_of("😂") == "haha" and word_of("hjæææælp") == "hjalp"


def test_training_is_deterministic_and_learns_the_examples(knowledge: kb.KnowledgeBase) -> None:
    examples = bags(knowledge.safety.examples)
    first, second = Classifier(examples), Classifier(examples)
    assert first.weights == second.weights and first.bias == second.bias
    right = sum(
        (max(first.probability(t.words, t.marks) for t in bag.sentences) >= 0.5) == bag.acute
        for bag in examples
        if bag.sentences
    )
    assert right / len(examples) > 0.95


# --- the examples file and its validation ------------------------------------------------------


def test_the_examples_keep_their_authors_and_kinds(knowledge: kb.KnowledgeBase) -> None:
    examples = knowledge.safety.examples
    by_author = {
        author: [e for e in examples if e.author == author] for author in ("A", "B", "faqbot")
    }
    assert sum(e.acute for e in by_author["A"]) == 220 and len(by_author["A"]) == 440
    assert sum(e.acute for e in by_author["B"]) == 200 and len(by_author["B"]) == 440
    assert by_author["faqbot"]
    for example in examples:
        kinds = kb.ACUTE_KINDS if example.acute else kb.CALM_KINDS
        assert example.kind in kinds


def _write_examples(directory: Path, text: str) -> None:
    (directory / kb.EXAMPLES_FILE).write_text(text, encoding="utf-8")


@pytest.fixture
def kb_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    return Path("kb")


def test_valid_examples_load_with_line_numbers(kb_copy: Path) -> None:
    _write_examples(
        kb_copy,
        "acute:\n  - text: jeg vil dø\n    kind: hopelessness\n    author: X\n"
        "not_acute:\n  - text: hvad koster en peer\n    kind: ordinary\n",
    )
    examples = kb.load(kb_copy).safety.examples
    assert examples == (
        SafetyExample("jeg vil dø", True, "hopelessness", "X", 2),
        SafetyExample("hvad koster en peer", False, "ordinary", None, 6),
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "acute:\n  - text: jeg vil dø\n    kind: hopelessness\n"
            "not_acute:\n  - text: 'Jeg vil DØ!'\n    kind: ordinary\n",
            [
                "kb/safety_examples.yaml:5: not_acute example: 'Jeg vil DØ!' is already listed "
                "as 'acute' at line 2"
            ],
        ),
        (
            "acute:\n  - text: jeg vil dø\n    kind: past\n"
            + "not_acute:\n  - text: hvad koster en peer\n    kind: ordinary\n",
            [
                "kb/safety_examples.yaml:3: acute example: unknown kind 'past' (a kind of "
                "'not_acute' examples); known: situation, violence, self_harm, hopelessness, "
                "spelling_language, embedded"
            ],
        ),
        (
            "acute:\n  - text: jeg vil dø\n    kind: hopelessness\n    writer: X\nmaybe: []\n"
            + "not_acute:\n  - text: hvad koster en peer\n    kind: ordinary\n",
            [
                "kb/safety_examples.yaml:4: acute example: unknown key 'writer' (expected one of: "
                "author, kind, text)",
                "kb/safety_examples.yaml:5: safety examples: unknown key 'maybe' (expected one of: "
                "acute, not_acute)",
            ],
        ),
        (
            "acute:\n  - kind: situation\n  - text: '!!'\n    kind: situation\n"
            + "not_acute:\n  - text: hvad koster en peer\n    kind: ordinary\n",
            [
                "kb/safety_examples.yaml:2: acute example: missing required field 'text'",
                "kb/safety_examples.yaml:3: acute example: 'text' has no words",
            ],
        ),
        (
            "- jeg vil dø\n",
            [
                "kb/safety_examples.yaml:1: expected a mapping with the lists "
                "'acute' and 'not_acute'"
            ],
        ),
    ],
)
def test_bad_examples_are_reported_as_path_line_message(
    kb_copy: Path, content: str, expected: list[str]
) -> None:
    _write_examples(kb_copy, content)
    assert [str(problem) for problem in kb.validate(kb_copy)] == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "response: Ring 112.\nphrases:\n  - vil <nope>\n  - 'skære*'\n",
            [
                "kb/safety.yaml:3: safety: unknown word class '<nope>' in 'vil <nope>'",
                "kb/safety.yaml:4: safety: 'skære*' in 'skære*' is not a phrase word",
            ],
        ),
        (
            "response: Ring 112.\nphrases: [vil dø]\nsituations:\n  fire:\n    response: x\n"
            "    phrases: [brand]\n",
            [
                "kb/safety.yaml:4: safety: unknown situation 'fire' (known: suicide, self_harm, "
                "medical, violence)"
            ],
        ),
        (
            "response: Ring 112.\nphrases: [vil dø]\nforms:\n  - [skære, skar]\n  - [skar, cut]\n",
            ["kb/safety.yaml:5: safety: form 'skar' is already in the group at line 4"],
        ),
    ],
)
def test_bad_safety_phrases_are_reported_as_path_line_message(
    kb_copy: Path, content: str, expected: list[str]
) -> None:
    (kb_copy / "safety.yaml").write_text(content, encoding="utf-8")
    assert [str(problem) for problem in kb.validate(kb_copy)] == expected


def test_the_real_knowledge_base_validates(knowledge: kb.KnowledgeBase) -> None:
    assert kb.validate(KNOWLEDGE) == []
    assert len(knowledge.safety.situations) == 4


# --- faqbot eval's crisis figures and the held-out set -----------------------------------------

HELDOUT_FIXTURE = (
    "acute:\n"
    "  - text: jeg vil tage mit liv\n    kind: hopelessness\n"
    "  - text: jeg vil skade mig selv nu\n    kind: self_harm\n"
    "not_acute:\n"
    "  - text: hvad siger oplysningspligten om selvmord\n    kind: policy\n"
    "  - text: peer tavshedspligt\n    kind: ordinary\n"
)


def test_eval_reports_the_held_out_set_with_its_floors(kb_copy: Path) -> None:
    knowledge = kb.load(kb_copy)
    detector = SafetyDetector(knowledge.safety)
    evaluation = run_eval(Matcher(knowledge), kb.load_eval(kb_copy / "eval.yaml", knowledge))
    (kb_copy / "heldout").mkdir()
    (kb_copy / HELDOUT_SAFETY).write_text(HELDOUT_FIXTURE, encoding="utf-8")
    heldout = kb.load_safety_examples(kb_copy / HELDOUT_SAFETY)
    crisis = run_crisis(detector, heldout)
    assert crisis.heldout is not None
    assert crisis.heldout.recall == 1.0 and crisis.heldout.false_alarms == 0.0
    assert crisis.failed_floors() == []
    lines = list(crisis_lines(crisis, evaluation))
    assert lines[1].startswith("  eval.yaml: akutte fanget 1.000 (2/2)")
    assert any("held-out" in line and "krav >= 0.97: ok" in line for line in lines)
    assert not any("tage mit liv" in line for line in lines), "held-out texts are never printed"

    missed = (SafetyExample("hvad koster en peer", True, "situation"),)
    assert run_crisis(detector, missed).failed_floors() == ["heldout_safety_recall"]
    alarm = (SafetyExample("jeg vil tage mit liv", False, "ordinary"),)
    assert run_crisis(detector, alarm).failed_floors() == ["heldout_false_alarms"]


def test_eval_counts_ordinary_questions_that_got_the_safety_text(
    detector: SafetyDetector,
) -> None:
    lexicon_only = SafetyDetector(replace(detector.rules, examples=()))  # no authors to train
    crisis = run_crisis(lexicon_only, None, ["hvad koster en peer", "jeg vil tage mit liv"])
    assert crisis.ordinary[SafetyLevel.ACUTE] == 1
    assert crisis.ordinary_safety == ["jeg vil tage mit liv"]
    lines = list(crisis_lines(crisis))
    assert "  almindelige spørgsmål (eval.yaml): 1/2 safety, 0 note, 1 normal" in lines
    assert "      safety: jeg vil tage mit liv" in lines


def test_cli_eval_says_in_one_line_when_there_is_no_held_out_set(
    kb_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["eval", "--knowledge-dir", str(kb_copy)]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "held-out" in line] == [
        "  held-out (heldout/safety.yaml): findes ikke, så ingen held-out-tal."
    ]
    (kb_copy / "heldout").mkdir()
    (kb_copy / HELDOUT_SAFETY).write_text(HELDOUT_FIXTURE, encoding="utf-8")
    assert cli.main(["eval", "--knowledge-dir", str(kb_copy)]) == 0
    assert "akutte fanget 1.000 (2/2 safety" in capsys.readouterr().out
    missed = HELDOUT_FIXTURE.replace("jeg vil tage mit liv", "hvad koster en peer")
    (kb_copy / HELDOUT_SAFETY).write_text(missed, encoding="utf-8")
    assert cli.main(["eval", "--knowledge-dir", str(kb_copy)]) == 1
    assert "heldout_safety_recall" in capsys.readouterr().out


def test_eval_reports_examples_per_author_trained_without_that_author(kb_copy: Path) -> None:
    examples = (
        "acute:\n"
        + "".join(
            f"  - text: jeg vil dø nummer {n}\n    kind: hopelessness\n    author: {a}\n"
            for n, a in enumerate("ABAB")
        )
        + "not_acute:\n"
        + "".join(
            f"  - text: hvad koster peer nummer {n}\n    kind: ordinary\n    author: {a}\n"
            for n, a in enumerate("ABAB")
        )
    )
    _write_examples(kb_copy, examples)
    crisis = run_crisis(SafetyDetector(kb.load(kb_copy).safety))
    names = [figures.name for figures in crisis.sets]
    assert names == ["alle", "A (trænet på B)", "B (trænet på A)"]
    assert all(sum(f.acute.values()) == 2 for f in crisis.sets[1:])
    text = "\n".join(crisis_lines(crisis))
    assert "krydsvalidering, forfatter A (trænet på B): akutte fanget" in text


def test_no_text_of_the_training_examples_is_in_the_held_out_set(
    knowledge: kb.KnowledgeBase,
) -> None:
    paths = sorted((KNOWLEDGE / HELDOUT_SAFETY).parent.glob("safety*.yaml"))
    if not paths:
        pytest.skip(f"no held-out set at knowledge/{HELDOUT_SAFETY} (the coordinator adds it)")
    training = {kb.example_key(example.text) for example in knowledge.safety.examples}
    for path in paths:
        heldout = {kb.example_key(example.text) for example in kb.load_safety_examples(path)}
        shared = sorted(heldout & training)
        assert shared == [], f"{len(shared)} messages of {path.name} are also training examples"


def test_ask_json_carries_the_safety_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, knowledge: kb.KnowledgeBase
) -> None:
    questions = "Hvordan taler man med en borger om selvmordstanker?\njeg har skåret mig\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(questions))
    assert cli.main(["ask", "--json", "--knowledge-dir", str(KNOWLEDGE), "-"]) == 0
    answer, crisis = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert answer["safety_note"] is True and answer["status"] != "safety"
    assert crisis["status"] == "safety" and crisis["safety_note"] is False
    assert crisis["answer"] == knowledge.safety.response_for("self_harm")


def test_the_terminal_chat_shows_the_same_words(knowledge: kb.KnowledgeBase) -> None:
    from faqbot.chat import ChatSession

    session = ChatSession(Matcher(knowledge))
    reply = session.reply("Hvordan taler man med en borger om selvmordstanker?")
    assert reply.startswith(knowledge.safety.note + "\n\n")
    assert session.reply("jeg har taget alle mine piller") == knowledge.safety.response_for(
        "medical"
    )


# --- ordinary questions: their answer, never the safety text ------------------------------------


def test_the_knowledge_bases_own_questions_train_the_classifier(
    knowledge: kb.KnowledgeBase,
) -> None:
    ordinary = knowledge.safety.ordinary
    assert knowledge.items[0].question in ordinary
    assert set(knowledge.negatives) <= set(ordinary)
    chosen = ordinary_bags(ordinary)
    assert len(chosen) <= ORDINARY_MAX
    assert not any(bag.acute for bag in chosen)
    step = math.ceil(len(ordinary) / ORDINARY_MAX)
    assert chosen[0].weight == pytest.approx(ORDINARY_WEIGHT * step)
    small = ordinary_bags(["hvad koster en peer?", "hvem betaler?"])
    assert [bag.weight for bag in small] == [ORDINARY_WEIGHT, ORDINARY_WEIGHT]


def test_hardly_any_phrasing_of_the_knowledge_base_gets_the_safety_text(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    """A regression guard (the classifier learnt these; the honest figure is `faqbot eval`'s
    and the report's folds): at most 0.2 % of the phrasings get status safety."""
    phrasings = [phrasing for _, phrasing in kb.iter_phrasings(knowledge)]
    acute = [p for p in phrasings if detector.assess(p) is SafetyLevel.ACUTE]
    assert len(acute) <= 0.002 * len(phrasings), acute


@pytest.mark.parametrize(
    "question",
    [
        "hvad er hæftet Når brugere bliver kollegaer og hvem har lavet det",
        "hvem har lavet vagtplanen for uge 52 og kan jeg bytte en aftenvagt",
        "Hvordan anmelder jeg en arbejdsskade, efter jeg blev slået af en patient i går?",
        "jeg kan ikke finde vagtplanen for juni",
        "knappen virker ikke",
        "kantinen har ikke åbent i dag",
        "tak for hjælpen i går",
        "hvem har taget min kop",
        "jeg gider ikke mere i dag",
        "jeg kunne myrde en pizza lige nu",
        "farvel og tak for i dag",
        "jeg er færdig for i dag",
        "stillingen er slået op på jobnet",
        "mikrofonen er slået fra",
        "Jeg har lige fortalt min leder, at jeg forsøgte selvmord for ti år siden. Hvad nu?",
    ],
)
def test_ordinary_work_messages_get_their_answer(detector: SafetyDetector, question: str) -> None:
    assert detector.assess(question) is not SafetyLevel.ACUTE, detector.judge(question)


@pytest.mark.parametrize(
    "question",
    [
        "hvis en patient fortæller peeren at han vil tage sit liv, må hun så sige det videre?",
        "Hvis en patient i nat fortæller vores peer, at han har planer om at gøre skade på sig "
        "selv, men beder hende om ikke at sige det videre – må hun så holde det for sig selv?",
        "En patient siger til peeren at han overvejer at tage sit liv, men beder hende om ikke "
        "at sige det videre. Hvad gør hun?",
        "hvad gør vi hvis en beboer truer med at springe ud fra altanen?",
    ],
)
def test_a_supposed_or_reported_case_in_a_policy_question_gets_the_note(
    detector: SafetyDetector, question: str
) -> None:
    assert detector.assess(question) is SafetyLevel.NOTE, detector.judge(question)


@pytest.mark.parametrize(
    "message",
    [
        "han står ude på broen, hvad gør jeg hvis han springer",
        "hun truer med at springe fra taget, politiet er ikke kommet, hvad siger jeg til hende",
        "hvis I ikke hører fra mig i morgen, så har jeg taget alle pillerne",
        "hvad gør vi hvis hun tager sit liv lige nu",
        "det er sidste vagt for mig. I hører ikke fra mig igen",
        "kan nogen tage min kat? jeg skal ikke bruge den mere",
    ],
)
def test_danger_told_before_a_question_or_a_supposition_is_still_acute(
    detector: SafetyDetector, message: str
) -> None:
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


def test_a_now_counts_only_near_the_danger(detector: SafetyDetector) -> None:
    far = "jeg har lige talt med peeren om hvordan hun havde det da hun skar i sig selv som ung"
    near = "hun har lige skåret sig selv, og hun var også indlagt som ung"
    assert detector.assess(far) is not SafetyLevel.ACUTE, detector.judge(far)
    assert detector.assess(near) is SafetyLevel.ACUTE, detector.judge(near)


def test_a_figure_of_speech_leaves_the_rest_acute_only_when_the_classifier_is_sure(
    detector: SafetyDetector,
) -> None:
    for figure in (
        "jeg kunne slå Excel ihjel lige nu",
        "det her regnvejr tager livet af mig",
        "jeg springer lige ud og henter kage",
    ):
        assert detector.assess(figure) is not SafetyLevel.ACUTE, detector.judge(figure)


def test_a_policy_cue_that_supposes_a_case_calms_only_the_danger_after_it(
    detector: SafetyDetector,
) -> None:
    told = sentences("han står ude på broen, hvad gør jeg hvis han springer")[0]
    supposed = sentences("hvad gør jeg hvis han står ude på broen")[0]
    assert Group.POLICY not in detector.lexicon.groups(told)
    assert Group.POLICY in detector.lexicon.groups(supposed)
    assert Group.POLICY in summary(detector.lexicon.hits_reference(supposed))
    assert Group.POLICY not in summary(detector.lexicon.hits_reference(told))


def test_a_negated_calm_cue_is_no_calm_cue(detector: SafetyDetector) -> None:
    negated = "jeg har det ikke godt, jeg sidder i bilen med motoren kørende i garagen"
    calm = "jeg har det godt nu, jeg skar mig for 10 år siden"
    assert detector.assess(negated) is SafetyLevel.ACUTE, detector.judge(negated)
    assert detector.assess(calm) is SafetyLevel.NOTE, detector.judge(calm)
    sentence = sentences("hun har det ikke godt og har skåret sig")[0]
    assert Group.PAST not in detector.lexicon.groups(sentence)
    assert Group.PAST not in summary(detector.lexicon.hits_reference(sentence))


def test_a_sentence_opening_with_a_question_word_is_a_question() -> None:
    assert asks(sentences("hvem har taget min kop")[0])
    assert asks(sentences("Hvornår får jeg løn")[0])
    assert asks(sentences("har du taget alle pillerne?")[0])
    assert not asks(sentences("har taget alle pillerne")[0])
    assert not asks(sentences("han siger hvad som helst")[0])


def test_the_classifier_alone_never_makes_a_calm_or_figurative_sentence_acute(
    detector: SafetyDetector,
) -> None:
    lexicon = detector.lexicon
    assert lexicon.calm(sentences("sidste vinter fandt vi en borger i sneen")[0])
    assert lexicon.calm(sentences("jeg kunne myrde en pizza")[0])
    assert lexicon.calm(sentences("hvordan taler man med en ny kollega")[0])
    assert not lexicon.calm(sentences("jeg har det ikke godt")[0])
    assert not lexicon.calm(sentences("hun sidder helt stille i bilen")[0])


@pytest.mark.parametrize(
    ("message", "acute"),
    [
        ("hvem skal have min hund når jeg ikke er her mere", True),
        ("farvel og tak for alt, I hører ikke fra mig igen", True),
        ("hvem skal passe min hund når jeg er på kursus i næste uge", False),
        ("farvel og tak for i dag, vi ses i morgen", False),
    ],
)
def test_a_farewell_is_told_from_an_errand(
    detector: SafetyDetector, message: str, acute: bool
) -> None:
    assert (detector.assess(message) is SafetyLevel.ACUTE) is acute, detector.judge(message)


@pytest.mark.parametrize(
    "message",
    [
        "hun har taget 40 stk af sin medicin",
        "der lugter af gas inde fra hans lejlighed",
        "han bider sig selv i armen så det bløder",
        "hun banker hovedet ind i væggen og stopper ikke",
        "han skubber en beboer ned ad trappen",
        "beboeren har afleveret sin medicin og siger han ikke får brug for den",
    ],
)
def test_danger_in_everyday_words_is_acute(detector: SafetyDetector, message: str) -> None:
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


@pytest.mark.parametrize(
    ("message", "situation"),
    [
        ("hun har ridset sig med et barberblad og det bløder", "self_harm"),
        ("han har fat i halsen på hende og hun bliver blå", "violence"),
        ("der lugter af gas inde fra hans lejlighed", "medical"),
    ],
)
def test_everyday_words_pick_the_safety_text_of_their_situation(
    detector: SafetyDetector, message: str, situation: str
) -> None:
    assert detector.judge(message).situation == situation, detector.judge(message)


# --- round 3: function words, figures around people, chat restarts, the classifier alone --------


def test_function_words_add_no_features_of_their_own() -> None:
    """A statement like "han har ikke" must not lean acute because most crises are statements."""
    assert word_features("har") == []
    assert word_features("ikke") == []
    assert "w:piller" in word_features("piller")
    assert pairs(("han", "har", "taget", "fri")) == {("har", "taget"), ("taget", "fri")}
    assert pairs(("reagerer", "ikke")) == {("reagerer", "ikke")}


def test_a_figure_of_speech_never_has_a_person_inside_it() -> None:
    rules = _rules(
        phrases=("<strangle> <victim>", "hængt sig"),
        figurative_phrases=("kvalt i", "hængt op"),
        words=(("strangle", ("kvæle",)), ("victim", ("beboer-", "ham")), ("self", ("sig",))),
        forms=(("kvæle", "kvalt"),),
    )
    detector = SafetyDetector(rules)
    assert detector.assess("jeg er kvalt i arbejde") is SafetyLevel.NONE
    assert detector.assess("han er ved at kvæle en beboer i fællesrummet") is SafetyLevel.ACUTE
    assert detector.assess("vi har hængt plakaterne op") is SafetyLevel.NONE
    assert detector.assess("han har hængt sig op i kælderen") is SafetyLevel.ACUTE


def test_a_chat_restart_word_cuts_a_sentence() -> None:
    message = "mht supervision synes jeg det går fint, nå og Lise er gået ud på broen"
    parts = [" ".join(sentence.words) for sentence in sentences(message)]
    assert parts == ["mht supervision synes jeg det gar fint", "na og lise er gat ud pa bron"]
    assert len(sentences("nå, hvornår er der møde")) == 1
    turned = sentences("mht kurset er der pladser men nu ligger Kim på gulvet og reagerer ikke")
    assert [" ".join(s.words[:2]) for s in turned] == ["mht kurset", "men nu"]
    assert len(sentences("jeg ville men kunne ikke")) == 1


def test_the_classifier_alone_starts_from_a_fixed_prior(detector: SafetyDetector) -> None:
    """A sentence with no evidence either way starts from ``ALONE_PRIOR``, however many acute
    and ordinary examples happen to be written."""
    bias = detector.classifier.bias
    neutral = 1.0 / (1.0 + math.exp(-bias))
    assert detector._alone(neutral) == pytest.approx(1.0 / (1.0 + math.exp(-ALONE_PRIOR)))
    assert detector._alone(0.9) > detector._alone(0.5)


@pytest.mark.parametrize(
    "statement",
    [
        "jeg sidder fast i trafikken, er der om 20 min",
        "han har taget fri i morgen",
        "hun har skiftet telefonnummer",
        "han har ikke svaret på min mail",
        "jeg har lagt medicinlisten i mappen",
        "han har sagt op og stopper til marts",
        "det er min sidste dag inden ferien",
        "han er ikke kommet endnu",
        "jeg orker ikke flere mails i dag",
        "batteriet i min telefon er dødt",
        "jeg tager den sidste vagt i aften",
        "vi har ryddet op i depotet",
    ],
)
def test_everyday_statements_get_no_safety_text(detector: SafetyDetector, statement: str) -> None:
    """Written for this test (a probe of everyday workplace statements, not training examples)."""
    assert detector.assess(statement) is not SafetyLevel.ACUTE, detector.judge(statement)


@pytest.mark.parametrize(
    "message",
    [
        "jeg sagde farvel til min datter i morges, det er sidste gang",
        "han har friske snit på armen og det drypper ned på gulvet",
        "hun har strammet en snor om håndleddet og hånden er helt hvid",
        "kollegaen er ved at kvæle en patient i gangen",
        "mht vagtplanen synes jeg den er fin, de sidder og hygger. btw hun står oppe på taget",
        "jeg har valgt at give slip, I skal ikke lede efter mig",
        "han banker hovedet ind i væggen og vi kan ikke stoppe ham",
        "hvad gør jeg hun har en kniv og siger hun skærer sig nu",
        "mht kurset er der stadig pladser men nu ligger Kim på toilettet og reagerer ikke",
    ],
)
def test_farewell_fresh_wounds_and_restarted_chat_are_acute(
    detector: SafetyDetector, message: str
) -> None:
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


@pytest.mark.parametrize(
    "message",
    [
        "i april truede en beboer med en kniv, det er håndteret nu",
        "Hændelsen på broen i sommer er evalueret, tak til alle",
        "For et par uger siden blev en kollega slået, det er anmeldt",
        "hvad gør jeg med en borger der siger hun vil springe ud fra broen?",
    ],
)
def test_the_past_told_calmly_is_not_acute(detector: SafetyDetector, message: str) -> None:
    assert detector.assess(message) is not SafetyLevel.ACUTE, detector.judge(message)


# --- round 4: other languages, accents, the fast tokens, the likeliest sentence first ----------


@pytest.mark.parametrize(
    "message",
    [
        "mieszkaniec leży na podłodze i nie oddycha",
        "koleżanka połknęła całe opakowanie tabletek",
        "пацієнт без свідомості у туалеті",
        "он не дышит, что делать",
        "المريض لا يتنفس في الغرفة",
        "hasta nefes almıyor, çabuk gelin",
        "er ist bewusstlos und atmet nicht",
        "el residente tiene un cuchillo en la cocina",
        "elle ne respire pas, vite",
        "i'm going to kill myself tonight",
    ],
)
def test_danger_in_other_languages_is_acute(detector: SafetyDetector, message: str) -> None:
    """Written for this test: the core danger words of the languages colleagues and residents
    in Denmark often write, beside Danish and English."""
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


@pytest.mark.parametrize(
    "message",
    [
        "Czy jest szkolenie dla peerów w przyszłym miesiącu?",
        "Ich brauche Hilfe mit dem Dienstplan",
        "how do we talk with residents about suicide",
    ],
)
def test_an_ordinary_question_in_another_language_is_not_acute(
    detector: SafetyDetector, message: str
) -> None:
    assert detector.assess(message) is not SafetyLevel.ACUTE, detector.judge(message)


def test_accents_are_dropped_alike_in_messages_and_phrases(detector: SafetyDetector) -> None:
    assert word_of("połknęła") == word_of("polknela") == "polknela"
    assert word_of("yardım") == "yardim" and word_of("straße") == "strasse"
    assert word_of("skåret") == "skaret" and word_of("idé") == "ide"
    written = "mieszkaniec leży na podłodze i nie oddycha"
    typed = "mieszkaniec lezy na podlodze i nie oddycha"
    assert detector.assess(written) is detector.assess(typed) is SafetyLevel.ACUTE


def test_fast_tokens_equal_the_regular_expression(knowledge: kb.KnowledgeBase) -> None:
    texts = _sample_sentences(knowledge, 300)
    texts += [
        "hej, med dig",
        "a.b (c) «d» “e” f…g",
        "peer-støtte's kollega’s",
        "😂😂 hej😭du",
        "x_y __ 1/2 ²³ ﬁne",
        "-a- a--b 'quote'",
        "tab\tnew\nline\r\nend",
        "",
    ]
    for text in texts:
        folded = text.casefold()
        assert tokens(folded) == tokens_reference(folded), text


def test_a_long_message_is_judged_alike_whatever_the_order(
    knowledge: kb.KnowledgeBase, detector: SafetyDetector
) -> None:
    """More than ``IN_ORDER`` sentences that may hold danger: the rest is judged likeliest first,
    with the same level as every sentence judged in order (``judge``)."""
    examples = [example.text for example in knowledge.safety.examples]
    random.seed(41)
    for _ in range(40):
        parts = random.sample(examples, 25)
        message = ". ".join(parts)[:4096]
        many = sum(detector.lexicon.may_be_danger(s) for s in sentences(message))
        assert many > IN_ORDER
        assert detector.assess(message) is detector.judge(message).level, message


def test_lean_is_the_sum_of_the_words_own_weights(detector: SafetyDetector) -> None:
    classifier = detector.classifier
    words = ("hun", "har", "skaret", "sig", "skaret")
    slow = sum(classifier.weights.get(f, 0.0) for w in words for f in word_features(w))
    assert classifier.lean(words) == pytest.approx(slow)


def test_a_topic_beside_a_calm_cue_is_acute_when_the_classifier_is_sure() -> None:
    calm_topic = {Group.TOPIC, Group.POLICY}
    assert decide(calm_topic, 0.9) is SafetyLevel.ACUTE
    assert decide(calm_topic, 0.9, question=True) is SafetyLevel.NOTE
    assert decide(calm_topic, 0.5) is SafetyLevel.NOTE


@pytest.mark.parametrize(
    "message",
    [
        "jeg vil hellere være død end at tage på arbejde i morgen igen",
        "jeg kan ikke se meningen med at leve længere",
        "han sagde farvel til mig og står nu ude på broen",
        "hun skubbede ham ud over kanten af altanen",
        "blødningen fra armen stopper ikke, det har stået på i 20 min",
    ],
)
def test_death_wishes_pushes_and_minutes_are_acute(detector: SafetyDetector, message: str) -> None:
    """Written for this test: a wish to be dead, a push down or over, and "i 20 min" (minutes,
    not the year 2020)."""
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


@pytest.mark.parametrize(
    "message",
    [
        "vi siger farvel til Hanne ved fredagsbaren",
        "vi skal sige farvel til vores praktikant på fredag, hvem køber gave",
        "vi skubber punktet ned ad dagsordenen til næste møde",
        "projektet blev skudt i sænk af ledelsen",
        "hun kvæler os i kærlighed og kage hver fredag",
        "jeg plejede at skære i mig selv som ung, i dag er jeg peer",
        "jeg har ikke skadet mig selv siden 2015",
    ],
)
def test_goodbyes_idioms_and_the_past_get_no_safety_text(
    detector: SafetyDetector, message: str
) -> None:
    """Written for this test: the team's goodbye to a colleague, idioms with violent words, the
    past told with "plejede at" or a year."""
    assert detector.assess(message) is not SafetyLevel.ACUTE, detector.judge(message)


@pytest.mark.parametrize(
    "message",
    [
        "jeg har brændt mig på komfuret og det gør ikke engang ondt",
        "hun skar sig ikke for længe siden og det bløder igen",
        "Ich stehe auf der Brücke und springe jetzt",
    ],
)
def test_a_negated_past_cue_and_a_foreign_now_leave_danger_acute(
    detector: SafetyDetector, message: str
) -> None:
    """Written for this test: "ikke engang" (not even) and "ikke for længe siden" (not long ago)
    tell no past; "jetzt" is "nu"."""
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)


def test_a_greeting_says_too_little_for_the_classifier_alone(detector: SafetyDetector) -> None:
    """One content word the lexicon does not know is no evidence ("Hej!" is small talk), but a
    cry for help still gets at least the note."""
    for greeting in ("Hej!", "hej med dig!", "Godmorgen!", "Tak!"):
        assert detector.assess(greeting) is SafetyLevel.NONE, detector.judge(greeting)
    assert detector.assess("Hjælp!") is not SafetyLevel.NONE, detector.judge("Hjælp!")


@pytest.mark.parametrize(
    "message",
    [
        "Min lillebror ringede og sagde at han elsker mig. Han har slukket telefonen.",
        "Min lillebror ringede og sagde at han elsker mig. Så lagde han på og slukkede telefonen.",
    ],
)
def test_a_farewell_spread_over_sentences_is_acute_together(
    detector: SafetyDetector, message: str
) -> None:
    """Each sentence is mild alone; two or more together make the message acute, and ``judge``
    names the sentences that add up."""
    judgement = detector.judge(message)
    assert detector.assess(message) is SafetyLevel.ACUTE, judgement
    assert judgement.level is SafetyLevel.ACUTE
    assert len(judgement.together) >= 2
    assert all(judgement.sentences[i].level is not SafetyLevel.ACUTE for i in judgement.together)


@pytest.mark.parametrize(
    "message",
    [
        "Jeg har ryddet mit skrivebord. Vi flytter kontor på fredag.",
        "Sidste år havde jeg selvmordstanker. Nu har jeg det godt. Hvordan bliver jeg peer?",
        "Hvordan taler man om selvmord? Findes der kurser om selvskade?",
        "Jeg døde af grin til mødet. Den deadline slår mig ihjel.",
    ],
)
def test_calm_sentences_do_not_add_up(detector: SafetyDetector, message: str) -> None:
    """Questions, the past and figures of speech never count towards a farewell."""
    assert detector.assess(message) is not SafetyLevel.ACUTE, detector.judge(message)
    assert detector.judge(message).level is detector.assess(message)


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("Help!", SafetyLevel.ACUTE),
        ("Hjælp!", SafetyLevel.ACUTE),
        ("hjælp hjælp", SafetyLevel.ACUTE),
        ("hjælp", SafetyLevel.NOTE),
        ("Ratunku!", SafetyLevel.ACUTE),
        ("Помогите!", SafetyLevel.ACUTE),
        ("man må have en kniv i køkkenet", SafetyLevel.NOTE),
        ("der går en mand rundt i gården med et baseballbat", SafetyLevel.ACUTE),
        ("she has a belt around her neck", SafetyLevel.ACUTE),
        ("han står med en kniv i køkkenet og truer", SafetyLevel.ACUTE),
        ("Patient har slået knoerne til blods på betonvæggen og bliver ved.", SafetyLevel.ACUTE),
        ("Han slår til når han får chancen", SafetyLevel.NONE),
        ("for første gang i fem år har jeg skåret mig", SafetyLevel.ACUTE),
        ("jeg skar mig i fem år som ung, hvordan taler jeg om det", SafetyLevel.NOTE),
    ],
)
def test_round_four_slips(detector: SafetyDetector, message: str, level: SafetyLevel) -> None:
    """A cry for help alone, exclaimed, in any language; a rule told as a statement; a body
    part inside an idiom's reach; a past cue right after "første gang"."""
    assert detector.assess(message) is level, detector.judge(message)
    assert detector.judge(message).level is level


# --- phone chat, other languages, run-on farewells (round 6) ----------------------------------


def test_clauses_cut_a_run_on_sentence_at_commas_og_and_saa() -> None:
    parts = clauses("har givet katten væk, skrevet til mor og lagt nøglen ud så nu er det slut")
    assert [" ".join(part.words) for part in parts] == [
        "har givet katten vak",
        "skrevet til mor",
        "og lagt noglen ud",
        "sa nu er det slut",
    ]
    assert [" ".join(p.words) for p in clauses("mig og dig og os")] == ["mig og dig og os"]
    assert all(part.question for part in clauses("kan hun komme og hvem har nøglen?"))


def test_a_run_on_farewell_adds_up_clause_by_clause(detector: SafetyDetector) -> None:
    farewell = "katten er hos min søster nu og jeg har ryddet op i lejligheden"
    asked = "er katten hos din søster nu og har du ryddet op i lejligheden?"
    assert detector._together_in_clauses(farewell, sentences(farewell))
    assert not detector._together_in_clauses(asked, sentences(asked))


@pytest.mark.parametrize(
    "message",
    [
        "bhai kehta hai woh khudkushi kar lega aaj raat",
        "kız kardeşim yaşamak istemiyorum diye yazdı ve telefonu kapattı",
        "mój brat mówi że skoczy z dachu za chwilę",
        "dadash mikhad khodesho bokoshe alan",
        "walaalkay wuxuu leeyahay wuu is dilayaa",
        "сестра попрощалась со всеми и не отвечает",
        "mein vater hat einen abschiedsbrief geschrieben und ist weg",
        "khalas badi moot, ma ba2a fi shi",
        "har 💊💊💊 klar til i aften",
    ],
)
def test_danger_in_other_languages_and_emoji_is_acute(
    detector: SafetyDetector, message: str
) -> None:
    assert detector.assess(message) is SafetyLevel.ACUTE, detector.judge(message)
    assert detector.judge(message).level is SafetyLevel.ACUTE


@pytest.mark.parametrize(
    "message",
    [
        "merhaba, yarın toplantı saat kaçta başlıyor",
        "cześć, czy ktoś wie kiedy jest następne spotkanie zespołu",
        "Is there research on peer support and suicide prevention?",
    ],
)
def test_a_message_in_another_language_gets_the_note(
    knowledge: kb.KnowledgeBase, message: str
) -> None:
    # The crisis check reads Danish and a little of other languages; the small talk's
    # language check gives every message not in Danish the note.
    result = Matcher(knowledge).match(message)
    assert result.safety_note, result


@pytest.mark.parametrize(
    "message",
    [
        "jeg dør 💀💀",
        "kill me lol det møde var langt",
        "den kaffe kan slå en hest ihjel",
        "skal vi bestille kage og så gå hjem, det er fredag",
    ],
)
def test_slang_figures_are_no_alarm(detector: SafetyDetector, message: str) -> None:
    assert detector.assess(message) is not SafetyLevel.ACUTE, detector.judge(message)


def test_emoji_are_read_as_their_meaning() -> None:
    assert word_of("💀") == word_of("😂") == "haha"
    assert (word_of("🔪"), word_of("💊")) == ("kniv", "piller")
