"""A knowledge base must have content (issue 14): validate, run, ask, chat and /genindlaes refuse
one without items with the same problems, and the matcher never raises on any knowledge base
that validates, however small or odd."""

import asyncio
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.constants import ChatType

from faqbot import cli, kb
from faqbot.bot import handlers, texts
from faqbot.evaluate import run_eval
from faqbot.matcher import Matcher, Status
from faqbot.settings import load_settings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kb"
EMPTY_PROBLEMS = [
    "kb/items/sygdom.yaml:1: no items in this file; an item file needs at least one",
    "kb/items/tavshed.yaml:1: no items in this file; an item file needs at least one",
]
INVALID = "Error: the knowledge base is invalid (2 problem(s)); fix it and run 'faqbot validate'.\n"


@pytest.fixture
def empty_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture with every item file holding an empty list, at ./kb."""
    shutil.copytree(FIXTURE, tmp_path / "kb")
    for path in (tmp_path / "kb" / "items").glob("*.yaml"):
        path.write_text("[]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAQBOT_DATA_DIR", str(tmp_path / "data"))
    return Path("kb")


def test_validate_rejects_a_knowledge_base_without_items(
    empty_kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", "--knowledge-dir", "kb"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == EMPTY_PROBLEMS
    assert captured.err == "Error: the knowledge base has 2 problem(s).\n"


@pytest.mark.parametrize(
    "argv",
    [["ask", "--knowledge-dir", "kb", "hej"], ["chat", "--knowledge-dir", "kb"], ["run"]],
)
def test_run_ask_and_chat_refuse_it_with_the_same_message(
    empty_kb: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    monkeypatch.setenv("FAQBOT_KNOWLEDGE_DIR", "kb")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:never-used")
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "\n".join(EMPTY_PROBLEMS) + "\n" + INVALID


def test_genindlaes_refuses_it_and_keeps_the_old_knowledge(empty_kb: Path) -> None:
    settings = load_settings({"FAQBOT_KNOWLEDGE_DIR": "kb", "FAQBOT_ADMIN_IDS": "42"})
    old = Matcher(kb.load(FIXTURE))
    replies: list[str] = []

    async def reply_text(text: str, **_: Any) -> None:
        replies.append(text)

    message = SimpleNamespace(chat=SimpleNamespace(type=ChatType.PRIVATE), reply_text=reply_text)
    update = SimpleNamespace(effective_message=message, effective_user=SimpleNamespace(id=42))
    context = SimpleNamespace(bot_data=SimpleNamespace(settings=settings, matcher=old))
    asyncio.run(handlers.reload_knowledge(update, context))  # type: ignore[arg-type]
    with pytest.raises(kb.InvalidKnowledgeBase) as caught:
        kb.load(Path("kb"))
    assert [str(p) for p in caught.value.problems] == EMPTY_PROBLEMS
    assert replies == [texts.reload_failed(caught.value.problems)]
    assert context.bot_data.matcher is old


# --- the matcher never raises on a knowledge base that validates -------------------------------

ODD_ITEMS = {
    "one item, no alternates": """\
- id: eneste
  category: Alt
  question: Hvad er en peer?
  answer: En kollega med egen erfaring.
  sources: [{source: guide-a, section: Del 1}]
""",
    "phrasings of stop words only": """\
- id: stopord
  category: Alt
  question: Hvad er det?
  alternates: [og hvad så, "Hvordan?", "det er jo bare sådan"]
  answer: Et svar.
  sources: [{source: guide-a, section: Del 1}]
- id: tal
  category: Andet
  question: "2016"
  alternates: ["1.000 kr.", "x"]
  answer: Et andet svar.
  sources: [{source: guide-b, section: Del 2}]
""",
    "the same words in every item": """\
- id: peer-a
  category: Alt
  question: peer peer peer
  answer: A.
  sources: [{source: guide-a, section: Del 1}]
- id: peer-b
  category: Alt
  question: peer peer
  answer: A.
  sources: [{source: guide-a, section: Del 1}]
""",
}
ODD_QUESTIONS = [
    "",
    " ",
    "?",
    "🙂",
    "\x00\x1b[31m",
    "a" * 5000,
    "peer",
    "Hvad er det?",
    "2016",
    "selvmord",
    "jeg vil skade mig selv",
    "peer peer peer peer",
    "hvornår er der frokost",
    "<b>peer</b> & 'medarbejder'",
]


@pytest.mark.parametrize("name", sorted(ODD_ITEMS))
def test_the_matcher_answers_every_question_on_every_valid_knowledge_base(
    tmp_path: Path, name: str
) -> None:
    shutil.copytree(FIXTURE, tmp_path / "kb")
    for path in (tmp_path / "kb" / "items").glob("*.yaml"):
        path.unlink()
    (tmp_path / "kb" / "eval.yaml").unlink()
    (tmp_path / "kb" / "items" / "alt.yaml").write_text(ODD_ITEMS[name], encoding="utf-8")
    (tmp_path / "kb" / "subject.yaml").write_text("- recoverymentor\n", encoding="utf-8")
    (tmp_path / "kb" / "out_of_scope.yaml").write_text("- frokost\n", encoding="utf-8")
    assert kb.validate(tmp_path / "kb") == []
    knowledge = kb.load(tmp_path / "kb")
    matcher = Matcher(knowledge)
    for question in ODD_QUESTIONS:
        result = matcher.match(question)
        assert result.status in set(Status)
        assert (result.item is None) or result.item in knowledge.items
        assert all(item in knowledge.items for item, _ in matcher.ranked(question, 5))
    evalset = kb.EvalSet(
        floors={},
        questions=(kb.EvalQuestion("peer", knowledge.items[0].id),),
        out_of_scope=("frokost",),
        crisis=("selvmord",),
    )
    assert run_eval(matcher, evalset).total == 1
