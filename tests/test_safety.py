"""Crisis detection: it fires on suicide, self-harm and acute danger, before any matching, and
not on policy questions that merely name the subject."""

from pathlib import Path

import pytest

from faqbot import kb
from faqbot.kb import SafetyRules
from faqbot.matcher import Matcher, Status
from faqbot.safety import SafetyDetector

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"


@pytest.fixture(scope="module")
def detector() -> SafetyDetector:
    return SafetyDetector(kb.load(KNOWLEDGE).safety)


CRISIS = [
    "jeg vil tage mit liv",
    "Jeg har tænkt på at tage mit eget liv",
    "min kollega siger hun vil slå sig selv ihjel",
    "jeg kan ikke mere, jeg vil dø",
    "vores peer har lige skrevet at hun har taget en masse piller",
    "min kollega har skåret i sig selv",
    "jeg har lyst til at skade mig selv",
    "en patient har taget en overdosis",
    "han tænker på selvmord",
    "selvmordstanker",
    "hun har skrevet et afskedsbrev",
    "jeg vil ikke leve længere",
    "en beboer truer med en kniv på gangen",
    # without æøå, typos, shouting
    "jeg vil skaere i mig selv",
    "JEG VIL TAGE MIT LIV",
    "tanker om selvmort",
    # a policy word does not hide a crisis that is happening now
    "hvad gør vi hvis hun tager sit liv lige nu",
    "hvis en patient fortæller at hun vil tage sit liv i aften, hvad gør jeg",
    "vores peer fortalte om sin tid med selvskade, og nu siger hun at hun vil tage sit liv",
]

NOT_CRISIS = [
    "Har peeren oplysningspligt, hvis en patient er til fare for sig selv?",
    "hvad er vores oplysningspligt hvis en borger er selvmordstruet",
    "Hvad gør vi, hvis en kollega får en krise på arbejdet?",
    "må peeren fortælle patienterne om sine egne selvmordsforsøg?",
    "er det risikabelt at ansætte en der har været indlagt efter et selvmordsforsøg",
    "hvad står der i lederguiden om selvskade",
    "Er det min sag, om vores peer tager sine piller?",
    "Bliver en peer-medarbejder oftere syg end andre?",
    "Har peeren tavshedspligt?",
    "Hvis en borger fortæller peeren om selvmordstanker, skal hun så give det videre?",
    "Er det for privat, når vores peer fortæller patienterne om sin egen selvskade?",
]


@pytest.mark.parametrize("message", CRISIS)
def test_crisis_messages_are_caught(detector: SafetyDetector, message: str) -> None:
    assert detector.is_crisis(message), message


@pytest.mark.parametrize("message", NOT_CRISIS)
def test_policy_questions_naming_the_subject_are_not_a_crisis(
    detector: SafetyDetector, message: str
) -> None:
    assert not detector.is_crisis(message), (message, detector.crisis_phrase(message))


@pytest.mark.parametrize("message", ["", "   ", "🙂", "\x00\x1b[2J", "a" * 20_000, "精神科"])
def test_bad_input_is_not_a_crisis_and_does_not_raise(
    detector: SafetyDetector, message: str
) -> None:
    assert detector.is_crisis(message) is False


def test_the_rule_in_one_small_set_of_phrases() -> None:
    rules = SafetyRules(
        response="Ring 112.",
        phrases=("tage mit liv", "fare for sig selv"),
        policy_phrases=("oplysningspligt",),
        urgent_phrases=("lige nu",),
    )
    detector = SafetyDetector(rules)
    assert detector.crisis_phrase("jeg vil tage mit eget liv") == "tage mit liv"
    assert detector.is_crisis("patienten er til fare for sig selv")
    assert not detector.is_crisis("oplysningspligt når patienten er til fare for sig selv")
    assert detector.is_crisis("oplysningspligt? patienten er til fare for sig selv lige nu")
    # more than two other words between the phrase's words is no longer the phrase
    assert not detector.is_crisis("tage en lang og god tur i mit liv")


def test_the_matcher_checks_safety_first_and_never_answers_a_crisis() -> None:
    knowledge = kb.load(FIXTURE)
    matcher = Matcher(knowledge)
    # "peer tavshedspligt" alone is a confident answer...
    assert matcher.match("peer tavshedspligt").status is Status.ANSWERED
    # ...but not next to a crisis
    result = matcher.match("peer tavshedspligt, jeg vil tage mit liv")
    assert result.status is Status.SAFETY
    assert result.item is None
    assert result.suggestions == ()
    assert result.question == "peer tavshedspligt, jeg vil tage mit liv"


def test_the_real_safety_response_names_every_way_to_get_help() -> None:
    response = kb.load(KNOWLEDGE).safety.response
    for needle in ("112", "70 201 201", "Livslinien", "psykiatrisk", "leder"):
        assert needle.casefold() in response.casefold(), needle


def test_the_real_eval_sets_crisis_lists_are_all_handled(detector: SafetyDetector) -> None:
    knowledge = kb.load(KNOWLEDGE)
    evalset = kb.load_eval(KNOWLEDGE / "eval.yaml", knowledge)
    assert evalset.crisis
    assert [m for m in evalset.crisis if not detector.is_crisis(m)] == []
    assert [m for m in evalset.not_crisis if detector.is_crisis(m)] == []


def test_a_crisis_after_the_first_1000_characters_is_still_caught() -> None:
    matcher = Matcher(kb.load(FIXTURE))
    message = "peer tavshedspligt " * 80 + "og jeg vil tage mit liv"
    assert len(message) > 1000
    assert matcher.match(message).status is Status.SAFETY
