"""Whole conversations with the real ``faqbot run`` process over the fake Bot API.

Why: unit tests cover handlers in isolation; these prove the running bot, as deployed, answers
over HTTP what the matcher and renderer decide, never sends a request Telegram would refuse,
survives flood control and stops cleanly. One bot process serves the whole module; each test
talks to it as fresh users in fresh chats, so tests don't see each other's replies.

Expected texts are computed in-process from the same (copied) knowledge base with the same
matcher and renderer, so the assertions hold whatever the knowledge base says.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from botprocess import ADMIN_ID, REPO, BotProcess, bot_env
from fake_telegram import Call, FakeTelegram, parse_html

from faqbot import kb as kb_module
from faqbot import render
from faqbot.bot import texts
from faqbot.matcher import Matcher, Result, Status

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT = 10.0
SILENCE = 0.8  # how long "the bot stays silent" is watched
_user_ids = itertools.count(610_001)
_group_ids = itertools.count(-4101, -1)


@pytest.fixture(scope="module")
def knowledge(knowledge_dir: Path) -> kb_module.KnowledgeBase:
    return kb_module.load(knowledge_dir)


@pytest.fixture(scope="module")
def matcher(knowledge: kb_module.KnowledgeBase) -> Matcher:
    return Matcher(knowledge)


@pytest.fixture(scope="module")
def bot(
    server: FakeTelegram, knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    """The one ``faqbot run`` process for this module."""
    with BotProcess(
        server, tmp_path_factory.mktemp("bot"), FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir)
    ).running() as process:
        yield process


@pytest.fixture(autouse=True)
def every_request_valid(server: FakeTelegram, bot: BotProcess) -> Iterator[None]:
    """Whatever a test does, the bot must send nothing Telegram would refuse, leave no button
    press unacknowledged, and keep running."""
    mark = server.mark()
    yield
    time.sleep(0.1)  # let replies still in flight land
    refused = [
        (c.method, c.status, c.response.get("description"), dict(c.params))
        for c in server.calls[mark:]
        if not c.ok and not c.injected
    ]
    assert refused == [], f"Telegram would have refused: {refused}\n{bot.output()[-3000:]}"
    assert server.unanswered_callback_queries() == []
    assert bot.alive(), bot.output()[-3000:]


def new_user(name: str = "Test") -> dict:
    return FakeTelegram.user(next(_user_ids), name)


def new_group(*, supergroup: bool = False) -> dict:
    return FakeTelegram.group_chat(next(_group_ids), "Peer-gruppen", supergroup=supergroup)


def reply_to(server: FakeTelegram, chat_id: int, after: int, method: str = "sendMessage") -> Call:
    """The bot's next successful ``method`` call to ``chat_id`` since ``after``."""
    return server.wait_for(
        lambda c: c.ok and c.method == method and c.chat_id == chat_id, REPLY_TIMEOUT, after=after
    )


def say(server: FakeTelegram, text: str, user: dict, chat: dict | None = None, **kw) -> Call:
    """A user writes ``text`` (commands and mentions get their entities); the bot's reply."""
    mark = server.mark()
    server.send_text(text, user=user, chat=chat, **kw)
    return reply_to(server, (chat or user)["id"], mark)


def press(server: FakeTelegram, message: dict, user: dict, **which) -> tuple[dict, Call]:
    """Press a button of a bot message; return the query and the bot's acknowledgement."""
    mark = server.mark()
    query = server.press_button(message, user=user, **which)
    answer = server.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query["id"]
        ),
        REPLY_TIMEOUT,
        after=mark,
    )
    assert answer.ok
    return query, answer


def labels(call: Call) -> list[str]:
    return [button["text"] for button in call.buttons()]


def answered_question(matcher: Matcher) -> tuple[str, Result]:
    """An item's own question that the matcher answers with that item (related items first)."""
    items = sorted(matcher.kb.items, key=lambda item: not item.related)
    for item in items:
        result = matcher.match(item.question)
        if (
            result.status is Status.ANSWERED
            and result.item is not None
            and result.item.id == item.id
        ):
            return item.question, result
    pytest.fail("no item of the knowledge base is answered by its own question")


def clarify_question(matcher: Matcher) -> tuple[str, Result]:
    """A short, vague question the matcher answers with "Mente du …?" and suggestions."""
    words = ["peer", "løn", "supervision", "tavshedspligt", "medicin", "sygdom", "leder"]
    words += [name.split()[0].lower() for name in matcher.kb.categories]
    words += [item.question.split()[-1].strip("?").lower() for item in matcher.kb.items]
    for word in words:
        result = matcher.match(word)
        if result.status is Status.CLARIFY and len(result.suggestions) >= 2:
            return word, result
    pytest.fail("no one-word question leads to a clarify")


# --- private chats -----------------------------------------------------------------------------


def test_start_introduces_the_bot_and_sets_the_menu(server, bot, knowledge) -> None:
    user = new_user()
    reply = say(server, "/start", user)
    assert reply.params["parse_mode"] == "HTML"
    visible = parse_html(reply.text)
    assert f"{len(knowledge.items)} spørgsmål" in visible
    assert "/privatliv" in visible and "/spoerg" in visible
    menu = [command["command"] for command in server.commands()]
    assert {"start", "spoerg", "emner", "hjaelp"} <= set(menu)
    assert "rapport" not in menu  # leaders' commands are not in everyone's menu


def test_a_question_gets_the_cited_answer_with_vote_buttons(server, bot, matcher) -> None:
    question, result = answered_question(matcher)
    reply = say(server, question, new_user())
    assert reply.text == render.result_html(result, matcher.kb)
    assert reply.params["parse_mode"] == "HTML"
    assert "Kilde:" in parse_html(reply.text)
    assert labels(reply)[-2:] == ["👍", "👎"]


def test_clarify_offers_buttons_and_a_press_answers(server, bot, matcher) -> None:
    user = new_user()
    question, result = clarify_question(matcher)
    reply = say(server, question, user)
    assert reply.text == render.result_html(result, matcher.kb)
    assert parse_html(reply.text).startswith("Mente du")
    suggested = [suggestion.item for suggestion in result.suggestions]
    assert len(labels(reply)) == len(suggested) + 1  # the suggestions and "Ingen af dem"
    assert labels(reply)[-1] == texts.NONE_OF_THEM

    mark = server.mark()
    press(server, reply.result, user, index=1)
    answer = reply_to(server, user["id"], mark)
    assert answer.text == render.answer_html(suggested[1], matcher.kb)
    assert "Kilde:" in parse_html(answer.text)
    assert labels(answer)[-2:] == ["👍", "👎"]

    mark = server.mark()
    press(server, reply.result, user, text=texts.NONE_OF_THEM)
    honest = reply_to(server, user["id"], mark)
    assert "/emner" in parse_html(honest.text)


def test_a_vote_is_acknowledged_and_a_second_vote_refused_politely(server, bot, matcher):
    user = new_user()
    question, _ = answered_question(matcher)
    reply = say(server, question, user)
    _, first = press(server, reply.result, user, text="👍")
    assert first.params.get("text") == texts.VOTE_THANKS_UP
    _, second = press(server, reply.result, user, text="👎")
    assert second.params.get("text") == texts.ALREADY_VOTED

    group, other = new_group(), new_user()  # in a group, everyone may vote once
    answer = say(server, f"/spoerg {question}", user, group)
    assert press(server, answer.result, user, text="👍")[1].params.get("text") == (
        texts.VOTE_THANKS_UP
    )
    assert press(server, answer.result, other, text="👎")[1].params.get("text") == (
        texts.VOTE_THANKS_DOWN
    )
    assert press(server, answer.result, other, text="👎")[1].params.get("text") == (
        texts.ALREADY_VOTED
    )


def test_topics_browse_by_editing_then_answer(server, bot, matcher) -> None:
    user = new_user()
    menu = say(server, "/emner", user)
    assert labels(menu) == list(matcher.kb.categories)
    category = matcher.kb.categories[0]
    mark = server.mark()
    press(server, menu.result, user, text=category)
    edit = reply_to(server, user["id"], mark, "editMessageText")
    first_item = matcher.kb.items_in(category)[0]
    assert edit.result["message_id"] == menu.result["message_id"]
    assert labels(edit)[-1] == texts.BACK_TO_TOPICS
    mark = server.mark()
    press(server, edit.result, user, index=0)
    answer = reply_to(server, user["id"], mark)
    assert answer.text == render.answer_html(first_item, matcher.kb)


def test_small_talk_gets_a_short_reply_and_another_language_a_note(server, bot, matcher) -> None:
    user = new_user()
    for message in ("Hej!", "hvem er du?", "tak for svaret"):
        result = matcher.match(message)
        assert result.status is Status.SMALLTALK, message
        reply = say(server, message, user)
        assert reply.text == render.result_html(result, matcher.kb)
        assert "/emner" in parse_html(reply.text)
        assert labels(reply) == [texts.SHOW_TOPICS]
    question = "Can a peer worker get sick leave?"
    result = matcher.match(question)
    reply = say(server, question, user)
    assert reply.text == render.result_html(result, matcher.kb)
    assert "Danish" in parse_html(reply.text) and "dansk" in parse_html(reply.text)


def test_html_in_a_question_is_never_parsed(server, bot, matcher) -> None:
    question = "<b>hej</b> & <script>"
    result = matcher.match(question)
    reply = say(server, question, new_user())
    assert reply.text == render.result_html(result, matcher.kb)
    assert "<script>" not in reply.text and "<b>hej</b>" not in reply.text
    if result.status is Status.NO_MATCH:  # kept (redacted) for the leaders: shown escaped
        listing = say(server, "/ubesvarede", FakeTelegram.user(ADMIN_ID, "Leder"))
        assert "&lt;script&gt;" in listing.text and "<script>" not in listing.text


def test_a_sticker_gets_a_one_line_hint(server, bot) -> None:
    user = new_user()
    mark = server.mark()
    server.send_sticker(user=user)
    hint = reply_to(server, user["id"], mark)
    assert hint.text.strip() and "\n" not in hint.text.strip()
    mark = server.mark()
    server.send_voice(user=user)
    assert reply_to(server, user["id"], mark).text == hint.text


def test_a_flood_control_429_is_survived_with_every_reply_delivered(server, bot, matcher):
    user = new_user()
    question, result = answered_question(matcher)
    mark = server.mark()
    server.fail_next(429, retry_after=1, method="sendMessage")
    started = time.monotonic()
    for _ in range(3):
        server.send_text(question, user=user)
    server.wait_for(
        lambda c: len([x for x in server.calls[mark:] if x.ok and x.chat_id == user["id"]]) >= 3,
        REPLY_TIMEOUT,
        after=mark,
    )
    sends = [c for c in server.calls[mark:] if c.method == "sendMessage"]
    assert [c.status for c in sends].count(429) >= 1
    delivered = [c for c in sends if c.ok]
    assert [c.text for c in delivered] == [render.result_html(result, matcher.kb)] * 3
    assert all(c.time - started >= 1.0 for c in delivered)  # it waited out retry_after


def test_information_commands_answer_and_unknown_ones_are_pointed_to_help(server, bot) -> None:
    user = new_user()
    for command in ("/kilder", "/privatliv", "/hjaelp", "/help"):
        assert parse_html(say(server, command, user).text).strip()
    assert "/rapport" not in say(server, "/hjaelp", user).text
    assert "/rapport" in say(server, "/hjaelp", FakeTelegram.user(ADMIN_ID, "Leder")).text
    assert "/hjaelp" in say(server, "/findesikke", user).text
    group = new_group()
    mark = server.mark()
    server.send_command("/findesikke", user=user, chat=group)
    server.assert_no_call(lambda c: c.chat_id == group["id"], SILENCE, after=mark)


def test_long_questions_never_make_a_message_telegram_refuses(server, bot) -> None:
    user = new_user()
    mark = server.mark()
    count = 25
    for n in range(count):
        server.send_text(f"Spørgsmål {n} om zyx-æøå-<qwerty> " + "blabla & " * 600, user=user)
    server.wait_for(
        lambda c: (
            len([x for x in server.calls[mark:] if x.ok and x.chat_id == user["id"]]) >= count
        ),
        REPLY_TIMEOUT * 2,
        after=mark,
    )
    listing = say(server, "/ubesvarede", FakeTelegram.user(ADMIN_ID, "Leder"))
    assert len(parse_html(listing.text)) <= 4096
    assert "&lt;qwerty&gt;" in listing.text


def test_polling_survives_a_bad_gateway(server, bot, matcher) -> None:
    user = new_user()
    question, result = answered_question(matcher)
    server.fail_next(502, method="getUpdates")
    first = say(server, question, user)  # answered; the next getUpdates gets the 502
    failed = server.wait_for(lambda c: c.method == "getUpdates" and c.injected, REPLY_TIMEOUT)
    assert failed.status == 502
    second = say(server, question, user)
    assert first.text == second.text == render.result_html(result, matcher.kb)


def test_a_reply_telegram_refuses_on_every_retry_becomes_an_apology_not_silence(
    server, bot, matcher
) -> None:
    user = new_user()
    question, _ = answered_question(matcher)
    server.fail_next(502, method="sendMessage", count=4)  # the first try and all 3 retries
    mark = server.mark()
    server.send_text(question, user=user)
    apology = reply_to(server, user["id"], mark)
    assert apology.text == texts.ERROR
    assert [c.status for c in server.calls_to("sendMessage", after=mark)] == [502] * 4 + [200]


# --- groups ------------------------------------------------------------------------------------


def test_group_silence_unless_asked_mentioned_or_replied_to(server, bot, matcher) -> None:
    user = new_user()
    group = new_group(supergroup=True)
    question, result = answered_question(matcher)
    expected = render.result_html(result, matcher.kb)

    mark = server.mark()
    chatter = server.send_text(question, user=user, chat=group)  # none of its business
    server.send_sticker(user=user, chat=group)
    server.send_text(f"@andre_bot {question}", user=user, chat=group)
    server.send_text(question, user=new_user(), chat=group, reply_to=chatter)
    server.assert_no_call(lambda c: c.chat_id == group["id"], SILENCE, after=mark)

    mark = server.mark()
    asked = server.send_command("/spoerg@faqbot_test_bot", question, user=user, chat=group)
    answer = reply_to(server, group["id"], mark)
    assert answer.text == expected
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]

    mark = server.mark()
    asked = server.send_command("/spoerg", question, user=user, chat=group)
    assert reply_to(server, group["id"], mark).text == expected

    assert say(server, f"/spørg {question}", user, group).text == expected  # no entity: text
    assert say(server, f"@faqbot_test_bot {question}", user, group).text == expected
    assert say(server, question, user, group, reply_to=answer.result).text == expected

    assert say(server, "@faqbot_test_bot", user, group).text == texts.HINT_EMPTY_MENTION
    mark = server.mark()
    server.send_photo(user=user, chat=group, caption="@faqbot_test_bot se her")
    assert reply_to(server, group["id"], mark).text == texts.HINT_NOT_TEXT

    mark = server.mark()
    server.send_command("/spoerg", user=user, chat=group)  # no question: a hint, no answer
    assert "/spoerg" in parse_html(reply_to(server, group["id"], mark).text)
    server.assert_no_call(
        lambda c: c.chat_id == group["id"] and c.method == "sendMessage",
        SILENCE,
        after=server.mark(),
    )


def test_with_group_privacy_on_every_way_to_ask_still_arrives(server, bot, matcher) -> None:
    user, group = new_user(), new_group()
    question, result = answered_question(matcher)
    expected = render.result_html(result, matcher.kb)
    server.privacy_mode = True  # BotFather's default for new bots
    try:
        withheld = len(server.withheld)
        server.send_text(question, user=user, chat=group)
        assert len(server.withheld) == withheld + 1
        answer = say(server, f"/spoerg {question}", user, group)
        assert answer.text == expected
        assert say(server, f"@faqbot_test_bot {question}", user, group).text == expected
        assert say(server, question, user, group, reply_to=answer.result).text == expected
    finally:
        server.privacy_mode = False


# --- leaders -----------------------------------------------------------------------------------


def test_a_leaders_start_gives_the_leader_the_full_menu(server, bot) -> None:
    admin = FakeTelegram.user(ADMIN_ID, "Leder")
    mark = server.mark()
    say(server, "/start", admin)
    server.wait_for(
        lambda c: c.method == "setMyCommands" and c.ok and c.params.get("scope"),
        REPLY_TIMEOUT,
        after=mark,
    )
    menu = [command["command"] for command in server.commands(f"chat(chat_id={ADMIN_ID})")]
    assert {"rapport", "ubesvarede", "genindlaes", "spoerg"} <= set(menu)
    assert "rapport" not in [command["command"] for command in server.commands()]


def test_admin_report_names_questions_and_sends_the_chart(server, bot, matcher) -> None:
    question, result = answered_question(matcher)
    say(server, question, new_user())
    admin = FakeTelegram.user(ADMIN_ID, "Leder")
    mark = server.mark()
    server.send_command("/rapport", user=admin)
    photo = reply_to(server, ADMIN_ID, mark, "sendPhoto")
    assert photo.files["photo"].data.startswith(b"\x89PNG\r\n\x1a\n")
    assert photo.result["photo"][-1]["width"] > 100
    summary = [c for c in server.calls_to("sendMessage", after=mark) if c.chat_id == ADMIN_ID]
    visible = "\n".join(parse_html(c.text) for c in summary)
    assert visible.startswith("Rapport: hvad kollegerne spørger om\n")
    assert "(30 dage)" in visible or "Loggen går kun" in visible
    assert result.item is not None and result.item.question[:30] in visible
    for item in matcher.kb.items:  # named by their question, never by id
        assert f" {item.id}" not in visible


def test_non_admin_report_is_refused_with_nothing_leaked(server, bot) -> None:
    user = new_user()
    mark = server.mark()
    refusal = say(server, "/rapport", user)
    assert refusal.text == texts.NOT_ADMIN
    for command in ("/ubesvarede", "/genindlaes", "/rapport 7"):
        assert say(server, command, user).text == texts.NOT_ADMIN
    time.sleep(0.3)
    to_user = [c for c in server.calls[mark:] if c.chat_id == user["id"]]
    assert {c.method for c in to_user} == {"sendMessage"}
    assert all(c.text == texts.NOT_ADMIN for c in to_user)

    group = new_group()  # a leader in a group gets no figures either
    admin = FakeTelegram.user(ADMIN_ID, "Leder")
    assert say(server, "/rapport", admin, group).text == texts.ADMIN_PRIVATE_ONLY


def test_reload_with_a_broken_file_keeps_the_old_knowledge(server, bot, matcher, knowledge_dir):
    admin = FakeTelegram.user(ADMIN_ID, "Leder")
    broken = sorted((knowledge_dir / "items").glob("*.yaml"))[0]
    original = broken.read_text(encoding="utf-8")
    question, result = answered_question(matcher)
    try:
        broken.write_text(original + "\n  - this: [is not: valid\n", encoding="utf-8")
        refusal = say(server, "/genindlaes", admin)
        assert broken.name in refusal.text
        assert refusal.text != texts.reload_ok(matcher.kb)
        still = say(server, question, new_user())
        assert still.text == render.result_html(result, matcher.kb)
    finally:
        broken.write_text(original, encoding="utf-8")
    reloaded = say(server, "/genindlaes", admin)
    assert reloaded.text == texts.reload_ok(kb_module.load(knowledge_dir))


def test_buttons_from_before_a_reload_are_refused_not_misanswered(
    server, bot, matcher, knowledge_dir
) -> None:
    user, admin = new_user(), FakeTelegram.user(ADMIN_ID, "Leder")
    question, result = answered_question(matcher)
    reply = say(server, question, user)
    see_also = [label for label in labels(reply) if label.startswith(texts.SEE_ALSO)]
    assert see_also, "the answered item has related items"

    first = matcher.kb.items[0]  # a new item before it moves every item's index by one
    path = next(
        p
        for p in sorted((knowledge_dir / "items").glob("*.yaml"))
        if f"id: {first.id}\n" in p.read_text(encoding="utf-8")
    )
    original = path.read_text(encoding="utf-8")
    zebra = (
        "- id: e2e-zebra\n"
        f"  category: {first.category}\n"
        "  question: Hvor mange striber har zebraen i testen?\n"
        "  answer: Zebraen i testen har præcis syv striber, hverken flere eller færre.\n"
        "  sources:\n"
        f"    - source: {first.sources[0].source}\n"
        f"      section: {json.dumps(first.sources[0].section, ensure_ascii=False)}\n\n"
    )
    try:
        path.write_text(zebra + original, encoding="utf-8")
        # load, as /genindlaes does: validate's house rules ask more of a finished item.
        new_kb = kb_module.load(knowledge_dir)
        assert say(server, "/genindlaes", admin).text == texts.reload_ok(new_kb)

        mark = server.mark()
        _, stale = press(server, reply.result, user, text=see_also[0])
        assert stale.params.get("text") == texts.STALE_BUTTON
        _, vote = press(server, reply.result, user, text="👍")  # votes name no item
        assert vote.params.get("text") == texts.VOTE_THANKS_UP
        assert server.calls_to("sendMessage", after=mark) == []

        zebra_answer = say(server, "Hvor mange striber har zebraen i testen?", user)
        assert "syv striber" in zebra_answer.text and "Kilde:" in zebra_answer.text
    finally:
        path.write_text(original, encoding="utf-8")
        restored = say(server, "/genindlaes", admin)
    assert restored.text == texts.reload_ok(matcher.kb)
    assert say(server, question, new_user()).text == render.result_html(result, matcher.kb)


# --- process life cycle ------------------------------------------------------------------------


def test_sigterm_stops_cleanly_with_every_question_logged(
    fake, tmp_path, matcher, knowledge_dir
) -> None:
    process = BotProcess(fake, tmp_path, FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir)).start()
    try:
        question, _ = answered_question(matcher)
        users = [new_user() for _ in range(4)]
        for user in users:
            reply = say(fake, question, user)
        press(fake, reply.result, users[-1], text="👍")
        say(fake, "ingenting om noget som helst xyzzy", users[0])
    finally:
        code = process.terminate()
    output = process.output()
    assert code == 0, output
    assert "Traceback" not in output, output
    with sqlite3.connect(process.database) as db:
        assert db.execute("SELECT count(*) FROM questions").fetchone() == (5,)
        assert db.execute("SELECT count(*) FROM votes").fetchone() == (1,)
    assert "TEST-token" not in output  # the token never reaches the log


def test_webhook_mode_answers_real_deliveries_and_refuses_forged_ones(
    tmp_path, matcher, knowledge_dir, unused_port
) -> None:
    local = FakeTelegram(local_mode=True).start()  # a self-hosted Bot API allows http hooks
    process = BotProcess(
        local, tmp_path, FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir), FAQBOT_WEBHOOK_SECRET="s3cr3t"
    )
    hook = f"http://127.0.0.1:{unused_port}/faqbot"
    try:
        process.start("--webhook-url", hook, "--port", str(unused_port))
        registered = local.calls_to("setWebhook")[-1]
        assert registered.params["url"] == hook
        assert registered.params["secret_token"] == "s3cr3t"
        assert registered.params["allowed_updates"] == ["message", "callback_query"]

        question, result = answered_question(matcher)
        user = new_user()
        assert say(local, question, user).text == render.result_html(result, matcher.kb)
        assert all(status == 200 for _, status in local.webhook_deliveries)

        forged = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": FakeTelegram.private_chat(user),
                "from": user,
                "text": question,
            },
        }
        for secret in (None, "wrong"):
            request = urllib.request.Request(hook, data=json.dumps(forged).encode())
            request.add_header("Content-Type", "application/json")
            if secret:
                request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            refused.value.close()
            assert refused.value.code == 403
        mark = local.mark()
        local.assert_no_call("sendMessage", SILENCE, after=mark)
    finally:
        code = process.terminate()
        local.stop()
    assert code == 0, process.output()


def test_run_without_a_token_exits_1_with_one_sentence(fake, tmp_path) -> None:
    env = bot_env(fake, tmp_path)
    del env["TELEGRAM_BOT_TOKEN"]
    done = subprocess.run(
        [sys.executable, "-m", "faqbot", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0]
    assert fake.calls == []  # it never talked to Telegram


# --- the crisis check --------------------------------------------------------------------------


def test_a_crisis_deep_in_a_long_message_gets_the_safety_text_and_a_question_the_note(
    server, bot, matcher
) -> None:
    user = new_user()
    work = "Jeg har nogle spørgsmål om vores nye peer, hendes løn, supervision og arbejdstid. "
    message = work * 30 + "Men lige nu står min kollega ude på taget og siger hun vil springe."
    assert 2000 < len(message) <= 4096
    crisis = say(server, message, user)
    expected = matcher.match(message)
    assert expected.status is Status.SAFETY
    assert crisis.text == render.result_html(expected, matcher.kb)
    assert "112" in crisis.text and crisis.params.get("reply_markup") is None
    question = "Hvordan taler man med en borger om selvmordstanker?"
    noted = say(server, question, user)
    result = matcher.match(question)
    assert result.safety_note and result.status is not Status.SAFETY
    assert noted.text.startswith(matcher.kb.safety.note.split("\n")[0][:40])
    assert noted.text == render.result_html(result, matcher.kb)
