"""Small talk and other languages: detected exactly, never at a question's or a crisis's expense.

The detector runs on the real ``knowledge/smalltalk.yaml``; the engine, renderer, chat, log and
CLI on the small fixture knowledge base with that file copied in, so they stay fast.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from faqbot import cli, kb, render
from faqbot.chat import ChatSession
from faqbot.matcher import Matcher, Result, Status, Suggestion, with_small_talk
from faqbot.questionlog import QuestionLog, keeps_text
from faqbot.settings import KeepText
from faqbot.smalltalk import FOREIGN, SmallTalk, SmallTalkDetector

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kb"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _fixture_with_small_talk(target: Path) -> Path:
    """The fixture knowledge base with the real smalltalk and safety files, copied to ``target``."""
    shutil.copytree(FIXTURE, target)
    for path in [KNOWLEDGE / "smalltalk.yaml", *KNOWLEDGE.glob("safety*.yaml")]:
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> kb.KnowledgeBase:
    return kb.load(_fixture_with_small_talk(tmp_path_factory.mktemp("kb") / "kb"))


@pytest.fixture(scope="module")
def detector(knowledge: kb.KnowledgeBase) -> SmallTalkDetector:
    assert knowledge.small_talk is not None
    return SmallTalkDetector(knowledge.small_talk)


@pytest.fixture(scope="module")
def matcher(knowledge: kb.KnowledgeBase) -> Matcher:
    return Matcher(knowledge)


SMALL_TALK = [
    ("hej", "greeting"),
    ("Hej!", "greeting"),
    ("hejsa 👋", "greeting"),
    ("👋", "greeting"),
    ("godmorgen", "greeting"),
    ("God morgen :)", "greeting"),
    ("godmorgn", "greeting"),  # a near spelling
    ("go' morgen", "greeting"),
    ("Godmorgen alle sammen", "greeting"),
    ("Hej bot", "greeting"),
    ("tak", "thanks"),
    ("Tusind tak for hjælpen!", "thanks"),
    ("tak for svaret", "thanks"),
    ("Super, tak!", "thanks"),
    ("👍", "acknowledgement"),
    ("👍🏻", "acknowledgement"),
    ("ok", "acknowledgement"),
    ("hvem er du?", "identity"),
    ("Er du en robot?", "identity"),
    ("Hvad kan du?", "capabilities"),
    ("hvad kan du hjælpe med", "capabilities"),
    ("virker du?", "alive"),
    ("er du der?", "alive"),
    ("hej, hvem er du?", "identity"),  # the first kind in the file wins
    ("Hej faqbot, hvad kan du", "capabilities"),
    ("God morgen, hvordan går det?", "howareyou"),
    ("jeg har et spørgsmål", "ask"),
    ("farvel", "goodbye"),
]


@pytest.mark.parametrize(("message", "kind"), SMALL_TALK)
def test_small_talk_is_recognised(detector: SmallTalkDetector, message: str, kind: str) -> None:
    talk = detector.detect(message)
    assert talk is not None and talk.kind == kind, message
    assert "/emner" in talk.reply or kind == "goodbye"


QUESTIONS = [
    "tak for svaret, men hvad med løn?",  # thanks, then a question: a question
    "Tak. Hvad med løn?",
    "hej, hvad er recovery?",
    "hej jeg har det ikke godt",
    "hvem er peeren?",
    "Virker det?",  # may mean "does peer support work?": the matcher decides
    "hjælp",
    "er det ok at peeren tager medicin",
    "hvad kan du fortælle om peers og medicin",
    "",
    "?",
    "123",
]


@pytest.mark.parametrize("message", QUESTIONS)
def test_a_question_is_not_small_talk(detector: SmallTalkDetector, message: str) -> None:
    assert detector.detect(message) is None


FOREIGN_QUESTIONS = [
    "Can a peer worker get sick leave?",
    "What is peer support?",
    "Is the peer bound by confidentiality?",
    "Hello, who are you?",
    "I am a nurse. Can the peer work nights?",
    "Was ist ein Peer-Mitarbeiter?",
    "Czy peer może pracować w nocy?",
    "Что такое peer-поддержка?",
    "ما هو دعم الأقران؟",
    "¿Qué hace un peer?",
    "salaam, kal meeting kitne baje hai",
]


@pytest.mark.parametrize("message", FOREIGN_QUESTIONS)
def test_another_language_is_recognised(detector: SmallTalkDetector, message: str) -> None:
    talk = detector.detect(message)
    assert talk is not None and talk.foreign, message
    assert "dansk" in talk.reply and "Danish" in talk.reply


@pytest.mark.parametrize(
    "message",
    [
        "peer support",
        "hvad betyder peer support",
        "Hvad betyder 'expert in not being an expert'?",
        "Hvad er forskellen på peer support worker og recovery mentor?",
        "Müller er vores nye peer, hvad skal hun lave?",
        "gruppeforlöb peer",  # a Swedish-keyboard ö in a Danish question
    ],
)
def test_danish_with_english_words_is_danish(detector: SmallTalkDetector, message: str) -> None:
    assert detector.detect(message) is None


def test_no_phrasing_eval_or_out_of_scope_question_is_small_talk_or_foreign() -> None:
    """Every Danish text the knowledge base knows: item phrasings, eval and out-of-scope
    questions, crisis messages. None of them may be taken for small talk or another language."""
    detector = SmallTalkDetector(_real_rules())
    texts: list[str] = []
    for path in sorted((KNOWLEDGE / "items").glob("*.yaml")):
        for item in yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER):
            texts += [item["question"], *item.get("alternates", [])]
    evalset = yaml.load((KNOWLEDGE / "eval.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    texts += [q["q"] for q in evalset["questions"]]
    texts += evalset["out_of_scope"] + evalset["crisis"] + evalset.get("not_crisis", [])
    negatives = yaml.load((KNOWLEDGE / "out_of_scope.yaml").read_text("utf-8"), Loader=_LOADER)
    texts += negatives
    assert len(texts) > 5000
    detected = [(text, talk.kind) for text in texts if (talk := detector.detect(text))]
    assert detected == []


def _real_rules() -> kb.SmallTalkRules:
    """The real smalltalk.yaml, read by the knowledge base's loader (without the items)."""
    rules = kb.load_small_talk(KNOWLEDGE)
    assert rules is not None
    return rules


# --- the engine ---------------------------------------------------------------------------------


def test_small_talk_gets_its_own_status_and_reply(matcher: Matcher) -> None:
    result = matcher.match("Hej!")
    assert result.status is Status.SMALLTALK
    assert result.item is None and result.suggestions == ()
    assert result.small_talk is not None and result.small_talk.kind == "greeting"


@pytest.mark.parametrize(
    "message", ["hej, jeg vil ikke leve mere", "tak, jeg vil tage mit liv", "hej jeg vil dø"]
)
def test_a_crisis_message_is_never_small_talk(matcher: Matcher, message: str) -> None:
    assert matcher.match(message).status is Status.SAFETY


def test_a_question_after_thanks_is_matched_as_a_question(matcher: Matcher) -> None:
    result = matcher.match("tak for svaret, men har en peer tavshedspligt?")
    assert result.status is not Status.SMALLTALK and result.small_talk is None
    assert result.item is not None and result.item.id == "peer-tavshed"


def test_another_language_is_never_answered_outright(matcher: Matcher) -> None:
    result = matcher.match("Is the peer bound by tavshedspligt?")
    assert result.small_talk is not None and result.small_talk.foreign
    assert result.status in (Status.CLARIFY, Status.NO_MATCH)


def _result(status: Status, item: kb.Item | None, suggestions: tuple[Suggestion, ...] = ()):
    return Result("q", status, item, 0.5, suggestions)


def test_with_small_talk_turns_an_answer_in_another_language_into_one_suggestion(
    knowledge: kb.KnowledgeBase,
) -> None:
    item = knowledge.items[0]
    note = SmallTalk(FOREIGN, "note")
    shaped = with_small_talk("q", note, lambda q: _result(Status.ANSWERED, item))
    assert shaped.status is Status.CLARIFY and shaped.small_talk == note
    assert [s.item.id for s in shaped.suggestions] == [item.id]
    nothing = with_small_talk("q", note, lambda q: _result(Status.NO_MATCH, item))
    assert nothing.status is Status.NO_MATCH and nothing.suggestions == ()
    # A message the crisis check cannot read well always shows where help is.
    assert shaped.safety_note and nothing.safety_note
    talk = with_small_talk("q", SmallTalk("thanks", "Selv tak!"), lambda q: pytest.fail("asked"))
    assert talk.status is Status.SMALLTALK and talk.score == 1.0 and not talk.safety_note


# --- what the user sees -------------------------------------------------------------------------


def test_rendering_small_talk_and_the_note(knowledge: kb.KnowledgeBase) -> None:
    talk = SmallTalk("greeting", "Hej <du> & velkommen")
    result = Result("hej", Status.SMALLTALK, None, 1.0, (), small_talk=talk)
    assert render.result_plain(result, knowledge) == "Hej <du> & velkommen"
    assert render.result_html(result, knowledge) == "Hej &lt;du&gt; &amp; velkommen"
    note = SmallTalk(FOREIGN, "Kun dansk. / Danish only.")
    item = knowledge.items[0]
    clarify = Result("q", Status.CLARIFY, item, 0.3, (Suggestion(item, 0.3),), small_talk=note)
    assert render.result_plain(clarify, knowledge).splitlines() == [
        "Kun dansk. / Danish only.",
        "",
        render.CLARIFY_LEAD,
        f"1. {item.question}",
    ]
    no_match = Result("q", Status.NO_MATCH, item, 0.1, (), small_talk=note)
    assert render.result_plain(no_match, knowledge) == "Kun dansk. / Danish only."


def test_the_terminal_chat_replies_and_logs_small_talk_as_its_own_status(
    matcher: Matcher,
) -> None:
    logged: list[dict[str, object]] = []

    def log_question(**fields: object) -> str:
        logged.append(fields)
        return f"id{len(logged)}"

    session = ChatSession(matcher, log_question=log_question)
    reply = session.reply("godmorgen")
    assert reply == render.result_plain(matcher.match("godmorgen"), matcher.kb)
    assert "/emner" in reply
    session.reply("Can a peer have tavshedspligt?")
    assert logged[0]["status"] == "smalltalk"
    assert logged[1]["status"] in ("clarify", "no_match")


async def test_the_log_counts_small_talk_keeps_no_text_and_never_as_unanswered(
    tmp_path: Path,
) -> None:
    from faqbot.report import build_report

    log = await QuestionLog.open(
        tmp_path / "log.sqlite3", secret=b"s", keep_text=KeepText.ALL, retention_days=90
    )
    try:
        for text, status in (("hej", "smalltalk"), ("tak", "smalltalk"), ("hvad nu", "no_match")):
            log.log_question(
                question=text,
                status=status,
                item_id=None,
                score=1.0,
                latency_ms=1.0,
                chat_kind="private",
                user_id=7,
            )
        await log.flush()
        assert [row.text for row in await log.unanswered()] == ["hvad nu"]
        report = await build_report(log, days=7)
    finally:
        await log.close()
    assert {c.key: c.count for c in report.outcomes}["smalltalk"] == 2
    assert [group.text for group in report.gaps.groups] == ["hvad nu"]
    assert not any(keeps_text(policy, "smalltalk") for policy in KeepText)


def test_faqbot_ask_json_reports_small_talk(
    knowledge: kb.KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = str(knowledge.directory)
    assert cli.main(["ask", "--json", "--knowledge-dir", directory, "virker du?"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["status"] == "smalltalk" and obj["small_talk"] == "alive"
    talk = SmallTalkDetector(knowledge.small_talk).detect("virker du?")
    assert talk is not None and obj["answer"] == talk.reply
    assert obj["item_id"] is None and obj["suggestions"] == []
    assert cli.main(["ask", "--json", "--knowledge-dir", directory, "What is the peer?"]) == 0
    foreign = json.loads(capsys.readouterr().out)
    assert foreign["small_talk"] == FOREIGN and "Danish" in foreign["answer"]
    assert foreign["status"] in ("clarify", "no_match")


def test_faqbot_ask_prints_the_reply(
    knowledge: kb.KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", "--knowledge-dir", str(knowledge.directory), "tak"]) == 0
    assert capsys.readouterr().out.startswith("Selv tak!")


# --- validation ---------------------------------------------------------------------------------


def _write(directory: Path, text: str) -> list[str]:
    (directory / "smalltalk.yaml").write_text(text, encoding="utf-8")
    return [str(problem) for problem in kb.validate(directory)]


def test_smalltalk_yaml_problems_name_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(FIXTURE, tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    problems = _write(
        tmp_path / "kb",
        "kinds:\n"
        "  - kind: greeting\n"
        "    reply: Hej!\n"
        "    phrases: [hej, hejsa]\n"
        "  - kind: thanks\n"
        "    phrases: [tak, Hej]\n"
        "  - kind: greeting\n"
        "    reply: Hej igen\n"
        "    phrases: [dav]\n"
        "foreign:\n"
        "  note: Kun dansk.\n"
        "  danish_words: [og, er]\n"
        "  foreign_words: [the, er]\n",
    )
    assert problems == [
        "kb/smalltalk.yaml:5: small-talk kind 'thanks': missing required field 'reply'",
        "kb/smalltalk.yaml:6: 'Hej' is already a phrase of 'greeting' (line 4)",
        "kb/smalltalk.yaml:7: small-talk kind 'greeting' is already at line 2",
        "kb/smalltalk.yaml:13: 'er' is both a Danish and a foreign word",
    ]


def test_the_real_smalltalk_yaml_is_valid_and_loaded(knowledge: kb.KnowledgeBase) -> None:
    rules = knowledge.small_talk
    assert rules is not None and rules.foreign is not None
    kinds = {kind.kind for kind in rules.kinds}
    assert {"greeting", "thanks", "identity", "capabilities", "alive"} <= kinds
    assert all(len(kind.reply) < 600 for kind in rules.kinds)  # short, friendly replies


def test_without_smalltalk_yaml_nothing_is_small_talk() -> None:
    bare = kb.load(FIXTURE)
    assert bare.small_talk is None
    assert SmallTalkDetector(bare.small_talk).detect("hej") is None
    assert Matcher(bare).match("hej").status is not Status.SMALLTALK
