"""Can the best items answer what is asked (``faqbot.matcher.answerable``)? The asking part of a
question, names in every form (and a plain-loop twin of the lookup), kinds of facts asked and
shown, and the engine: such a question gets no answer and a reply that says what the guides do
not cover, while questions that only mention a place as context are still answered."""

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from faqbot import kb
from faqbot.kb import FactKind, NameKind
from faqbot.matcher import Matcher, Result, Status, Suggestion, answerable
from faqbot.matcher.answerable import (
    MAX_ENDING,
    MIN_STEM,
    YEAR,
    Answerability,
    Gap,
    Names,
    asking_part,
    asking_phrases,
    asks,
    fact_asked,
    fact_shown,
)
from faqbot.render import result_plain
from faqbot.text import words

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def names(real: Matcher) -> Names:
    return real.answerability.names


def found(names: Names, text: str) -> set[str]:
    return names.find(words(text))


# -- the asking part ----------------------------------------------------------------------


def test_the_asking_part_drops_the_clause_that_introduces_the_asker() -> None:
    question = "Jeg er leder i Vejle Kommune, hvordan forbereder vi personalet på en peer?"
    assert asking_part(question) == " hvordan forbereder vi personalet på en peer?"


def test_the_asking_part_is_the_sentences_that_end_in_a_question_mark() -> None:
    question = (
        "Jeg er afdelingssygeplejerske i Region Syddanmark. Vi vil gerne have en peer. "
        "Hvem skal jeg kontakte i Region Syd?"
    )
    assert asking_part(question) == "Hvem skal jeg kontakte i Region Syd?"


def test_without_a_question_mark_the_last_sentence_asks() -> None:
    assert asking_part("Vi bor i Aalborg. peer loen hvilket trin") == "peer loen hvilket trin"
    assert asking_part("peer loen region syd hvilket trin") == "peer loen region syd hvilket trin"


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("peer loen region syd hvilket trin", "Region Syddanmark"),
        ("peers i Region Syddanmark", "Region Syddanmark"),
        ("hvordan gør de i syddanmark", "Region Syddanmark"),
        ("hvordan er det i region midt", "Region Midtjylland"),
        ("tlf nr til centret i aalborg", "Aalborg"),
        ("Aalborgs peers", "Aalborg"),  # an ending
        ("peers i Århus", "Aarhus"),  # another form, æøå folded
        ("kan vores peer skrive i cosmic", "Cosmic"),
        ("peer i sundhedsplatformen", "Sundhedsplatformen"),  # definite form
        ("hvem er formand for peer netvaerket danmark", "Peer-Netværket Danmark"),
        ("hvem er leder af Peer-Partnerskabet", "Peer-Partnerskabet"),  # hyphenated: one word
        ("peer paa FOA overenskomst", "FOA"),
        ("peers i norge", "Norge"),
        ("Må hun det efter GDPR?", "GDPR"),
        ("hvor meget stiger lonnen med ok24", "OK24"),
    ],
)
def test_every_kind_of_name_is_found_in_its_forms(names: Names, text: str, name: str) -> None:
    assert name in found(names, text)


def test_a_law_is_named_by_its_ending_and_a_year_by_its_digits(names: Names) -> None:
    assert found(names, "Hvad siger funktionærloven om opsigelse i 2025?") == {
        "funktionarloven",
        "2025",
    }


@pytest.mark.parametrize(
    "text",
    [
        "kan et peer job vaere vejen ind paa arbejdsmarkedet",  # "Vejen" is not listed
        "hvordan passer vi på vores sind",
        "peeren skal have 10 timer om ugen",  # a number, not a year
        "hvad er lovens krav",  # "loven" itself is no law's name
        "foaer",  # a short name takes no ending
    ],
)
def test_everyday_words_are_no_names(names: Names, text: str) -> None:
    assert found(names, text) == set()


def plain_shapes(rules: kb.AnswerableRules) -> list[tuple[list[str], str]]:
    """Every form of every name as folded words (and, of several words, joined), with the
    form to show."""
    shapes = []
    for kind in rules.names:
        for forms in kind.names:
            for form in forms:
                parts = words(form)
                shapes += [(parts, forms[0])] + (
                    [(["".join(parts)], forms[0])] if len(parts) > 1 else []
                )
    return shapes


def plain_find(
    rules: kb.AnswerableRules, shapes: list[tuple[list[str], str]], folded: list[str]
) -> set[str]:
    """The reference: every form of every name tried at every word, one by one."""
    result = {word for word in folded if YEAR.fullmatch(word)}
    endings = [words(e)[0] for kind in rules.names for e in kind.endings]
    result |= {w for w in folded for e in endings if len(w) > MIN_STEM + 2 and w.endswith(e)}
    for shape, shown in shapes:
        for at, first in enumerate(folded[: len(folded) - len(shape) + 1]):
            extra = len(first) - len(shape[0])
            if not first.startswith(shape[0]) or extra > MAX_ENDING:
                continue
            if extra and len(shape[0]) < MIN_STEM:
                continue
            rest = zip(folded[at + 1 : at + len(shape)], shape[1:], strict=True)
            if all(w.startswith(p) and len(w) - len(p) <= MAX_ENDING for w, p in rest):
                result.add(shown)
    return result


def test_the_name_lookup_equals_a_plain_loop_on_every_eval_question_and_answer(
    real: Matcher, names: Names
) -> None:
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    texts = [q.question for q in evalset.questions] + list(evalset.out_of_scope)
    texts += [item.answer for item in real.kb.items]
    rules = real.kb.answerable
    shapes = plain_shapes(rules)
    named = 0
    for text in texts:
        folded = words(text)
        expected = plain_find(rules, shapes, folded)
        assert names.find(folded) == expected, text
        named += bool(expected)
    assert named > 50  # the comparison covers many texts that do name something


def test_the_kept_lookups_stay_bounded_and_give_the_same_names(
    real: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answerable, "CACHED_WORDS", 5)
    fresh = Names(real.kb.answerable)
    rules = real.kb.answerable
    shapes = plain_shapes(rules)
    for text in [item.answer for item in real.kb.items[:20]] * 2:
        folded = words(text)
        assert fresh.find(folded) == plain_find(rules, shapes, folded)
        assert len(fresh._words) <= 5


def test_the_asked_facts_equal_a_plain_loop_on_eval_questions_and_phrasings(real: Matcher) -> None:
    check = real.answerability
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", real.kb)
    asked = 0
    texts = [q.question for q in evalset.questions] + list(evalset.out_of_scope)
    texts += [phrasing for item in real.kb.items for phrasing in item.phrasings]
    every = [asking_phrases(fact) for fact, _ in check.facts]  # every phrase, no first-word filter
    for text in texts:
        folded = words(text)
        plain = [at for at, phrases in enumerate(every) if asks(phrases, folded)]
        assert check.asked_facts(folded) == plain, text
        asked += bool(plain)
    assert asked > 100


# -- facts ----------------------------------------------------------------------------------

PHONE = FactKind("telefonnumre", ("tlf nr", "telefonnummer"), ("<telefonnummer>", "<link>"))
PRICE = FactKind("priser", ("hvad koster", "pris"), ("kr", "betal*"))


def test_a_fact_is_asked_by_its_phrases_with_or_without_æøå() -> None:
    assert fact_asked(PHONE, words("tlf nr til centret"))
    assert fact_asked(PHONE, words("Hvad er telefonnummeret?")) is False  # another word
    assert fact_asked(PRICE, words("Hvad koster kurset?"))
    assert fact_asked(PRICE, words("hvad kan kurset")) is False


@pytest.mark.parametrize(
    ("fact", "answer", "shown"),
    [
        (PHONE, "Ring på 98 76 54 32.", True),
        (PHONE, "Skriv til center@rn.dk.", True),
        (PHONE, "Se www.peerpartnerskabet.dk.", True),
        (PHONE, "Kontakt centret, der hjælper med opslaget.", False),
        (PRICE, "Det koster 4.000 kr.", True),
        (PRICE, "Arbejdspladsen betaler uddannelsen.", True),  # betal* starts a word
        (PRICE, "Uddannelsen varer et halvt år.", False),
        (PRICE, "Det krav stiller guiderne ikke.", False),  # kr only as a whole word
    ],
)
def test_a_fact_is_shown_by_its_marks_and_words(fact: FactKind, answer: str, shown: bool) -> None:
    assert fact_shown(fact, answer, words(answer)) is shown


def test_the_real_fact_kinds_use_known_marks_and_have_a_danish_name(real: Matcher) -> None:
    facts = real.kb.answerable.facts
    assert {fact.says for fact in facts} >= {"telefonnumre eller adresser", "priser eller beløb"}
    assert all(s in kb.SHOWN_MARKS for f in facts for s in f.shown_by if s.startswith("<"))


NOW = FactKind("aktuelle tal", ("hvor mange ... ansat ... i dag", "seneste tal"), ("i dag",))


def test_a_phrase_with_a_gap_asks_when_its_parts_come_in_order() -> None:
    assert fact_asked(NOW, words("Hvor mange peers er ansat i Region Midt i dag?"))
    assert fact_asked(NOW, words("hvad er de seneste tal"))
    assert fact_asked(NOW, words("Hvor mange peers er ansat?")) is False  # no "i dag"
    assert fact_asked(NOW, words("I dag er vi ansat, hvor mange?")) is False  # not in order
    assert fact_asked(NOW, words("Hvor mange timer arbejder en peer i dag?")) is False


def test_a_shown_phrase_must_stand_whole_in_the_answer() -> None:
    assert fact_shown(NOW, "I dag er 40 ansat.", words("I dag er 40 ansat."))
    assert not fact_shown(NOW, "I 2019 var 40 ansat, og dagen efter ...", words("I 2019 var 40"))


def real_fact(real: Matcher, says: str) -> FactKind:
    return next(f for f in real.kb.answerable.facts if f.says == says)


@pytest.mark.parametrize(
    ("says", "question", "asked"),
    [
        ("aktuelle tal", "Hvor mange peers er ansat i psykiatrien lige nu?", True),
        ("aktuelle tal", "Hvor mange peers er ansat i Psykiatrien i dag?", True),
        ("aktuelle tal", "hvor mange peers er ansat nu", True),
        ("aktuelle tal", "Hvordan ser det ud i dag med peers i regionen?", True),
        ("aktuelle tal", "I dag – hvor mange peers er ansat i regionen?", True),
        ("aktuelle tal", "Hvor mange peers er der i Danmark i dag?", True),
        ("aktuelle tal", "Hvad siger den seneste opgørelse?", True),
        ("aktuelle tal", "Hvor mange timer arbejder en peer typisk i dag?", False),
        ("aktuelle tal", "Hvor mange peers bør vi ansætte?", False),
        ("regler eller paragraffer", "Hvilken paragraf giver peeren adgang?", True),
        ("regler eller paragraffer", "Gælder reglerne om fortrinsadgang for os?", True),
        ("regler eller paragraffer", "Hvad er lovhjemlen for det?", False),  # another word
        ("regler eller paragraffer", "Hvad er hjemlen for det?", True),
        ("regler eller paragraffer", "Står det i en bekendtgørelse?", True),
        ("regler eller paragraffer", "Hvad siger loven om tavshedspligt?", False),
        ("regler eller paragraffer", "Hvilke regler har vi for pauser?", False),
        ("tal eller andele", "Hvor mange timers frivilligt arbejde må hun have?", True),
        ("tal eller andele", "Hvor stor en andel af peers bliver syge?", True),
        ("tal eller andele", "Hvor mange procent får fast job?", True),
        ("tal eller andele", "Hvad er antallet af peers?", True),
        ("tal eller andele", "Hvor ofte skal peeren have supervision?", False),
        ("tal eller andele", "Hvor mange peers bliver syge igen?", True),
        ("tal eller andele", "Hvor mange peers er der i Danmark?", True),
        ("tal eller andele", "Hvor mange kolleger skal kende til diagnosen?", False),  # advice
        ("tal eller andele", "Hvor mange peers bør vi ansætte?", False),
    ],
)
def test_the_new_fact_kinds_are_asked_in_their_forms(
    real: Matcher, says: str, question: str, asked: bool
) -> None:
    assert fact_asked(real_fact(real, says), words(question)) is asked


@pytest.mark.parametrize(
    ("says", "answer", "shown"),
    [
        ("aktuelle tal", "I 2019 var 40 peers ansat i regionen.", False),
        ("aktuelle tal", "Der er i dag 40 peers ansat.", True),
        ("aktuelle tal", "Det aktuelle antal står på hjemmesiden.", True),
        ("regler eller paragraffer", "Efter sundhedslovens § 40 har alle tavshedspligt.", True),
        ("regler eller paragraffer", "Efter § 40 har alle tavshedspligt.", True),  # <paragraf>
        ("regler eller paragraffer", "Reglerne er de samme som for andre ansatte.", True),
        ("regler eller paragraffer", "Peeren har tavshedspligt som alle andre.", False),
        ("tal eller andele", "De fleste arbejder 15-25 timer.", True),
        ("tal eller andele", "Omkring halvdelen får fast job.", True),
        ("tal eller andele", "To ud af tre bliver.", True),
        ("tal eller andele", "Det varierer meget fra sted til sted.", False),
    ],
)
def test_the_new_fact_kinds_are_shown_by_their_words_and_marks(
    real: Matcher, says: str, answer: str, shown: bool
) -> None:
    assert fact_shown(real_fact(real, says), answer, words(answer)) is shown


def test_a_question_for_a_fact_no_item_holds_is_not_answered(real: Matcher) -> None:
    for question, says in (
        ("Hvor mange peers er ansat i psykiatrien i dag?", "aktuelle tal"),
        ("Hvilken paragraf giver peeren ret til at se journalen?", "regler eller paragraffer"),
    ):
        result = real.answerable(answered(real, question, "peer-adgang-til-journal"))
        assert result.status is Status.NO_MATCH and result.not_covered == Gap(fact=says)
        assert f"har ikke de {says}, du spørger om" in result_plain(result, real.kb)
    kept = answered(real, "Hvad siger loven om tavshedspligt for peers?", "peer-tavshedspligt")
    assert real.answerable(kept) is kept


# -- the engine -----------------------------------------------------------------------------


def answered(real: Matcher, question: str, item_id: str) -> Result:
    return Result(question, Status.ANSWERED, real.kb.item(item_id), 0.9)


def test_an_answer_whose_item_lacks_the_asked_fact_becomes_a_no_match(real: Matcher) -> None:
    question = "tlf nr til center for recovery og samskabelse"
    result = real.answerable(answered(real, question, "leder-center-hjaelp"))
    assert result.status is Status.NO_MATCH
    assert result.not_covered == Gap(fact="telefonnumre eller adresser")
    assert result.suggestions == ()


def test_an_answer_whose_item_never_names_the_place_becomes_a_no_match(real: Matcher) -> None:
    result = real.answerable(
        answered(real, "peer loen region syd hvilket trin", "loen-overenskomst")
    )
    assert result.status is Status.NO_MATCH
    assert result.not_covered == Gap(name="Region Syddanmark")


def test_a_place_named_by_the_item_or_only_as_context_keeps_the_answer(real: Matcher) -> None:
    for question in (
        "hvad kan center for recovery og samskabelse i Region Nordjylland hjælpe med",
        "Jeg er leder i Vejle Kommune, hvad kan centret hjælpe os med?",
    ):
        result = answered(real, question, "leder-center-hjaelp")
        assert real.answerable(result) is result


def test_a_municipality_is_covered_by_an_item_that_names_its_region(real: Matcher) -> None:
    within = real.answerability.names.within
    assert within["Aalborg"] == within["Hjørring"] == "Region Nordjylland"
    assert within["Odense"] == within["Aabenraa"] == "Region Syddanmark"
    assert within["Aarhus"] == "Region Midtjylland" and within["Roskilde"] == "Region Sjælland"
    assert within["Bornholm"] == "Region Hovedstaden"
    assert "Region Nordjylland" not in within and "Norge" not in within
    item = real.kb.item("loen-overenskomst")  # its guide is Region Nordjylland's
    assert " aalborg" not in real.answerability.item_text(item)
    assert real.answerability.names_it(item, "Aalborg")
    assert real.answerability.names_it(item, "Hjørring")
    assert not real.answerability.names_it(item, "Odense")
    assert not real.answerability.names_it(item, "Region Syddanmark")
    question = "Hvad er lønnen for en peer i Aalborg?"
    result = answered(real, question, "loen-overenskomst")
    assert real.answerable(result) is result
    odense = answered(real, question.replace("Aalborg", "Odense"), "loen-overenskomst")
    assert real.answerable(odense).not_covered == Gap(name="Odense")


def test_the_municipalities_are_the_98_of_the_five_regions(real: Matcher) -> None:
    rules = real.kb.answerable
    regions = {kind.within for kind in rules.names if kind.within}
    assert regions == {
        "Region Hovedstaden",
        "Region Sjælland",
        "Region Syddanmark",
        "Region Midtjylland",
        "Region Nordjylland",
    }
    counts = {r: sum(len(k.names) for k in rules.names if k.within == r) for r in regions}
    # Vejen (Region Syddanmark) is left out: an everyday word ("vejen ind på arbejdsmarkedet").
    assert counts == {
        "Region Hovedstaden": 29,
        "Region Sjælland": 17,
        "Region Syddanmark": 21,
        "Region Midtjylland": 19,
        "Region Nordjylland": 11,
    }


@pytest.mark.parametrize(
    ("question", "expect"),
    [
        (
            "Hvordan forbereder vi teamet på en peer i Region Syddanmark?",
            "opstart-forberede-kollegerne",
        ),
        ("hvordan forbereder vi personalet på en peer i Odense", "opstart-forberede-kollegerne"),
        ("Kan vi ansætte en peer i Gladsaxe uden uddannelse?", "ansaettelse-kvalifikationer"),
        ("hvad gør vi hvis vores peer i Aalborg bliver syg i 2026", "peer-bliver-syg"),
    ],
)
def test_a_how_to_question_keeps_its_answer_wherever_and_whenever_it_is_asked(
    real: Matcher, question: str, expect: str
) -> None:
    result = answered(real, question, expect)
    assert real.answerable(result) is result


def test_a_how_to_question_about_an_organisation_still_needs_an_item_that_names_it(
    real: Matcher,
) -> None:
    for question in (
        "Skal vi orientere Socialtilsyn Syd om vores nye peer?",
        "hvordan faar vores peer adgang til cosmic",
    ):
        result = answered(real, question, "peer-adgang-til-journal")
        assert real.answerable(result).status is Status.NO_MATCH
    # the places and years of a how-to question are context; of any other question, asked
    assert real.answerability.asked_names(words("hvordan gør vi i Odense i 2026")) == set()
    assert real.answerability.asked_names(words("hvor mange peers er der i Odense i 2026")) == {
        "Odense",
        "2026",
    }


def test_ask_back_is_kept_when_one_suggestion_holds_what_is_asked(real: Matcher) -> None:
    question = "peer loen region nordjylland hvilket trin"
    items = [real.kb.item("loen-overenskomst"), real.kb.item("leder-center-hjaelp")]
    clarify = Result(
        question, Status.CLARIFY, items[0], 0.5, tuple(Suggestion(i, 0.5) for i in items)
    )
    assert real.answerable(clarify) is clarify
    nowhere = replace(clarify, question="peer loen i cosmic hvilket trin")
    assert real.answerable(nowhere).status is Status.NO_MATCH


def test_the_reply_says_what_the_guides_do_not_cover(real: Matcher) -> None:
    result = real.answerable(
        answered(real, "peer loen region syd hvilket trin", "loen-overenskomst")
    )
    text = result_plain(result, real.kb)
    assert text.startswith(
        "Det kan jeg desværre ikke svare på: guiderne om peer-medarbejdere nævner ikke "
        "Region Syddanmark, og jeg svarer kun ud fra dem."
    )
    fact = replace(result, not_covered=Gap(fact="priser eller beløb"))
    assert "har ikke de priser eller beløb, du spørger om" in result_plain(fact, real.kb)


@pytest.mark.parametrize(
    "question",
    [
        "hvad koster en peer om året",
        "Hvad er lønnen for en peer i Region Nordjylland?",
        "Jeg er leder i Vejle Kommune, hvordan forbereder vi personalet på at få en peer?",
        "hvad koster peeruddannelsen",
    ],
)
def test_in_scope_questions_that_name_places_or_prices_are_still_answered(
    real: Matcher, question: str
) -> None:
    result = real.match(question)
    assert result.status is Status.ANSWERED
    assert result.not_covered is None


def test_without_answerable_rules_nothing_changes(real: Matcher) -> None:
    bare = copy.copy(real)
    bare.answerability = Answerability(replace(real.kb, answerable=kb.AnswerableRules()))
    result = answered(bare, "tlf nr til center for recovery i aalborg", "leder-center-hjaelp")
    assert bare.answerable(result) is result


def test_a_name_kind_keeps_each_names_first_form_to_show() -> None:
    rules = kb.AnswerableRules(names=(NameKind("steder", (("Region Syddanmark", "Region Syd"),)),))
    assert Names(rules).find(words("peers i region syd")) == {"Region Syddanmark"}
