"""Telegram's documented answers besides 5xx and 429: the real ``faqbot run`` process against the
fake Bot API answering as Telegram does when a group became a supergroup, a user blocked the bot,
a question was deleted before the reply, a forum has topics, HTML does not parse, a button press
is too old, another instance polls, the token is revoked, flood control asks for a long wait, and
updates arrive that the bot did not ask for or cannot read.

The error texts and parameters are Telegram's (https://core.telegram.org/bots/api), as
python-telegram-bot v22 turns them into ``ChatMigrated``, ``Forbidden``, ``BadRequest``,
``RetryAfter``, ``Conflict`` and ``InvalidToken``.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest
from botprocess import BotProcess
from fake_telegram import Call, FakeTelegram, parse_html
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.ext import Defaults

from faqbot import render
from faqbot.bot import texts
from faqbot.bot.sending import FaqBot
from faqbot.matcher import Matcher, Result, Status

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT = 15.0
FAST_TIMEOUT = {"FAQBOT_REQUEST_TIMEOUT": "1"}
_user_ids = itertools.count(810_001)
_group_ids = itertools.count(-4801, -1)


def new_user() -> dict:
    return FakeTelegram.user(next(_user_ids))


def new_group() -> dict:
    return FakeTelegram.group_chat(next(_group_ids), "Peer-gruppen")


def answered(matcher: Matcher, skip: int = 0) -> tuple[str, Result]:
    """An item's own question the bot answers directly, with related items ("Se også")."""
    found = 0
    for item in sorted(matcher.kb.items, key=lambda item: not item.related):
        result = matcher.match(item.question)
        if result.status is Status.ANSWERED and result.item is not None and result.item.related:
            if found == skip:
                return item.question, result
            found += 1
    pytest.fail("too few items answered by their own question")


CRISIS = "Jeg vil ikke leve mere, jeg har tænkt på at tage mit liv i aften"


def crisis_message(matcher: Matcher) -> str:
    """A message that gets the safety text (checked, so a changed lexicon fails loudly here)."""
    assert matcher.match(CRISIS).status is Status.SAFETY
    return CRISIS


def sends(server: FakeTelegram, chat_id: int, after: int) -> list[Call]:
    """Every sendMessage attempt to one chat since ``after``, in order."""
    return sorted(
        (c for c in server.calls_to("sendMessage", after=after) if c.chat_id == chat_id),
        key=lambda c: c.time,
    )


def delivered(server: FakeTelegram, chat_id: int, after: int) -> list[Call]:
    return [c for c in sends(server, chat_id, after) if c.ok]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def pending_in_inbox(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone()[0])


@pytest.fixture(scope="module")
def bot(
    server: FakeTelegram, knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    with BotProcess(
        server,
        tmp_path_factory.mktemp("answers"),
        FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir),
        **FAST_TIMEOUT,
    ).running() as process:
        yield process


@pytest.fixture(autouse=True)
def still_up(request: pytest.FixtureRequest) -> Iterator[None]:
    """The module's bot keeps running whatever Telegram answered (no traceback either)."""
    yield
    if "bot" in request.fixturenames:
        bot: BotProcess = request.getfixturevalue("bot")
        server: FakeTelegram = request.getfixturevalue("server")
        server.clear_failures()
        assert bot.alive(), bot.output()[-3000:]
        assert "Traceback" not in bot.output(), bot.output()[-3000:]


# --- a group upgraded to a supergroup -------------------------------------------------------------


def test_an_answer_to_a_group_that_became_a_supergroup_reaches_the_new_chat(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user, group = new_user(), new_group()
    question, result = answered(matcher)
    server.send_text("/hjaelp", user=user, chat=group)  # the bot knows the group
    wait_until(lambda: delivered(server, group["id"], 0), REPLY_TIMEOUT, "the help")
    supergroup = server.migrate_to_supergroup(group)
    mark = server.mark()
    server.send_text(f"/spoerg {question}", user=user, chat=group)  # written just before
    answer = server.wait_for(
        lambda c: c.ok and c.chat_id == supergroup["id"], REPLY_TIMEOUT, after=mark
    )
    assert answer.text == render.result_html(result, matcher.kb)
    assert [c.status for c in sends(server, group["id"], mark)] == [400]

    mark = server.mark()  # a later send to the old group goes straight to the new chat
    server.send_text(f"/spoerg {question}", user=user, chat=group)
    server.wait_for(lambda c: c.ok and c.chat_id == supergroup["id"], REPLY_TIMEOUT, after=mark)
    assert sends(server, group["id"], mark) == []
    # the vote buttons of the answer work in the new chat
    vote = server.press_button(answer.result, user=user, text="👍")
    server.wait_for(
        lambda c: c.ok and c.params.get("callback_query_id") == vote["id"], REPLY_TIMEOUT
    )


# --- the user blocked the bot, the bot was kicked -------------------------------------------------


@pytest.mark.parametrize(
    "description",
    ["Forbidden: bot was blocked by the user", "Forbidden: bot was kicked from the group chat"],
)
def test_a_chat_that_refuses_the_bot_ends_the_update_quietly(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher, description: str
) -> None:
    user = new_user()
    chat = FakeTelegram.private_chat(user) if "blocked" in description else new_group()
    question, _ = answered(matcher)
    server.refuse_chat(chat["id"], description)
    mark, logged = server.mark(), len(bot.output())
    server.send_text(f"/spoerg {question}", user=user, chat=chat)
    server.wait_for(lambda c: c.status == 403, REPLY_TIMEOUT, after=mark)
    time.sleep(1.5)  # no retry, no apology attempt
    assert [c.status for c in sends(server, chat["id"], mark)] == [403]
    wait_until(lambda: pending_in_inbox(bot.database) == 0, 5, "the update done")
    log = bot.output()[logged:]
    assert "refuses the bot" in log
    assert str(user["id"]) not in log and question not in log and str(chat["id"]) not in log


# --- the question was deleted before the reply ----------------------------------------------------


@pytest.mark.parametrize("in_group", [False, True])
def test_a_deleted_question_still_gets_its_answer(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher, in_group: bool
) -> None:
    user = new_user()
    chat = new_group() if in_group else FakeTelegram.private_chat(user)
    question, result = answered(matcher)
    mark = server.mark()
    message = server.send_text(
        f"/spoerg {question}" if in_group else question, user=user, chat=chat
    )
    server.delete_user_message(message)
    answer = server.wait_for(lambda c: c.chat_id == chat["id"], REPLY_TIMEOUT, after=mark)
    assert answer.ok, answer.response
    assert answer.text == render.result_html(result, matcher.kb)
    assert "reply_to_message" not in answer.result
    if in_group:  # it was sent as a reply, allowed to go without the quoted message
        assert answer.params["reply_parameters"]["message_id"] == message["message_id"]


# --- forum topics ---------------------------------------------------------------------------------


def test_in_a_forum_every_reply_goes_to_the_questions_topic(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user, forum = new_user(), FakeTelegram.forum_chat(-1_000_000_004_801)
    topic = server.open_topic(forum, "Spørgsmål", user=user)
    question, result = answered(matcher)
    mark = server.mark()
    server.send_text(f"/spoerg {question}", user=user, chat=forum, thread_id=topic)
    answer = server.wait_for(lambda c: c.chat_id == forum["id"], REPLY_TIMEOUT, after=mark)
    assert answer.ok and answer.params.get("message_thread_id") == topic
    assert answer.text == render.result_html(result, matcher.kb)

    mark = server.mark()  # a "Se også" button: the follow-up answer stays in the topic
    server.press_button(answer.result, user=user, index=0)
    follow_up = server.wait_for(lambda c: c.chat_id == forum["id"], REPLY_TIMEOUT, after=mark)
    assert follow_up.ok and follow_up.params.get("message_thread_id") == topic

    mark = server.mark()  # the safety text too
    server.send_text(f"/spoerg {crisis_message(matcher)}", user=user, chat=forum, thread_id=topic)
    safety = server.wait_for(lambda c: c.chat_id == forum["id"], REPLY_TIMEOUT, after=mark)
    assert safety.ok and safety.params.get("message_thread_id") == topic

    mark = server.mark()  # an unknown command's silence and the help both respect the topic
    server.send_text("/hjaelp", user=user, chat=forum, thread_id=topic)
    help_reply = server.wait_for(lambda c: c.chat_id == forum["id"], REPLY_TIMEOUT, after=mark)
    assert help_reply.ok and help_reply.params.get("message_thread_id") == topic


# --- HTML Telegram cannot parse -------------------------------------------------------------------


def test_an_answer_whose_html_telegram_cannot_parse_is_resent_as_plain_text(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user = new_user()
    question, result = answered(matcher)
    mark = server.mark()
    server.fail_next(
        400,
        method="sendMessage",
        description='Bad Request: can\'t parse entities: Unsupported start tag "x" at byte '
        "offset 7",
    )
    server.send_text(question, user=user)
    wait_until(lambda: delivered(server, user["id"], mark), REPLY_TIMEOUT, "the answer")
    time.sleep(0.5)
    first, second = sends(server, user["id"], mark)
    assert first.status == 400 and first.params.get("parse_mode") == "HTML"
    assert second.ok and not second.params.get("parse_mode")
    assert second.text == parse_html(render.result_html(result, matcher.kb))
    assert second.buttons() == first.buttons()  # the keyboard (votes) comes along


# --- button presses Telegram no longer takes ------------------------------------------------------


def test_a_too_old_button_press_still_counts_the_vote_once(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user = new_user()
    question, _ = answered(matcher)
    mark = server.mark()
    server.send_text(question, user=user)
    answer = server.wait_for(lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    mark = server.mark()
    server.fail_next(
        400,
        method="answerCallbackQuery",
        description="Bad Request: query is too old and response timeout expired or query ID is "
        "invalid",
    )
    server.press_button(answer.result, user=user, text="👍")
    server.wait_for("answerCallbackQuery", REPLY_TIMEOUT, after=mark)
    time.sleep(1.0)
    assert [c.status for c in server.calls_to("answerCallbackQuery", after=mark)] == [400]
    assert server.calls_to("sendMessage", after=mark) == []  # no apology
    with sqlite3.connect(bot.database) as db:
        (votes,) = db.execute("SELECT COUNT(*) FROM votes").fetchone()
    mark = server.mark()  # a second press: refused as a repeat, so the first was counted
    query = server.press_button(answer.result, user=user, text="👎")
    second = server.wait_for(
        lambda c: c.params.get("callback_query_id") == query["id"], REPLY_TIMEOUT, after=mark
    )
    assert second.params.get("text") == texts.ALREADY_VOTED
    assert votes >= 1


@pytest.mark.parametrize(
    "description",
    [
        "Bad Request: message to edit not found",
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
        "Bad Request: message can't be edited",
    ],
)
def test_an_edit_telegram_refuses_is_ignored(
    server: FakeTelegram, bot: BotProcess, description: str
) -> None:
    user = new_user()
    mark = server.mark()
    server.send_text("/emner", user=user)
    menu = server.wait_for(lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    mark = server.mark()
    server.fail_next(400, method="editMessageText", description=description)
    query = server.press_button(menu.result, user=user, index=0)
    server.wait_for("editMessageText", REPLY_TIMEOUT, after=mark)
    time.sleep(1.0)
    assert [c.status for c in server.calls_to("editMessageText", after=mark)] == [400]
    assert server.calls_to("sendMessage", after=mark) == []  # no apology
    acknowledged = server.calls_to("answerCallbackQuery", after=mark)
    assert [c.params.get("callback_query_id") for c in acknowledged] == [query["id"]]


# --- updates the bot did not ask for or cannot read ----------------------------------------------


def test_updates_it_cannot_read_get_a_polite_reply_or_silence(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user, group = new_user(), new_group()
    question, result = answered(matcher)
    mark = server.mark()
    server.send_text(question, user=user)
    original = server.wait_for(lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT)
    server.push_update(
        {"edited_message": {**original.result, "text": "rettet", "edit_date": 1}},
        unrequested=True,
    )
    server.push_update(
        {
            "channel_post": {
                "message_id": 1,
                "chat": {"id": -1_000_000_009_999, "type": "channel", "title": "Kanal"},
                "date": int(time.time()),
                "text": question,
            }
        },
        unrequested=True,
    )
    # someone else's words: an inline bot's result, a channel post forwarded to its group
    server.send_text(question, user=user, extra={"via_bot": FakeTelegram.user(5001, "Gif")})
    server.send_text(
        f"@{server.bot_user['username']} {question}",
        user=user,
        chat=group,
        extra={
            "is_automatic_forward": True,
            "sender_chat": {"id": -1_000_000_009_998, "type": "channel", "title": "Kanal"},
        },
    )
    server.push_update(  # a service message: someone joined the group
        {
            "message": {
                "message_id": 9001,
                "from": user,
                "chat": group,
                "date": int(time.time()),
                "new_chat_members": [new_user()],
            }
        }
    )
    time.sleep(1.5)
    assert len(delivered(server, user["id"], mark)) == 1  # only the first question's answer
    assert delivered(server, group["id"], mark) == []

    mark = server.mark()  # a photo with the question as its caption: the caption is answered
    server.send_photo(user=user, caption=question)
    caption = server.wait_for(lambda c: c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    assert caption.ok and caption.text == render.result_html(result, matcher.kb)

    mark = server.mark()  # a caption that asks nothing points at the picture: the hint
    server.send_photo(user=user, caption="se her")
    pointed = server.wait_for(lambda c: c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    assert pointed.ok and pointed.text == texts.HINT_NOT_TEXT

    mark = server.mark()  # a crisis in a caption gets the safety text
    server.send_photo(user=user, caption=crisis_message(matcher))
    safety = server.wait_for(lambda c: c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    crisis = matcher.match(crisis_message(matcher))
    assert safety.text == render.result_html(crisis, matcher.kb)

    for send in (server.send_sticker, server.send_voice, server.send_photo):
        mark = server.mark()
        send(user=user)
        hint = server.wait_for(lambda c: c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
        assert hint.ok and hint.text == texts.HINT_NOT_TEXT

    mark = server.mark()  # a channel or an anonymous admin asking in a group is answered
    server.send_text(
        f"/spoerg {question}",
        user=FakeTelegram.user(136817688, "Channel"),
        chat=group,
        extra={"sender_chat": {"id": -1_000_000_009_998, "type": "channel", "title": "Kanal"}},
    )
    answer = server.wait_for(lambda c: c.chat_id == group["id"], REPLY_TIMEOUT, after=mark)
    assert answer.ok and answer.text == render.result_html(result, matcher.kb)
    wait_until(lambda: pending_in_inbox(bot.database) == 0, 5, "every update done")


# --- polling conflicts ---------------------------------------------------------------------------


def test_a_webhook_set_elsewhere_is_logged_clearly_and_polling_backs_off(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    logged = len(bot.output())
    server.set_webhook_elsewhere()
    try:
        polls = server.polls_started
        wait_until(lambda: "webhook" in bot.output()[logged:], 15, "the conflict logged")
        time.sleep(3.0)
        assert server.polls_started - polls <= 4  # backing off, not hammering
    finally:
        server.set_webhook_elsewhere("")
    user = new_user()  # polling works again once the webhook is gone
    question, _ = answered(matcher)
    mark = server.mark()
    server.send_text(question, user=user)
    server.wait_for(lambda c: c.ok and c.chat_id == user["id"], 40, after=mark)


def test_another_instance_polling_is_logged_clearly(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    logged = len(bot.output())
    stop = threading.Event()

    def other_instance() -> None:
        url = f"{server.base_url}{server.token}/getUpdates?timeout=1"
        while not stop.is_set():
            try:
                urllib.request.urlopen(url, timeout=5).read()
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)

    thread = threading.Thread(target=other_instance, daemon=True)
    thread.start()
    try:
        wait_until(lambda: "another" in bot.output()[logged:], 15, "the conflict logged")
    finally:
        stop.set()
        thread.join(10)
    assert "only one" in bot.output()[logged:]
    user = new_user()
    question, _ = answered(matcher)
    mark = server.mark()
    server.send_text(question, user=user)
    server.wait_for(lambda c: c.ok and c.chat_id == user["id"], 40, after=mark)


# --- a revoked token, a long flood wait: processes of their own ----------------------------------


def test_a_token_revoked_at_runtime_stops_with_one_error_and_keeps_the_inbox(
    fake: FakeTelegram, tmp_path: Path, knowledge_dir: Path, matcher: Matcher
) -> None:
    process = BotProcess(fake, tmp_path, FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir), **FAST_TIMEOUT)
    process.start()
    user = new_user()
    question, _ = answered(matcher)
    try:
        fake.fail_next(401, method="sendMessage", description="Unauthorized")
        fake.send_text(question, user=user)
        fake.wait_for(lambda c: c.status == 401, REPLY_TIMEOUT)
        fake.revoke_token()
        assert process.process is not None
        code = process.process.wait(15)
    except subprocess.TimeoutExpired:
        raise AssertionError(process.output()) from None
    finally:
        process.kill()
    errors = [line for line in process.output().splitlines() if line.startswith("Error:")]
    assert code == 1, process.output()
    assert errors == [
        "Error: Telegram no longer accepts TELEGRAM_BOT_TOKEN (it was revoked, or the bot "
        "was deleted); put the bot's current token from @BotFather in TELEGRAM_BOT_TOKEN and "
        "start faqbot again: the unanswered questions wait in its inbox."
    ], process.output()
    assert "Traceback" not in process.output()
    assert pending_in_inbox(process.database) == 1  # the question waits for the next start


@pytest.mark.parametrize("method", ["getUpdates", "sendMessage"])
def test_a_long_flood_wait_is_waited_out_and_sigterm_still_stops_in_time(
    fake: FakeTelegram, tmp_path: Path, knowledge_dir: Path, matcher: Matcher, method: str
) -> None:
    env = {"FAQBOT_KNOWLEDGE_DIR": str(knowledge_dir), **FAST_TIMEOUT}
    process = BotProcess(fake, tmp_path, **env).start()
    user = new_user()
    question, result = answered(matcher)
    mark = fake.mark()
    fake.fail_next(429, retry_after=30, method=method)
    if method == "sendMessage":
        fake.send_text(question, user=user)
    flood = fake.wait_for(lambda c: c.status == 429, REPLY_TIMEOUT, after=mark)
    time.sleep(3.0)
    later = [c for c in fake.calls_to(method, after=mark) if c.time > flood.time]
    assert later == [], later  # it waits as asked, no hammering
    started = time.monotonic()
    code = process.terminate()
    stopped_in = time.monotonic() - started
    assert code == 0, process.output()
    assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f}s"
    if method == "sendMessage":  # nothing lost: answered once after the restart
        fake.clear_failures()
        second = BotProcess(fake, tmp_path, **env).start()
        try:
            wait_until(lambda: delivered(fake, user["id"], mark), REPLY_TIMEOUT, "the answer")
            time.sleep(0.5)
        finally:
            assert second.terminate() == 0
        assert [c.text for c in delivered(fake, user["id"], mark)] == [
            render.result_html(result, matcher.kb)
        ]


# --- a text or a keyboard over Telegram's limits (the bot in-process, over real HTTP) -------------


def test_a_long_text_and_a_big_keyboard_reach_telegram_as_messages_it_accepts(
    fake: FakeTelegram,
) -> None:
    user = new_user()
    fake.send_text("hej", user=user)  # the chat exists
    text = "\n\n".join(
        f"<b>Afsnit {n}</b> " + escape("løn & timer, ferie og fravær ") * 12 for n in range(40)
    )
    back = [InlineKeyboardButton("« Alle emner", callback_data="t")]
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"Spørgsmål {n}", callback_data=f"i|{n}|abcdef")]
            for n in range(130)
        ]
        + [back]
    )

    async def send() -> None:
        bot = FaqBot(
            token=fake.token,
            base_url=fake.base_url,
            defaults=Defaults(parse_mode=ParseMode.HTML, allow_sending_without_reply=True),
        )
        async with bot:
            await bot.send_message(user["id"], text, reply_markup=keyboard)

    asyncio.run(send())
    parts = fake.sent_messages(user["id"])
    refused = [c for c in fake.calls if not c.ok]
    assert refused == [] and len(parts) >= 2
    assert " ".join(c.result["text"] for c in parts).split() == parse_html(text).split()
    assert [bool(c.buttons()) for c in parts] == [False] * (len(parts) - 1) + [True]
    buttons = parts[-1].buttons()
    assert len(buttons) == 100 and buttons[-1]["text"] == "« Alle emner"
