"""The fake Bot API server itself, driven by python-telegram-bot's real ``Bot`` over HTTP.

Why: the end-to-end tests are only as good as the fake; these tests pin it to the Bot API's
documented behaviour as python-telegram-bot encodes and decodes it.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from fake_telegram import DEFAULT_TOKEN, FakeTelegram, detect_entities, parse_html
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, NetworkError
from telegram.error import RetryAfter as TelegramRetryAfter

pytestmark = pytest.mark.e2e

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0\x08\x06\x00\x00\x00"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
ALICE = FakeTelegram.user(500_001, "Alice", "alice")


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url) as bot:
        yield bot


def raw_call(fake: FakeTelegram, path: str, data: bytes | None = None, content_type: str = ""):
    """A plain HTTP request to the fake, returning (status, JSON body)."""
    request = urllib.request.Request(f"http://127.0.0.1:{fake.port}{path}", data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


async def test_get_me_returns_the_bot_user(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "faqbot_test_bot" and me.id == 123456


async def test_wrong_token_is_unauthorized_and_unknown_method_not_found(fake: FakeTelegram):
    with pytest.raises(InvalidToken, match="rejected"):
        async with Bot("123456:wrong", base_url=fake.base_url) as wrong:
            await wrong.get_me()
    status, body = await asyncio.to_thread(raw_call, fake, "/bot123456:wrong/getMe")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await asyncio.to_thread(raw_call, fake, f"/bot{DEFAULT_TOKEN}/noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")


async def test_methods_are_case_insensitive_and_accept_get_form_and_json(fake: FakeTelegram):
    fake.send_text("hej", user=ALICE)
    chat = ALICE["id"]
    form = urllib.parse.urlencode({"chat_id": chat, "text": "form"}).encode()
    status, body = await asyncio.to_thread(
        raw_call,
        fake,
        f"/bot{DEFAULT_TOKEN}/SENDMESSAGE",
        form,
        "application/x-www-form-urlencoded",
    )
    assert status == 200 and body["result"]["text"] == "form"
    payload = json.dumps({"chat_id": str(chat), "text": "json", "disable_notification": True})
    status, body = await asyncio.to_thread(
        raw_call, fake, f"/bot{DEFAULT_TOKEN}/sendMessage", payload.encode(), "application/json"
    )
    assert status == 200 and body["result"]["chat"]["id"] == chat
    query = urllib.parse.urlencode({"chat_id": chat, "text": "get"})
    status, body = await asyncio.to_thread(
        raw_call, fake, f"/bot{DEFAULT_TOKEN}/sendMessage?{query}"
    )
    assert status == 200 and body["result"]["text"] == "get"
    assert [c.params["chat_id"] for c in fake.calls_to("sendMessage")] == [chat] * 3


async def test_long_polling_waits_for_timeout_then_answers_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3


async def test_long_polling_returns_as_soon_as_an_update_arrives(fake: FakeTelegram, bot: Bot):
    async def later() -> None:
        await asyncio.sleep(0.3)
        fake.send_text("hej", user=ALICE)

    started = time.monotonic()
    task = asyncio.create_task(later())
    updates = await bot.get_updates(timeout=10)
    await task
    assert time.monotonic() - started < 3
    assert [u.message.text for u in updates] == ["hej"]


async def test_offset_confirms_updates_and_limit_caps_them(fake: FakeTelegram, bot: Bot):
    for text in ("en", "to", "tre"):
        fake.send_text(text, user=ALICE)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["en", "to"]
    again = await bot.get_updates()  # nothing confirmed yet: all three still there
    assert [u.message.text for u in again] == ["en", "to", "tre"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["tre"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    for text in ("fire", "fem"):
        fake.send_text(text, user=ALICE)
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["fem"]


async def test_allowed_updates_filters_and_is_remembered(fake: FakeTelegram, bot: Bot):
    sent = await _message_with_button(fake, bot)
    fake.send_text("tekst", user=ALICE)
    fake.press_button(sent, user=ALICE, data="ja")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["ja"]
    fake.send_text("igen", user=ALICE)
    assert [u.callback_query.data for u in await bot.get_updates()] == ["ja"]
    assert fake.calls_to("getUpdates")[0].params["allowed_updates"] == ["callback_query"]


async def test_a_newer_get_updates_terminates_the_waiting_one(fake, bot: Bot) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await waiting
    # What the replica tests assert never happens is seen when it does: a 409 and an overlap.
    assert [call.status for call in fake.calls_to("getUpdates")] == [200, 409]
    [(first, second)] = fake.overlapping_polls()
    assert first.status == 409 and second.status == 200


async def test_webhook_blocks_get_updates_until_deleted(fake: FakeTelegram, bot: Bot):
    with pytest.raises(BadRequest, match=r"(?i)https url"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    fake.send_text("hej", user=ALICE)
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert await bot.get_updates() == ()


async def test_webhook_delivers_updates_with_the_secret_and_retries_failures(unused_port):
    received: list[tuple[str | None, dict]] = []
    answers = [500, 200, 200]

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_port).start()
    local = FakeTelegram(local_mode=True).start()
    try:
        async with Bot(DEFAULT_TOKEN, base_url=local.base_url) as bot:
            url = f"http://127.0.0.1:{unused_port}/hook"
            assert await bot.set_webhook(url, secret_token="hemmelig")
            local.send_text("første", user=ALICE)
            local.send_text("anden", user=ALICE)
            for _ in range(50):
                if len(local.webhook_deliveries) >= 3:
                    break
                await asyncio.sleep(0.1)
            texts = [update["message"]["text"] for _, update in received]
            assert texts == ["første", "første", "anden"]  # the failed one came again, in order
            assert {secret for secret, _ in received} == {"hemmelig"}
            assert [status for _, status in local.webhook_deliveries] == [500, 200, 200]
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 0 and "500" in info.last_error_message
    finally:
        local.stop()
        await runner.cleanup()


async def test_the_cloud_api_wants_https_on_a_few_ports(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="only on ports"):
        await bot.set_webhook("https://example.org:8080/hook")
    assert await bot.set_webhook("https://example.org:8443/hook")


async def test_send_message_returns_a_full_message(fake: FakeTelegram, bot: Bot):
    incoming = fake.send_text("hej", user=ALICE)
    message = await bot.send_message(
        ALICE["id"],
        "<b>Svar</b> &amp; kilde",
        parse_mode="HTML",
        reply_parameters=ReplyParameters(incoming["message_id"]),
    )
    assert message.text == "Svar & kilde"
    assert message.from_user.id == 123456 and message.from_user.is_bot
    assert message.chat.id == ALICE["id"] and message.chat.type == "private"
    assert message.message_id == incoming["message_id"] + 1 and message.date is not None
    assert message.reply_to_message.message_id == incoming["message_id"]
    call = fake.calls_to("sendMessage")[0]
    assert call.params["reply_parameters"] == {"message_id": incoming["message_id"]}
    assert call.text == "<b>Svar</b> &amp; kilde"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>hej", "Can't find end tag"),
        ("<b>hej</i>", "Unmatched end tag"),
        ("hej</b>", "Unexpected end tag"),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("linje<br>linje", 'Unsupported start tag "br"'),
        ("Tom & Jerry", "must be escaped"),
        ("1 < 2", "Unsupported start tag"),
        ("a &nbsp; b", "Unsupported HTML entity"),
        ('<a title="x">link</a>', 'must have attribute "href"'),
        ("<code><b>x</b></code>", "can't be nested"),
    ],
)
async def test_bad_html_is_rejected_like_telegram(fake, bot: Bot, text: str, problem: str):
    fake.send_text("hej", user=ALICE)
    with pytest.raises(BadRequest, match="Can't parse entities") as raised:
        await bot.send_message(ALICE["id"], text, parse_mode="HTML")
    assert problem.lower() in str(raised.value).lower()
    assert fake.calls_to("sendMessage")[0].status == 400


def test_valid_html_is_accepted_and_unescaped() -> None:
    html = (
        '<b>a</b> <i>b</i> <a href="https://x.dk/?a=1&amp;b=2">c</a> '
        '<span class="tg-spoiler">d</span> <pre><code class="language-py">e</code></pre> '
        "<blockquote expandable>f</blockquote> &lt;g&gt; &#230;&#xF8; &quot;"
    )
    assert parse_html(html) == 'a b c d e f <g> æø "'


async def test_text_limits_count_visible_characters(fake: FakeTelegram, bot: Bot):
    fake.send_text("hej", user=ALICE)
    long_markup = "<b>" + "x" * 4096 + "</b>"
    assert len((await bot.send_message(ALICE["id"], long_markup, parse_mode="HTML")).text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALICE["id"], "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALICE["id"], "<b> </b>", parse_mode="HTML")


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(42, "hej")


async def _message_with_button(fake: FakeTelegram, bot: Bot):
    fake.send_text("hej", user=ALICE)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="ja"),
                InlineKeyboardButton("Nej", callback_data="nej"),
            ]
        ]
    )
    message = await bot.send_message(ALICE["id"], "Mente du?", reply_markup=keyboard)
    return message.to_dict()


async def test_buttons_round_trip_and_callback_answers_once(fake: FakeTelegram, bot: Bot):
    sent = await _message_with_button(fake, bot)
    call = fake.calls_to("sendMessage")[0]
    assert [b["callback_data"] for b in call.buttons()] == ["ja", "nej"]
    query = fake.press_button(sent, user=ALICE, text="Nej")
    update = (await bot.get_updates())[-1]
    assert update.callback_query.data == "nej" and update.callback_query.id == query["id"]
    assert update.callback_query.message.message_id == sent["message_id"]
    assert update.callback_query.from_user.id == ALICE["id"]
    assert fake.unanswered_callback_queries() == [query["id"]]
    assert await bot.answer_callback_query(query["id"], text="Tak!")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("999")
    assert fake.unanswered_callback_queries() == []


async def test_callback_data_over_64_bytes_is_rejected(fake: FakeTelegram, bot: Bot):
    fake.send_text("hej", user=ALICE)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="æ" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALICE["id"], "x", reply_markup=keyboard)


async def test_edits_change_the_message_and_refuse_no_change(fake: FakeTelegram, bot: Bot):
    sent = await _message_with_button(fake, bot)
    edited = await bot.edit_message_text("Svaret", ALICE["id"], sent["message_id"])
    assert edited.text == "Svaret" and edited.reply_markup is None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Svaret", ALICE["id"], sent["message_id"])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="v:1")]])
    edited = await bot.edit_message_reply_markup(
        ALICE["id"], sent["message_id"], reply_markup=keyboard
    )
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "v:1"
    assert fake.bot_message(ALICE["id"], sent["message_id"])["reply_markup"] == keyboard.to_dict()
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALICE["id"], 999)
    user_message = fake.send_text("min", user=ALICE)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", ALICE["id"], user_message["message_id"])


async def test_delete_message_and_chat_action(fake: FakeTelegram, bot: Bot) -> None:
    sent = await _message_with_button(fake, bot)
    assert await bot.delete_message(ALICE["id"], sent["message_id"])
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE["id"], sent["message_id"])
    assert await bot.send_chat_action(ALICE["id"], "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(ALICE["id"], "dancing")


async def test_send_photo_records_the_upload(fake: FakeTelegram, bot: Bot) -> None:
    fake.send_text("/rapport", user=ALICE)
    message = await bot.send_photo(ALICE["id"], PNG, caption="<b>Rapport</b>", parse_mode="HTML")
    assert message.caption == "Rapport"
    assert (message.photo[-1].width, message.photo[-1].height) == (640, 480)
    call = fake.calls_to("sendPhoto")[0]
    assert call.files["photo"].data == PNG and call.files["photo"].data.startswith(b"\x89PNG")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(ALICE["id"], b"not an image")
    too_wide = PNG[:16] + (8000).to_bytes(4, "big") + (300).to_bytes(4, "big") + PNG[24:]
    with pytest.raises(BadRequest, match="Photo_invalid_dimensions"):
        await bot.send_photo(ALICE["id"], too_wide)
    document = await bot.send_document(ALICE["id"], b"a,b\n1,2\n", filename="rapport.csv")
    assert document.document.file_name == "rapport.csv"
    assert fake.calls_to("sendDocument")[0].files["document"].data == b"a,b\n1,2\n"


async def test_commands_round_trip_and_are_validated(fake: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand("start", "Kom i gang"), BotCommand("spoerg", "Stil et spørgsmål")]
    assert await bot.set_my_commands(commands)
    assert [c.command for c in await bot.get_my_commands()] == ["start", "spoerg"]
    assert fake.commands()[1]["description"] == "Stil et spørgsmål"
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Spørg", "nej")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Chat not found"):  # the user never wrote to the bot
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(ALICE["id"]))
    fake.send_text("/start", user=ALICE)
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeChat(ALICE["id"]))
    assert fake.commands(f"chat(chat_id={ALICE['id']})") == [commands[0].to_dict()]
    assert [c.command for c in await bot.get_my_commands()] == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_raises_retry_after_and_floods_until_it_passes(fake, bot: Bot):
    fake.send_text("hej", user=ALICE)
    fake.fail_next(429, retry_after=1, method="sendMessage")
    with pytest.raises(TelegramRetryAfter, match="Retry in 1"):
        await bot.send_message(ALICE["id"], "1")
    with pytest.raises(TelegramRetryAfter):  # flood control holds until retry_after passed
        await bot.send_message(ALICE["id"], "2")
    await asyncio.sleep(1.05)
    assert (await bot.send_message(ALICE["id"], "3")).text == "3"
    first = fake.calls_to("sendMessage")[0]
    assert first.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }


async def test_fail_every_nth_call_with_502(fake: FakeTelegram, bot: Bot) -> None:
    fake.send_text("hej", user=ALICE)
    fake.fail_every(2, 502, method="sendMessage")
    outcomes = []
    for n in range(4):
        try:
            await bot.send_message(ALICE["id"], str(n))
            outcomes.append("ok")
        except NetworkError as error:
            outcomes.append(str(error))
    assert outcomes == ["ok", "Bad Gateway", "ok", "Bad Gateway"]
    fake.clear_failures()
    assert await bot.send_message(ALICE["id"], "x")


async def test_reset_drops_the_connection_and_carries_nothing_out(fake: FakeTelegram, bot: Bot):
    fake.send_text("hej", user=ALICE)
    fake.reset_next(method="sendMessage")
    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await bot.send_message(ALICE["id"], "lost")
    dropped = fake.calls_to("sendMessage")[-1]
    assert (dropped.status, dropped.injected) == (0, True)
    assert await bot.send_message(ALICE["id"], "kept")
    assert [c.text for c in fake.sent_messages(ALICE["id"])] == ["kept"]


@pytest.mark.parametrize("deliver", [False, True])
async def test_a_hang_outlasts_the_read_timeout_and_may_carry_the_call_out(
    fake: FakeTelegram, bot: Bot, deliver: bool
) -> None:
    fake.send_text("hej", user=ALICE)
    fake.hang_next(0.6, method="sendMessage", deliver=deliver)
    started = time.monotonic()
    with pytest.raises(NetworkError):  # TimedOut
        await bot.send_message(ALICE["id"], "slow", read_timeout=0.2)
    assert time.monotonic() - started < 0.5
    await asyncio.sleep(0.8)
    assert [c.text for c in fake.sent_messages(ALICE["id"])] == (["slow"] if deliver else [])


async def test_group_messages_commands_mentions_and_replies(fake: FakeTelegram, bot: Bot):
    group = FakeTelegram.group_chat(supergroup=True)
    fake.send_text("bare snak", user=ALICE, chat=group)
    fake.send_command("/spoerg@faqbot_test_bot", "hvad er en peer?", user=ALICE, chat=group)
    fake.send_mention("hvad må en peer?", user=ALICE, chat=group)
    answer = await bot.send_message(group["id"], "Svar")
    fake.send_reply("og hvad så?", answer.to_dict(), user=ALICE, chat=group)
    updates = await bot.get_updates()
    messages = [u.message for u in updates]
    assert all(m.chat.type == "supergroup" and m.chat.id == group["id"] for m in messages)
    assert messages[0].entities == ()
    assert messages[1].parse_entities(["bot_command"]).popitem()[1] == "/spoerg@faqbot_test_bot"
    assert messages[2].parse_entities(["mention"]).popitem()[1] == "@faqbot_test_bot"
    assert messages[3].reply_to_message.from_user.id == 123456


async def test_privacy_mode_hides_group_chatter(bot: Bot) -> None:
    fake = FakeTelegram(privacy_mode=True).start()
    try:
        async with Bot(DEFAULT_TOKEN, base_url=fake.base_url) as private_bot:
            assert not (await private_bot.get_me()).can_read_all_group_messages
            group = FakeTelegram.group_chat()
            fake.send_text("bare snak", user=ALICE, chat=group)
            fake.send_text("/spoerg@andenbot hej", user=ALICE, chat=group)
            fake.send_text("/spoerg hej", user=ALICE, chat=group)
            fake.send_text("hej @faqbot_test_bot", user=ALICE, chat=group)
            fake.send_text("privat", user=ALICE)
            seen = [u.message.text for u in await private_bot.get_updates()]
            assert seen == ["/spoerg hej", "hej @faqbot_test_bot", "privat"]
            assert [m["text"] for m in fake.withheld] == ["bare snak", "/spoerg@andenbot hej"]
    finally:
        fake.stop()
    assert (await bot.get_me()).can_read_all_group_messages  # the default: privacy off


async def test_sticker_photo_and_voice_messages(fake: FakeTelegram, bot: Bot) -> None:
    fake.send_sticker(user=ALICE)
    fake.send_photo(user=ALICE, caption="se her")
    fake.send_voice(user=ALICE)
    sticker, photo, voice = (u.message for u in await bot.get_updates())
    assert sticker.sticker.emoji == "👍" and sticker.text is None
    assert photo.photo[-1].width == 1280 and photo.caption == "se her"
    assert voice.voice.api_kwargs == {} and voice.voice.mime_type == "audio/ogg"


def test_entities_use_utf16_offsets() -> None:
    assert detect_entities("😀 /start@faqbot_test_bot og @alice_k") == [
        {"type": "bot_command", "offset": 3, "length": 22},
        {"type": "mention", "offset": 29, "length": 8},
    ]
    assert detect_entities("a/b og mail@example.org") == []


async def test_log_out_makes_the_token_unauthorized(bot: Bot) -> None:
    assert await bot.close()
    assert await bot.log_out()
    with pytest.raises(InvalidToken):
        await bot.get_me()


async def test_wait_for_reports_the_calls_it_saw(fake: FakeTelegram, bot: Bot) -> None:
    mark = fake.mark()
    await bot.get_me()
    call = await fake.wait_for_async("getMe", 2, after=mark)
    assert call.ok and call.result["username"] == "faqbot_test_bot"
    with pytest.raises(AssertionError, match="getMe 200"):
        fake.wait_for("sendMessage", 0.2, after=mark)
    fake.assert_no_call("sendMessage", 0.1, after=mark)


async def test_raw_updates_pending_queue_and_poll_tracking(fake: FakeTelegram, bot: Bot) -> None:
    polls = fake.polls_started
    fake.push_update({"edited_message": {**fake.send_text("hej", user=ALICE), "edit_date": 1}})
    assert [next(iter(set(u) - {"update_id"})) for u in fake.pending_updates()] == [
        "message",
        "edited_message",
    ]
    updates = await bot.get_updates(allowed_updates=["message"])
    fake.wait_for_poll(1, after=polls)
    assert [u.message.text for u in updates] == ["hej"]
    assert [u["message"]["text"] for u in fake.pending_updates()] == ["hej"]  # not yet confirmed
    await bot.send_message(ALICE["id"], "svar")
    assert [c.text for c in fake.sent_messages(ALICE["id"])] == ["svar"]
    assert fake.sent_messages(42) == []
