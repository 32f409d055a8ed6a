"""Privacy and robustness of the real ``faqbot run`` process (issue 14), at DEBUG log level.

One bot process serves the module, logging at DEBUG (where python-telegram-bot writes whole
updates and Bot API calls). The tests forge and repeat button presses, send malformed callback
data and command arguments, address commands to another bot, and finally grep the whole log
for every personal detail the conversations carried.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botprocess import ADMIN_ID, BotProcess
from fake_telegram import DEFAULT_BOT_USERNAME, Call, FakeTelegram

from faqbot import render
from faqbot.bot import texts
from faqbot.matcher import Matcher, Result, Status

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT = 10.0
SILENCE = 0.8
_user_ids = itertools.count(810_001)
_group_ids = itertools.count(-7301, -1)

# The personal details one user's conversation carries; none may reach the log.
SECRET_FIRST_NAME = "Zebulonia"
SECRET_LAST_NAME = "Quaxenberg"
SECRET_USERNAME = "zebu_hemmelig"
SECRET_USER_ID = 987_654_321
SECRET_GROUP_ID = -1_009_876_543_210
SECRET_CPR = "020290-5678"
SECRET_QUESTION = f"Min kollega Xylofonia har cpr {SECRET_CPR} og spørger om hemmelighedsfuld løn"


@pytest.fixture(scope="module")
def bot(
    server: FakeTelegram, knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    with BotProcess(
        server,
        tmp_path_factory.mktemp("bot"),
        FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir),
        FAQBOT_LOG_LEVEL="DEBUG",
        FAQBOT_KEEP_TEXT="all",
    ).running() as process:
        yield process


@pytest.fixture(autouse=True)
def bot_keeps_running(server: FakeTelegram, bot: BotProcess) -> Iterator[None]:
    """Whatever a test sends, every button press is acknowledged and the bot keeps running
    without a handler error."""
    yield
    time.sleep(0.1)
    assert server.unanswered_callback_queries() == []
    assert bot.alive(), bot.output()[-3000:]
    assert "error while handling an update" not in bot.output()


def new_user() -> dict:
    return FakeTelegram.user(next(_user_ids), "Test")


def reply_to(server: FakeTelegram, chat_id: int, after: int, method: str = "sendMessage") -> Call:
    return server.wait_for(
        lambda c: c.ok and c.method == method and c.chat_id == chat_id, REPLY_TIMEOUT, after=after
    )


def say(server: FakeTelegram, text: str, user: dict, chat: dict | None = None) -> Call:
    mark = server.mark()
    server.send_text(text, user=user, chat=chat)
    return reply_to(server, (chat or user)["id"], mark)


def acknowledgement(server: FakeTelegram, query: dict, after: int) -> Call:
    return server.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query["id"]
        ),
        REPLY_TIMEOUT,
        after=after,
    )


def forge(server: FakeTelegram, message: dict, user: dict, data: str) -> str | None:
    """Press a button with ``data`` on ``message``; the text the bot acknowledges it with."""
    mark = server.mark()
    query = server.press_forged(message, user=user, data=data)
    return acknowledgement(server, query, mark).params.get("text")


def answered(matcher: Matcher) -> tuple[str, Result]:
    for item in matcher.kb.items:
        result = matcher.match(item.question)
        if result.status is Status.ANSWERED and result.item is not None:
            return item.question, result
    pytest.fail("no item is answered by its own question")


def clarified(matcher: Matcher) -> tuple[str, Result]:
    words = ["peer", "løn", "supervision", "tavshedspligt", "medicin", "sygdom", "leder"]
    words += [item.question.split()[-1].strip("?").lower() for item in matcher.kb.items]
    for word in words:
        result = matcher.match(word)
        if result.status is Status.CLARIFY and len(result.suggestions) >= 2:
            return word, result
    pytest.fail("no one-word question leads to a clarify")


def rows(bot: BotProcess, sql: str, parameters: tuple = ()) -> list[tuple]:
    with sqlite3.connect(bot.database) as db:
        return db.execute(sql, parameters).fetchall()


def question_id_of(call: Call) -> str:
    """The logged question id in a reply's vote or pick buttons."""
    for button in call.buttons():
        data = button.get("callback_data", "")
        if data.startswith("v|"):
            return data.split("|")[1]
        if data.startswith("p|"):
            return data.split("|")[3]
    raise AssertionError(f"no logged question behind {call.buttons()}")


# --- buttons -----------------------------------------------------------------------------------


def test_forged_and_malformed_buttons_get_the_polite_reply_and_count_nothing(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user, stranger = new_user(), new_user()
    question, _ = answered(matcher)
    reply = say(server, question, user)
    question_id = question_id_of(reply)
    elsewhere = say(server, question, stranger)  # a message in another chat

    for data in (
        "v|0123456789abcdef|1",  # a question the bot never logged
        f"v|{question_id}|",  # issue 14: counted as a thumbs-down
        f"v|{question_id}|2",
        f"v|{question_id}|1|x",
        "i|²|abcdef",  # issue 14: ValueError
        "c|²|abcdef",
        f"p|²|abcdef|{question_id}",
        "i|٣|abcdef",
        "x" * 64,
        "",
    ):
        assert forge(server, reply.result, user, data) == texts.STALE_BUTTON, data
    # The right question id, pressed from another chat's message.
    assert forge(server, elsewhere.result, stranger, f"v|{question_id}|1") == texts.STALE_BUTTON
    assert rows(bot, "SELECT COUNT(*) FROM votes WHERE question_id = ?", (question_id,)) == [(0,)]

    assert forge(server, reply.result, user, f"v|{question_id}|1") == texts.VOTE_THANKS_UP
    assert forge(server, reply.result, user, f"v|{question_id}|0") == texts.ALREADY_VOTED
    assert rows(bot, "SELECT helpful FROM votes WHERE question_id = ?", (question_id,)) == [(1,)]


def test_a_suggestion_pressed_many_times_counts_and_answers_once(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user = new_user()
    question, result = clarified(matcher)
    reply = say(server, question, user)
    question_id = question_id_of(reply)
    pick_data = reply.buttons()[0]["callback_data"]
    suggested = result.suggestions[0].item

    mark = server.mark()
    queries = [server.press_button(reply.result, user=user, data=pick_data) for _ in range(100)]
    acknowledged = [acknowledgement(server, query, mark).params.get("text") for query in queries]
    assert acknowledged.count(None) == 1
    assert acknowledged.count(texts.ALREADY_PICKED) == 99
    answers = [c for c in server.calls_to("sendMessage", after=mark) if c.chat_id == user["id"]]
    assert [c.text for c in answers] == [render.answer_html(suggested, matcher.kb)]
    assert rows(bot, "SELECT COUNT(*) FROM picks WHERE question_id = ?", (question_id,)) == [(1,)]

    # Another member of a group may pick the same suggestion: that is a second person.
    group, other = FakeTelegram.group_chat(next(_group_ids)), new_user()
    in_group = say(server, f"/spoerg {question}", user, group)
    group_pick = in_group.buttons()[0]["callback_data"]
    for member in (user, other, other):
        server.press_button(in_group.result, user=member, data=group_pick)
    group_id = question_id_of(in_group)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while rows(bot, "SELECT COUNT(*) FROM picks WHERE question_id = ?", (group_id,)) != [(2,)]:
        assert time.monotonic() < deadline, "the group's two picks were not stored"
        time.sleep(0.05)


# --- commands ----------------------------------------------------------------------------------


def test_report_with_odd_arguments_gets_the_usage_reply(server: FakeTelegram, bot) -> None:
    admin = FakeTelegram.user(ADMIN_ID, "Leder")
    for arguments in ("²", "٣", "-1", "0", "3651", "30 40", "1e3", "trediv"):
        assert say(server, f"/rapport {arguments}", admin).text == texts.REPORT_DAYS_INVALID


def test_a_command_for_another_bot_is_left_alone(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user = new_user()
    group = FakeTelegram.group_chat(next(_group_ids), supergroup=True)
    question, result = answered(matcher)
    mark = server.mark()
    for text in (
        f"/spørg@otherbot {question}",  # issue 14: answered by this bot
        f"/spoerg@otherbot {question}",
        "/hjaelp@otherbot",
        "/start@otherbot",
        "/rapport@otherbot",
        "/findesikke@otherbot",
    ):
        server.send_text(text, user=user, chat=group)
        server.send_text(text, user=user)  # not in a private chat either
    server.assert_no_call(
        lambda c: c.chat_id in (group["id"], user["id"]) and c.method == "sendMessage",
        SILENCE,
        after=mark,
    )
    expected = render.result_html(result, matcher.kb)
    assert say(server, f"/spørg@{DEFAULT_BOT_USERNAME} {question}", user, group).text == expected
    assert say(server, f"/spoerg@{DEFAULT_BOT_USERNAME.upper()} {question}", user).text == expected


# --- the log -----------------------------------------------------------------------------------


def test_the_debug_log_holds_no_personal_data(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    """Runs last: a whole conversation with names, a username, a CPR number, a group, votes,
    picks and the leaders' commands, then the log is searched for every one of them."""
    user = FakeTelegram.user(SECRET_USER_ID, SECRET_FIRST_NAME, SECRET_USERNAME)
    user["last_name"] = SECRET_LAST_NAME
    group = FakeTelegram.group_chat(SECRET_GROUP_ID, "Hemmelig gruppe")
    admin = FakeTelegram.user(ADMIN_ID, "Leder")

    unknown = say(server, SECRET_QUESTION, user)
    say(server, f"/spoerg {SECRET_QUESTION}", user, group)
    question, _ = answered(matcher)
    reply = say(server, question, user)
    forge(server, reply.result, user, f"v|{question_id_of(reply)}|1")
    clarify, _ = clarified(matcher)
    asked_back = say(server, f"/spoerg {clarify}", user, group)
    mark = server.mark()
    query = server.press_button(asked_back.result, user=user, index=0)
    acknowledgement(server, query, mark)
    say(server, "/ubesvarede", admin)
    mark = server.mark()
    server.send_text("/rapport 7", user=admin)
    reply_to(server, ADMIN_ID, mark, "sendPhoto")
    assert unknown.ok

    time.sleep(0.3)  # the last DEBUG lines of the replies
    log = bot.output()
    assert "DEBUG" in log and "sendMessage" in log  # the log really is at DEBUG
    for secret in (
        str(SECRET_USER_ID),
        str(SECRET_GROUP_ID),
        str(-SECRET_GROUP_ID),
        str(ADMIN_ID),
        SECRET_FIRST_NAME,
        SECRET_LAST_NAME,
        SECRET_USERNAME,
        "Xylofonia",
        "hemmelighedsfuld",
        SECRET_CPR,
        SECRET_CPR.replace("-", ""),
        "020290",
        "Hemmelig gruppe",
    ):
        assert secret not in log, f"{secret!r} is in the log"
