"""Facts asked about one thing, and requests for a task (``faqbot.matcher.answerable``): the
thing named after the asking phrase ("hvor mange ECTS-point"), the answer sentence that must
both name it and show the fact, the real word lists' forms (with a plain-loop twin of the
lookup), tasks, the engine's no-answer with the nearest item offered, and the file's reading."""

import re
from pathlib import Path

import pytest

from faqbot import kb
from faqbot.kb import FactKind
from faqbot.matcher import Matcher, Result, Status
from faqbot.matcher.answerable import (
    NAME,
    Answerability,
    Gap,
    Thing,
    asking_part,
    fact_asked,
    fact_shown,
    names_thing,
    sentences,
    written_words,
)
from faqbot.render import NEAREST_TEXT, not_covered, result_plain
from faqbot.text import words

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def things_in(real: Matcher, question: str) -> list[tuple[str, str, str]]:
    check = real.answerability
    part = asking_part(question)
    folded = words(part)
    return [
        (check.things[t.kind][0].says, t.word, t.asked)
        for t in check.asked_things(folded, written_words(part, folded))
    ]


# -- the thing asked about ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Hvor mange ECTS-point giver uddannelsen?",
            [("tal", "ectspoint", "Hvor mange ECTS-point")],
        ),
        ("hvor mange sygedage må en peer have", [("tal", "sygedage", "hvor mange sygedage")]),
        ("hvor meget løn får en peer", [("tal", "lon", "hvor meget løn")]),
        (
            "Hvor lang er prøveperioden?",
            [("varigheder", "proveperioden", "Hvor lang er prøveperioden")],
        ),
        (
            "hvor lang tid tager peeruddannelsen",
            [("varigheder", "peeruddannelsen", "hvor lang tid tager peeruddannelsen")],
        ),
        (
            "Hvilken dato er næste netværksmøde?",
            [("datoer eller tidspunkter", "netvarksmode", "Hvilken dato er næste netværksmøde")],
        ),
        (
            "hvornår kommer en ny version af guiden",
            [("datoer", "version", "hvornår kommer en ny version")],
        ),
        ("Hvad hedder uddannelsen?", [("navne", "uddannelsen", "Hvad hedder uddannelsen")]),
        # no thing named after the phrase: a modal, a pronoun, the end of the question
        ("Hvor mange skal sidde i ansættelsesudvalget?", []),
        ("hvor mange ska vi max vaere", []),
        ("Hvor meget må man spørge ind til diagnosen?", []),
        ("Hvor meget er det egentlig okay at spørge om?", []),
        ("kontaktpersoner til ny peer hvor mange", []),
        ("Hvor langt skal man være i sin recovery?", []),  # "langt": how far, not how long
        ("Hvordan forbereder vi teamet?", []),
        # the asker's introduction is context, not what is asked
        ("Jeg har været ansat i tre år, hvordan får jeg supervision?", []),
    ],
)
def test_the_thing_is_the_word_after_the_asking_phrase(
    real: Matcher, question: str, expected: list[tuple[str, str, str]]
) -> None:
    assert things_in(real, question) == expected


def plain_things(check: Answerability, folded: list[str]) -> list[tuple[int, str]]:
    """The reference: a regular expression per phrase over the joined words (the run of
    ``between`` words taken whole, never given back)."""
    between = "|".join(re.escape(w) for w in sorted(check.between))
    found = []
    for at, (fact, _) in enumerate(check.things):
        for phrase in fact.asks:
            if " ... " in phrase:
                continue
            head = " ".join(words(phrase))
            pattern = rf"(?=(?:^| ){re.escape(head)}(?: (?:{between})(?= |$))*+ (\S+))"
            for match in re.finditer(pattern, " ".join(folded)):
                if match.group(1) not in check.not_things:
                    found.append((at, match.group(1)))
    return sorted(found)


def test_the_things_asked_equal_a_plain_loop_on_eval_questions_and_phrasings(
    real: Matcher,
) -> None:
    check = real.answerability
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    texts = [q.question for q in evalset.questions] + list(evalset.out_of_scope)
    texts += [phrasing for item in real.kb.items for phrasing in item.phrasings]
    texts += ["hvor mange hvor mange timer", "hvor lang er er den", "hvor mange"]
    asked = 0
    for text in texts:
        folded = words(text)
        fast = sorted((t.kind, t.word) for t in check.asked_things(folded, folded))
        assert fast == plain_things(check, folded), text
        asked += bool(fast)
    assert asked > 50


@pytest.mark.parametrize(
    ("thing", "word", "named"),
    [
        ("timer", "timer", True),
        ("timer", "timerne", True),  # the same stem
        ("peers", "peermedarbejdere", True),  # inside a compound
        ("cases", "casestudier", True),  # at a compound's start
        ("dage", "undervisningsdage", True),  # at a compound's end
        ("peeruddannelsen", "uddannelsen", True),  # the answer's word inside the question's
        ("sygedage", "syge", False),
        ("ectspoint", "moduler", False),
        ("proveperioden", "periode", True),  # the compound's head: generous on purpose
        ("proveperioden", "ansattelsen", False),
    ],
)
def test_an_answer_word_names_the_thing_by_stem_or_compound(
    thing: str, word: str, named: bool
) -> None:
    assert names_thing(thing, word) is named


def test_an_answer_shows_a_fact_about_the_thing_only_in_one_sentence(real: Matcher) -> None:
    check = real.answerability
    count = next(at for at, (f, _) in enumerate(check.things) if f.says == "tal")
    hours = Thing(count, "timer", "hvor mange timer")
    sick_days = Thing(count, "sygedage", "hvor mange sygedage")
    assert check.shows_about(real.kb.item("timer-hvor-mange"), hours)
    # numbers there are, but none stands in a sentence about sick days (nor sygefravær)
    assert not check.shows_about(real.kb.item("peer-bliver-syg"), sick_days)
    # a synonym names the thing: hæftet -> miniguiden
    assert "miniguiden" in check.synonyms["haftet"]


def test_the_shown_sentences_equal_a_plain_loop_over_every_answer(real: Matcher) -> None:
    check = real.answerability
    asked = ["timer", "peers", "moduler", "lon", "uddannelsen", "lederen", "proveperioden"]
    for at, (fact, _) in enumerate(check.things):
        for item in real.kb.items:
            for word in asked:
                thing = Thing(at, word, word, frozenset({word}))
                plain = False
                for sentence in sentences(item.answer):
                    folded = words(sentence)
                    others = FactKind(
                        fact.says, fact.asks, tuple(s for s in fact.shown_by if s != NAME)
                    )
                    names = set(
                        words(" ".join(re.findall(r"(?<=[a-zæøå0-9,;)] )[A-ZÆØÅ][\w-]+", sentence)))
                    )
                    shown = fact_shown(others, sentence, folded) or (
                        NAME in fact.shown_by and bool(names - {word})
                    )
                    plain = plain or (shown and any(names_thing(word, w) for w in folded))
                assert check.shows_about(item, thing) is plain, (item.id, word, fact.says)


@pytest.mark.parametrize(
    ("mark", "text", "shown"),
    [
        ("<dato>", "Næste møde er den 12. marts.", True),
        ("<dato>", "Erfagruppen mødes hver tirsdag.", True),
        ("<dato>", "Vi starter kl. 9.", True),
        ("<dato>", "Mødet er 13:30.", True),
        ("<dato>", "Uddannelsen startede i 2017.", False),
        ("<dato>", "Gruppen mødes en gang om måneden.", False),
        ("<navn>", "Redskabet er udviklet af Peer-Partnerskabet.", True),
        ("<navn>", "Peeren er ansat på lige fod med andre.", False),  # the sentence's start
    ],
)
def test_the_date_and_name_marks(mark: str, text: str, shown: bool) -> None:
    fact = FactKind("x", ("x",), (mark,))
    assert fact_shown(fact, text, words(text)) is shown


def test_a_name_the_question_uses_itself_is_no_answer(real: Matcher) -> None:
    check = real.answerability
    naming = next(at for at, (f, _) in enumerate(check.things) if f.says == "navne")
    question = words("hvad hedder lederen af Center for Recovery og Samskabelse")
    item = real.kb.item("leder-center-hjaelp")
    asked = Thing(naming, "lederen", "hvad hedder lederen", frozenset(question))
    assert check.shows_about(item, asked)  # "I Region Nordjylland kan lederen ..." names a region
    everything = frozenset(question) | {"region", "nordjylland", "del"}
    assert not check.shows_about(item, Thing(naming, "lederen", "", everything))


@pytest.mark.parametrize(
    ("says", "question", "asked"),
    [
        ("punkter eller dele", "Hvilke dimensioner har Peer-worker Role Star?", True),
        ("punkter eller dele", "Role Star – hvilke punkter har den?", True),
        ("punkter eller dele", "Hvilke punkter anbefaler miniguiden til dagsordenen?", False),
        ("punkter eller dele", "Hvilke temaer bør vi tage op til jobsamtalen?", False),
        ("oplysninger om ophav", "Hvem har udviklet Peer-worker Role Star?", True),
        ("oplysninger om ophav", "hvem står bag miniguiden", True),
        ("oplysninger om ophav", "Hvem skal stå for introduktionen?", False),
        ("navne på personer", "Hvad hedder lederen af Center for Recovery og Samskabelse?", True),
        ("navne på personer", "Hvad hedder uddannelsen?", False),
    ],
)
def test_the_fact_kinds_of_this_round_are_asked_in_their_forms(
    real: Matcher, says: str, question: str, asked: bool
) -> None:
    fact = next(f for f in real.kb.answerable.facts if f.says == says)
    assert fact_asked(fact, words(question)) is asked


def test_a_tool_the_guides_only_name_gets_no_answer_about_its_parts(real: Matcher) -> None:
    item = real.kb.item("opstart-forventningsafstemning")
    assert "Role Star" in item.answer
    for question, says in (
        ("Hvilke dimensioner har Peer-worker Role Star?", "punkter eller dele"),
        ("Hvem har udviklet Peer-worker Role Star?", "oplysninger om ophav"),
    ):
        result = real.answerable(offered(real, question, item.id))
        assert result.status is Status.NO_MATCH and result.not_covered == Gap(fact=says)


# -- the engine -----------------------------------------------------------------------------


def offered(real: Matcher, question: str, item_id: str) -> Result:
    return Result(question, Status.ANSWERED, real.kb.item(item_id), 0.9)


@pytest.mark.parametrize(
    ("question", "item_id", "says", "asked"),
    [
        ("hvor mange sygedage må en peer have", "peer-bliver-syg", "tal", "hvor mange sygedage"),
        (
            "Hvor mange ECTS-point giver peeruddannelsen?",
            "peeruddannelse-opbygning",
            "tal",
            "Hvor mange ECTS-point",
        ),
        (
            "Hvilken ugedag mødes erfagruppen?",
            "peer-erfagruppe",
            "datoer eller tidspunkter",
            "Hvilken ugedag mødes",
        ),
    ],
)
def test_a_fact_about_a_thing_no_sentence_holds_is_not_answered(
    real: Matcher, question: str, item_id: str, says: str, asked: str
) -> None:
    result = real.answerable(offered(real, question, item_id))
    nearest = real.kb.item(item_id).question
    assert result.status is Status.NO_MATCH and result.suggestions == ()
    assert result.not_covered == Gap(fact=says, asked=asked, nearest=nearest)
    reply = result_plain(result, real.kb)
    assert f"har ikke de {says}, du spørger om («{asked}»)" in reply
    assert NEAREST_TEXT.format(question=nearest) in reply


@pytest.mark.parametrize(
    ("question", "item_id"),
    [
        ("hvor mange timer om ugen arbejder peers typisk", "timer-hvor-mange"),
        ("hvor mange moduler er der på peeruddannelsen", "peeruddannelse-opbygning"),
        ("hvor lang tid tager peeruddannelsen", "peeruddannelse-opbygning"),
        ("hvor mange dage er hun væk på uddannelsen", "peeruddannelse-opbygning"),
        ("hvor mange kr i timen får en peer", "loen-overenskomst"),
        (
            "Hvordan blev Peer Job-undersøgelsen lavet? Hvor mange cases var der?",
            "peer-job-undersoegelsen",
        ),
        ("Hvem står bag hæftet 'Når brugere bliver kollegaer'?", "miniguide-brug-og-deling"),
        ("Hvor meget tid skal jeg sætte af som mentor?", "mentor-tid-og-moeder"),
    ],
)
def test_a_fact_the_answer_holds_about_the_thing_keeps_the_answer(
    real: Matcher, question: str, item_id: str
) -> None:
    kept = offered(real, question, item_id)
    assert real.answerable(kept) is kept


TASK = "skriver ikke mails, breve, opslag, planer eller skabeloner"


@pytest.mark.parametrize(
    ("question", "task"),
    [
        ("Skriv en mail til teamet om at vi får en peer", True),
        ("kan du skrive et jobopslag til en peer-stilling", True),
        ("Lav en vagtplan for vores peer", True),
        ("Har du en skabelon til en funktionsbeskrivelse?", True),
        ("Hej. Kan du lave en introduktionsplan til vores nye peer?", True),
        ("Skriv et jobopslag til en peer-stilling på 20 timer. Tak!", True),  # any sentence
        ("gider du sende mig guiden", True),
        ("Opsummer guiden for mig", True),
        ("Kan du finde en peer til vores afsnit?", True),
        ("Jeg vil gerne bede dig om at skrive et referat", True),
        # questions about what the guides hold, and how-to questions, are no tasks
        ("er der en skabelon til stillingsopslag for peers", False),
        ("findes der skabeloner til stillingsopslag?", False),
        ("tjekliste før ansættelse af peer", False),
        ("Hvordan skriver vi et godt stillingsopslag til en peer?", False),
        ("hvordan faar jeg som leder det oversat til hverdagen", False),
        ("Hej, lav en vagtplan til os", True),  # a clause's start, after a greeting
        ("Er det for lav en løn til en peer?", False),  # "lav en" not at a clause's start
        ("Hvad skal en peer lave?", False),
    ],
)
def test_a_request_for_a_task_is_recognised_in_its_forms(
    real: Matcher, question: str, task: bool
) -> None:
    found = real.answerability.task(question)
    assert (found is not None and found.says == TASK) is task


def test_no_phrasing_and_no_eval_question_asks_for_a_task(real: Matcher) -> None:
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    texts = [p for item in real.kb.items for p in item.phrasings]
    texts += [q.question for q in evalset.questions]
    assert len(texts) > 5000
    assert [t for t in texts if real.answerability.task(t) is not None] == []


def test_a_task_gets_a_kind_no_answer_with_the_nearest_item(real: Matcher) -> None:
    question = "Har du en skabelon til en funktionsbeskrivelse?"
    item = real.kb.item("ansaettelse-funktionsbeskrivelse")
    result = real.answerable(offered(real, question, item.id))
    assert result.status is Status.NO_MATCH
    assert result.not_covered == Gap(task=TASK, nearest=item.question)
    reply = result_plain(result, real.kb)
    assert reply.startswith(f"Det kan jeg desværre ikke hjælpe med: jeg {TASK}.")
    assert f"»{item.question}«" in reply and not_covered(result.not_covered) == f"jeg {TASK}"


def test_a_task_turned_away_for_another_reason_still_says_it_is_a_task(real: Matcher) -> None:
    away = Result("Skriv en mail til min leder om ferie", Status.NO_MATCH, None, 0.1)
    assert real.with_task(away).not_covered == Gap(task=TASK)
    other = Result("hvad koster kantinen", Status.NO_MATCH, None, 0.1)
    assert real.with_task(other) is other
    answered = offered(real, "Hvad laver en peer?", "timer-hvor-mange")
    assert real.with_task(answered) is answered


# -- the file -------------------------------------------------------------------------------


def test_the_real_lists_read_and_use_known_marks(real: Matcher) -> None:
    rules = real.kb.answerable
    assert {t.says for t in rules.things} >= {"tal", "varigheder", "datoer eller tidspunkter"}
    assert all(s in kb.SHOWN_MARKS for t in rules.things for s in t.shown_by if s.startswith("<"))
    assert "er" in rules.between and "skal" in rules.not_things
    assert [t.says for t in rules.tasks] == [TASK]
    assert "lav en" in rules.tasks[0].starts and "kan du skrive" in rules.tasks[0].asks


def test_a_broken_thing_or_task_names_file_and_line(tmp_path: Path) -> None:
    for path in KNOWLEDGE.glob("*.yaml"):
        if path.name not in ("eval.yaml", "dev.yaml"):
            (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "items").symlink_to(KNOWLEDGE / "items")
    (tmp_path / "answerable.yaml").write_text(
        "things:\n"
        "  - says: tal\n"
        "    asks: [hvor mange]\n"
        "    shown_by: [<dag>]\n"
        "tasks:\n"
        "  - says: skriver ikke\n"
        "between: [er]\n",
        encoding="utf-8",
    )
    with pytest.raises(kb.KnowledgeBaseError) as error:
        kb.load(tmp_path)
    message = str(error.value)
    assert "answerable.yaml:4: answerable: unknown mark '<dag>'" in message
    assert "answerable.yaml:6: answerable task: no 'asks' nor 'starts'" in message
