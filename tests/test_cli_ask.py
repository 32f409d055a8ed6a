"""`faqbot ask` (plain and --json, one question or standard input) and `faqbot chat`."""

import asyncio
import io
import json
import sqlite3
from pathlib import Path

import pytest

from faqbot import cli, kb, render
from faqbot.chat import BAD_NUMBER, ChatSession, chat_loop, run_chat
from faqbot.matcher import Matcher
from faqbot.matcher.answerable import Gap

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine_kb"
KEYS = [
    "question",
    "status",
    "item_id",
    "answer",
    "score",
    "source",
    "suggestions",
    "small_talk",
    "safety_note",
    "off_topic",
    "not_covered",
]


@pytest.fixture(scope="module")
def knowledge() -> kb.KnowledgeBase:
    return kb.load(FIXTURE)


@pytest.fixture(scope="module")
def matcher(knowledge: kb.KnowledgeBase) -> Matcher:
    return Matcher(knowledge)


def ask(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["ask", "--knowledge-dir", str(FIXTURE), *argv]) == 0
    return capsys.readouterr().out


def test_ask_prints_the_answer_as_the_bot_phrases_it(
    capsys: pytest.CaptureFixture[str], knowledge: kb.KnowledgeBase
) -> None:
    out = ask(capsys, "Har peeren tavshedspligt?")
    item = knowledge.item("peer-tavshedspligt")
    assert out == render.answer_plain(item, knowledge) + "\n"
    assert out.rstrip().endswith(
        "Kilde: Guide B <om> & ledere (Forlaget B, 2021), Spørgsmål og svar"
    )


def test_ask_prints_suggestions_and_the_no_match_text(capsys: pytest.CaptureFixture[str]) -> None:
    out = ask(capsys, "medicin hvad med hende selv")
    assert out.startswith(render.CLARIFY_LEAD + "\n1. ")
    assert ask(capsys, "hvornår har kantinen åbent") == render.NO_MATCH_TEXT + "\n"


def test_ask_json_keys_and_values_for_every_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, knowledge: kb.KnowledgeBase
) -> None:
    questions = [
        "Har peeren tavshedspligt?",
        "medicin hvad med hende selv",
        "hvornår har kantinen åbent",
        "jeg vil tage mit liv",
        "",
        "🙂",
        "x" * 20_000,
        "Har peeren oplysningspligt, hvis en patient er til fare for sig selv?",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(questions) + "\n"))
    lines = ask(capsys, "--json", "-").splitlines()
    assert len(lines) == len(questions)
    objects = [json.loads(line) for line in lines]
    for question, obj in zip(questions, objects, strict=True):
        assert list(obj) == KEYS
        assert obj["question"] == question
        assert 0 <= obj["score"] <= 1
    answered, clarify, no_match, safety, empty, emoji, long, noted = objects
    assert [obj["safety_note"] for obj in objects] == [False] * 7 + [True]
    assert noted["status"] in {"answered", "clarify", "no_match"}

    assert answered["status"] == "answered"
    assert answered["item_id"] == "peer-tavshedspligt"
    assert answered["answer"] == knowledge.item("peer-tavshedspligt").answer
    assert answered["source"] == {
        "title": "Guide B <om> & ledere",
        "publisher": "Forlaget B",
        "year": "2021",
        "section": "Spørgsmål og svar",
        "url": None,
    }
    assert answered["suggestions"] == []

    assert clarify["status"] == "clarify"
    assert clarify["answer"] is None and clarify["source"] is None
    assert 1 <= len(clarify["suggestions"]) <= 3
    assert list(clarify["suggestions"][0]) == ["item_id", "question", "score"]
    assert clarify["item_id"] == clarify["suggestions"][0]["item_id"]
    scores = [s["score"] for s in clarify["suggestions"]]
    assert scores == sorted(scores, reverse=True)

    assert no_match["status"] == "no_match"
    assert no_match["answer"] is None and no_match["source"] is None
    assert no_match["suggestions"] == []

    assert safety["status"] == "safety"
    assert safety["item_id"] is None and safety["source"] is None
    assert safety["answer"] == knowledge.safety.response
    assert safety["suggestions"] == []

    for obj in (empty, emoji):
        assert obj["status"] == "no_match" and obj["item_id"] is None and obj["score"] == 0
    assert long["status"] in {"answered", "clarify", "no_match"}


REAL = Path(__file__).resolve().parent.parent / "knowledge"


def test_ask_says_what_the_guides_do_not_cover_and_json_shows_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    question = "Hvor mange peers er ansat i psykiatrien lige nu?"
    assert cli.main(["ask", "--knowledge-dir", str(REAL), question]) == 0
    assert capsys.readouterr().out == (
        "Det kan jeg desværre ikke svare på: guiderne om peer-medarbejdere har ikke de aktuelle "
        "tal, du spørger om, og jeg svarer kun ud fra dem.\n"
        f"{render.GUIDES_COVER}\n"
        "Spørg din leder eller HR, eller se emnerne med /emner.\n"
    )
    assert cli.main(["ask", "--knowledge-dir", str(REAL), "--json", question]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj == {
        "question": question,
        "status": "no_match",
        "item_id": obj["item_id"],
        "answer": None,
        "score": obj["score"],
        "source": None,
        "suggestions": [],
        "small_talk": None,
        "safety_note": False,
        "off_topic": False,
        "not_covered": {
            "name": None,
            "fact": "aktuelle tal",
            "asked": None,
            "task": None,
            "nearest": None,
            "reason": "guiderne om peer-medarbejdere har ikke de aktuelle tal, du spørger om",
        },
    }
    assert cli.main(["ask", "--knowledge-dir", str(REAL), "--json", "hvad koster kantinen"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert off["status"] == "no_match" and off["off_topic"] is True and off["not_covered"] is None


def test_ask_names_the_thing_asked_that_the_guides_hold_no_figure_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    question = "hvor mange sygedage må en peer have"
    nearest = "Bliver en peer-medarbejder oftere syg end andre kollegaer?"
    assert cli.main(["ask", "--knowledge-dir", str(REAL), question]) == 0
    assert capsys.readouterr().out == (
        "Det kan jeg desværre ikke svare på: guiderne om peer-medarbejdere har ikke de tal, du "
        "spørger om («hvor mange sygedage»), og jeg svarer kun ud fra dem.\n"
        f"{render.GUIDES_COVER}\n"
        f"Det nærmeste, guiderne svarer på, er: »{nearest}« Spørg gerne om det.\n"
        "Spørg din leder eller HR, eller se emnerne med /emner.\n"
    )
    assert cli.main(["ask", "--knowledge-dir", str(REAL), "--json", question]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert (obj["status"], obj["suggestions"], obj["answer"]) == ("no_match", [], None)
    assert obj["not_covered"] == {
        "name": None,
        "fact": "tal",
        "asked": "hvor mange sygedage",
        "task": None,
        "nearest": nearest,
        "reason": "guiderne om peer-medarbejdere har ikke de tal, du spørger om («hvor mange "
        "sygedage»)",
    }


def test_ask_says_kindly_that_the_bot_does_no_tasks_and_offers_the_nearest_item(
    capsys: pytest.CaptureFixture[str],
) -> None:
    question = "kan du skrive et jobopslag til en peer-stilling"
    nearest = (
        "Hvordan ansætter vi en peermedarbejder – er det anderledes end ved andre medarbejdere?"
    )
    task = "skriver ikke mails, breve, opslag, planer eller skabeloner"
    assert cli.main(["ask", "--knowledge-dir", str(REAL), question]) == 0
    assert capsys.readouterr().out == (
        f"Det kan jeg desværre ikke hjælpe med: jeg {task}. Jeg svarer på spørgsmål ud fra "
        "guiderne om peer-medarbejdere.\n"
        f"{render.GUIDES_COVER}\n"
        f"Det nærmeste, guiderne svarer på, er: »{nearest}« Spørg gerne om det.\n"
        "Se emnerne med /emner.\n"
    )
    assert cli.main(["ask", "--knowledge-dir", str(REAL), "--json", question]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["status"] == "no_match" and obj["answer"] is None
    assert obj["not_covered"] == {
        "name": None,
        "fact": None,
        "asked": None,
        "task": task,
        "nearest": nearest,
        "reason": f"jeg {task}",
    }
    # turned away for any reason, a task still gets its own reply (no nearest item offered)
    mail = "Skriv en mail til teamet om at vi får en peer"
    assert cli.main(["ask", "--knowledge-dir", str(REAL), "--json", mail]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["status"] == "no_match"
    assert obj["not_covered"]["task"] == task and obj["not_covered"]["nearest"] is None


def test_the_no_match_replies_say_what_the_guides_cover() -> None:
    assert render.GUIDES_COVER in render.NO_MATCH_TEXT and "/emner" in render.NO_MATCH_TEXT
    for gap in (Gap(fact="tal", asked="hvor mange"), Gap(task="skriver ikke"), Gap(name="Odense")):
        text = render.not_covered_text(gap)
        assert render.GUIDES_COVER in text and text.endswith("/emner.")


def test_ask_json_source_url_when_the_guide_has_one(capsys: pytest.CaptureFixture[str]) -> None:
    (line,) = ask(capsys, "--json", "bliver peers oftere syge").splitlines()
    source = json.loads(line)["source"]
    assert source["url"] == "https://example.org/guide-a"
    assert source["section"] == "Kapitel 1"


def test_ask_reads_questions_in_order_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("peer tavshedspligt\npeer tilbagefald\n"))
    out = ask(capsys, "-")
    first, second = out.split("\n\n" + "Tal med", 1)
    assert "tavshedspligt" in first and second.startswith(" peeren")


def test_ask_with_an_invalid_knowledge_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", "--knowledge-dir", str(tmp_path), "hej"]) == 1
    assert "Error: the knowledge base is invalid" in capsys.readouterr().err


# --- the chat ------------------------------------------------------------------------------


class FakeLog:
    def __init__(self) -> None:
        self.questions: list[dict] = []
        self.picks: list[dict] = []

    def log_question(self, **row: object) -> str:
        self.questions.append(row)
        return f"q{len(self.questions)}"

    def log_pick(self, **row: object) -> None:
        self.picks.append(row)


def test_chat_session_answers_browses_and_picks(
    matcher: Matcher, knowledge: kb.KnowledgeBase
) -> None:
    log = FakeLog()
    session = ChatSession(matcher, log_question=log.log_question, log_pick=log.log_pick)
    assert session.reply("   ") == ""

    question = "medicin hvad med hende selv"
    suggested = [s.item for s in matcher.match(question).suggestions]
    assert len(suggested) == 2
    reply = session.reply(question)
    assert reply.startswith(render.CLARIFY_LEAD)
    assert f"2. {suggested[1].question}" in reply
    assert log.questions[-1]["status"] == "clarify"
    assert log.questions[-1]["chat_kind"] == "terminal"
    assert session.reply("9") == BAD_NUMBER
    assert session.reply("2").startswith(suggested[1].answer)
    assert log.picks == [{"question_id": "q1", "item_id": suggested[1].id, "user_id": None}]

    assert session.reply("/emner") == render.categories_plain(knowledge)
    assert session.reply("2") == render.category_plain(knowledge, "Tavshedspligt")
    assert session.reply("1").startswith(knowledge.item("peer-tavshedspligt").answer)
    assert session.reply("/kilder") == render.sources_plain(knowledge)
    assert "/emner" in session.reply("/hjælp")
    assert "kender jeg ikke" in session.reply("/hvaddet")

    answered = session.reply("vores peer har faaet tilbagefald")
    assert answered.startswith(knowledge.item("peer-tilbagefald").answer)
    assert answered.endswith("Se også:\n1. " + knowledge.item("peer-syg").question)
    assert session.reply("1").startswith(knowledge.item("peer-syg").answer)
    assert session.reply("jeg vil tage mit liv") == knowledge.safety.response
    assert log.questions[-1]["status"] == "safety"
    assert len(log.picks) == 1  # browsing is not a pick


def test_chat_loop_reads_one_question_per_line(matcher: Matcher) -> None:
    stdin = io.StringIO("har peeren tavshedspligt\n\nkantinen\n/slut\nikke læst\n")
    stdout = io.StringIO()
    asyncio.run(chat_loop(ChatSession(matcher), stdin, stdout, interactive=False))
    out = stdout.getvalue()
    assert "Spørgsmål og svar" in out
    assert render.NO_MATCH_TEXT in out
    assert "ikke læst" not in out and "/slut" not in out


def test_chat_without_a_log_still_answers(matcher: Matcher) -> None:
    async def broken_log() -> object:
        raise OSError("read-only")

    stdout = io.StringIO()
    stdin = io.StringIO("har peeren tavshedspligt\n")
    asyncio.run(run_chat(matcher, open_log=broken_log, stdin=stdin, stdout=stdout))
    assert "Kilde:" in stdout.getvalue()


def test_cli_chat_logs_terminal_questions(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FAQBOT_SECRET", "test-secret")
    monkeypatch.setattr("sys.stdin", io.StringIO("har peeren tavshedspligt\nkantinen\n"))
    assert cli.main(["chat", "--knowledge-dir", str(FIXTURE)]) == 0
    assert "Kilde:" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "faqbot.sqlite3") as db:
        rows = db.execute(
            "SELECT chat_kind, status, item_id FROM questions ORDER BY rowid"
        ).fetchall()
    assert rows == [
        ("terminal", "answered", "peer-tavshedspligt"),
        ("terminal", "no_match", rows[1][2]),
    ]
