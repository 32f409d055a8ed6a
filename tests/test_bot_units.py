"""Unit tests of the bot's pure parts: callback data, keyboards, addressing, admin check, texts,
the command table, the token filter and the application's wiring. No network."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest
from telegram.error import NetworkError
from telegram.ext import AIORateLimiter, CallbackQueryHandler, CommandHandler

from faqbot import kb as kb_module
from faqbot.bot import addressing, app, keyboards, texts
from faqbot.bot.commands import COMMANDS, admin_commands, public_commands
from faqbot.bot.delivery import DeliveryProcessor, InboxQueue
from faqbot.bot.handlers import parse_days
from faqbot.bot.tokenfilter import MASK, TokenFilter, install_token_filter
from faqbot.bot.transport import RetryingRequest
from faqbot.matcher import MAX_QUERY_CHARS
from faqbot.settings import KeepText, Settings

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
QID = "0123456789abcdef"  # the question log's ids are 16 hex chars
TOKEN = "123456:SECRET-token-value"

_TAG = re.compile(r"</?(b|i|u|s|a|code|pre|blockquote)(\s+href=\"[^\"<>]*\")?>")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


def assert_telegram_html(text: str) -> None:
    """Only Telegram's tags, balanced; no bare '<', '>' or '&' left in the visible text."""
    stack: list[str] = []
    for match in _TAG.finditer(text):
        name = match.group(1)
        if match.group(0).startswith("</"):
            assert stack and stack[-1] == name, f"unbalanced </{name}> in {text!r}"
            stack.pop()
        else:
            stack.append(name)
    assert not stack, f"unclosed tags {stack} in {text!r}"
    visible = _ENTITY.sub("", _TAG.sub("", text))
    assert not re.search(r"[<>&]", visible), f"unescaped character in {text!r}"
    assert len(_TAG.sub("", text)) <= texts.MAX_MESSAGE_CHARS


@pytest.fixture(scope="module")
def kb() -> kb_module.KnowledgeBase:
    return kb_module.load(KNOWLEDGE)


# --- callback data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        keyboards.Topics(),
        keyboards.CategoryRef(12, "abcdef"),
        keyboards.ItemRef(0, "012345"),
        keyboards.Pick(999_999, "ffffff", QID),
        keyboards.NoneOfThem(QID),
        keyboards.Vote(QID, True),
        keyboards.Vote(QID, False),
    ],
)
def test_callback_data_round_trips_within_64_bytes(action: keyboards.Action) -> None:
    data = keyboards.encode(action)
    assert len(data.encode("utf-8")) <= keyboards.MAX_CALLBACK_BYTES
    assert keyboards.decode(data) == action


@pytest.mark.parametrize(
    "data",
    [None, "", "x", "t|1", "c|1", "c|a|abcdef", "c|1|ABCDEF", "c|1|abc", "i|-1|abcdef",
     "p|1|abcdef", "p|1|abcdef|bad id!", "n|", "v|q|2", "v|q", "c|1234567|abcdef", "i|1|abcdef|x",
     # issue 14: an empty vote counted as 👎, digits Python reads but int() refuses
     f"v|{QID}|", "v|q|01", "i|²|abcdef", "c|²|abcdef", f"p|²|abcdef|{QID}", "i|٣|abcdef",
     "i|１|abcdef", f"v|{QID}\n|1", "i|1|abcdef\n", f"n|{QID}\n"],
)  # fmt: skip
def test_malformed_callback_data_decodes_to_none(data: str | None) -> None:
    assert keyboards.decode(data) is None


def test_overlong_callback_data_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        keyboards.encode(keyboards.NoneOfThem("a" * 40 + "b" * 30))


def test_items_resolve_by_index_and_checksum(kb: kb_module.KnowledgeBase) -> None:
    item = kb.items[5]
    ref = keyboards.item_ref(kb, item)
    assert ref == keyboards.ItemRef(5, keyboards.check(item.id))
    assert keyboards.resolve_item(kb, ref.index, ref.check) is item


def test_an_items_button_index_is_its_place_in_the_list(kb: kb_module.KnowledgeBase) -> None:
    """The lookup by id agrees with the obvious scan of ``kb.items``, also after a reload."""
    for current in (kb, replace(kb, items=tuple(reversed(kb.items)))):
        for index, item in enumerate(current.items):
            assert keyboards.item_ref(current, item).index == index
    with pytest.raises(KeyError):
        keyboards.item_ref(replace(kb, items=kb.items[:3]), kb.items[5])


def test_buttons_go_stale_when_a_reload_moves_items(kb: kb_module.KnowledgeBase) -> None:
    """After /genindlaes changes the item list, an old button must not answer a different item."""
    ref = keyboards.item_ref(kb, kb.items[5])
    reordered = replace(kb, items=tuple(reversed(kb.items)))
    assert keyboards.resolve_item(reordered, ref.index, ref.check) is None
    shrunk = replace(kb, items=kb.items[:3])
    assert keyboards.resolve_item(shrunk, ref.index, ref.check) is None
    assert keyboards.resolve_item(kb, len(kb.items), ref.check) is None


def test_categories_resolve_and_go_stale(kb: kb_module.KnowledgeBase) -> None:
    name = kb.categories[1]
    assert keyboards.resolve_category(kb, 1, keyboards.check(name)) == name
    assert keyboards.resolve_category(kb, 0, keyboards.check(name)) is None
    assert keyboards.resolve_category(kb, 99, keyboards.check(name)) is None


# --- keyboards ----------------------------------------------------------------------------------


def _buttons(markup) -> list:
    return [button for row in markup.inline_keyboard for button in row]


def test_answer_keyboard_has_see_also_then_votes(kb: kb_module.KnowledgeBase) -> None:
    item = next(item for item in kb.items if item.related)
    buttons = _buttons(keyboards.answer_keyboard(kb, item, QID))
    see_also = buttons[: len(item.related)]
    for button, related_id in zip(see_also, item.related, strict=True):
        assert button.text.startswith(texts.SEE_ALSO)
        action = keyboards.decode(button.callback_data)
        assert isinstance(action, keyboards.ItemRef)
        assert keyboards.resolve_item(kb, action.index, action.check).id == related_id
    assert [b.text for b in buttons[-2:]] == ["👍", "👎"]
    assert keyboards.decode(buttons[-2].callback_data) == keyboards.Vote(QID, True)
    assert keyboards.decode(buttons[-1].callback_data) == keyboards.Vote(QID, False)


def test_browsed_answers_have_no_votes(kb: kb_module.KnowledgeBase) -> None:
    item = next(item for item in kb.items if item.related)
    texts_ = [b.text for b in _buttons(keyboards.answer_keyboard(kb, item, None))]
    assert "👍" not in texts_ and len(texts_) == len(item.related)


def test_clarify_keyboard_offers_each_suggestion_and_none_of_them(
    kb: kb_module.KnowledgeBase,
) -> None:
    items = kb.items[:3]
    buttons = _buttons(keyboards.clarify_keyboard(kb, items, QID))
    assert [b.text for b in buttons[:3]] == [keyboards.label(i.question) for i in items]
    picks = [keyboards.decode(b.callback_data) for b in buttons[:3]]
    assert [keyboards.resolve_item(kb, p.index, p.check) for p in picks] == list(items)
    assert all(p.question_id == QID for p in picks)
    assert buttons[-1].text == texts.NONE_OF_THEM
    assert keyboards.decode(buttons[-1].callback_data) == keyboards.NoneOfThem(QID)


def test_every_keyboard_of_the_real_knowledge_base_fits_telegram(
    kb: kb_module.KnowledgeBase,
) -> None:
    markups = [keyboards.topics_keyboard(kb), keyboards.no_match_keyboard()]
    markups += [keyboards.category_keyboard(kb, name) for name in kb.categories]
    markups += [keyboards.answer_keyboard(kb, item, QID) for item in kb.items]
    markups.append(keyboards.clarify_keyboard(kb, kb.items[-3:], QID))
    for markup in filter(None, markups):
        buttons = _buttons(markup)
        assert 1 <= len(buttons) <= 100
        for button in buttons:
            assert button.text.strip() and len(button.text) <= keyboards.BUTTON_CHARS
            assert 1 <= len(button.callback_data.encode("utf-8")) <= 64
            assert keyboards.decode(button.callback_data) is not None


def test_topics_then_category_then_back(kb: kb_module.KnowledgeBase) -> None:
    topics = _buttons(keyboards.topics_keyboard(kb))
    assert [b.text for b in topics] == [keyboards.label(name) for name in kb.categories]
    first = keyboards.decode(topics[0].callback_data)
    category = keyboards.resolve_category(kb, first.index, first.check)
    listing = _buttons(keyboards.category_keyboard(kb, category))
    assert len(listing) == len(kb.items_in(category)) + 1
    assert keyboards.decode(listing[-1].callback_data) == keyboards.Topics()


def test_long_labels_are_cut_with_an_ellipsis() -> None:
    assert keyboards.label("kort") == "kort"
    cut = keyboards.label("ord " * 40)
    assert len(cut) == keyboards.BUTTON_CHARS and cut.endswith("…")


# --- addressing and admin -----------------------------------------------------------------------

BOT = "faqbot_test_bot"


def test_every_private_text_is_a_question() -> None:
    assert (
        addressing.addressed_question(
            "  Hvad laver en peer?  ", chat_type="private", bot_username=BOT, reply_to_bot=False
        )
        == "Hvad laver en peer?"
    )


@pytest.mark.parametrize(
    ("text", "reply_to_bot", "expected"),
    [
        ("Hvad laver en peer?", False, None),  # not addressed: silent
        (f"@{BOT} Hvad laver en peer?", False, "Hvad laver en peer?"),
        (f"Hvad laver en peer, @{BOT.upper()}?", False, "Hvad laver en peer, ?"),
        (f"@{BOT}", False, ""),  # addressed but empty: the caller hints
        (f"@{BOT}2 hej", False, None),  # another bot's name
        (f"mail me at x@{BOT}.dk", False, None),  # an e-mail address is no mention
        ("og hvad med løn?", True, "og hvad med løn?"),  # a reply to the bot
        (f"@{BOT} og løn?", True, "og løn?"),
    ],
)
def test_group_messages_are_answered_only_when_addressed(
    text: str, reply_to_bot: bool, expected: str | None
) -> None:
    for chat_type in ("group", "supergroup"):
        result = addressing.addressed_question(
            text, chat_type=chat_type, bot_username=BOT, reply_to_bot=reply_to_bot
        )
        assert result == expected


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("/spørg@otherbot hvad er en peer", True),  # issue 14: answered by this bot
        ("/spoerg@otherbot hvad er en peer", True),
        ("/hjaelp@OtherBot", True),
        (f"/spoerg@{BOT}2 hej", True),
        (f"/spørg@{BOT} hvad er en peer", False),
        (f"/spoerg@{BOT.upper()} hej", False),
        ("/spoerg hvad er en peer", False),
        ("hvad er en peer /spoerg@otherbot", False),  # a command starts the message
        ("skriv til anna@otherbot.dk", False),
    ],
)
def test_commands_for_another_bot_are_recognised(text: str, other: bool) -> None:
    assert addressing.for_another_bot(text, BOT) is other


def test_command_argument_handles_bot_suffix_and_empty() -> None:
    assert addressing.command_argument(f"/spoerg@{BOT}   Hvad er  løn?") == "Hvad er  løn?"
    assert addressing.command_argument("/spoerg") == ""
    assert addressing.command_argument("/spoerg\nflere linjer\nher") == "flere linjer\nher"


def test_long_questions_are_cut_not_refused() -> None:
    cut = addressing.cut_question("spørgsmål " * 500, MAX_QUERY_CHARS)
    assert 0 < len(cut) <= MAX_QUERY_CHARS
    assert addressing.cut_question("  kort  ", MAX_QUERY_CHARS) == "kort"


def test_chat_kind_maps_groups() -> None:
    assert addressing.chat_kind("private") == "private"
    assert {addressing.chat_kind(k) for k in ("group", "supergroup", "channel")} == {"group"}


def test_only_listed_admins_are_admins() -> None:
    admins = frozenset({42})
    assert addressing.is_admin(42, admins)
    assert not addressing.is_admin(43, admins)
    assert not addressing.is_admin(None, admins)
    assert not addressing.is_admin(42, frozenset())


@pytest.mark.parametrize(
    ("args", "days"),
    [([], 30), (["7"], 7), (["3650"], 3650), (["0"], None), (["-3"], None), (["x"], None),
     (["3651"], None), (["1", "2"], None), (["²"], None), (["٣"], None), (["１"], None),
     (["7\n"], None), (["99999999999999999999"], None)],
)  # fmt: skip
def test_report_days(args: list[str], days: int | None) -> None:
    assert parse_days(args) == days


# --- texts --------------------------------------------------------------------------------------


def test_reload_failure_lists_problems_escaped_and_within_one_message() -> None:
    problems = [
        kb_module.Problem(f"knowledge/items/x{n}.yaml", n, "bad <b>value</b> & more " * 3)
        for n in range(300)
    ]
    text = texts.reload_failed(problems)
    assert_telegram_html(text)
    assert len(text) <= texts.MAX_MESSAGE_CHARS
    assert "&lt;b&gt;value&lt;/b&gt; &amp; more" in text
    assert re.search(r"… og \d+ mere$", text)


def test_one_enormous_problem_is_cut_to_fit() -> None:
    text = texts.reload_failed([kb_module.Problem("x.yaml", 1, "&" * 10_000)])
    assert len(text) <= texts.MAX_MESSAGE_CHARS
    assert_telegram_html(text)


def test_unanswered_listing_is_escaped() -> None:
    text = texts.unanswered([("23.11 10:00", "hvad med <script> & løn?")] * 3)
    assert_telegram_html(text)
    assert text.count("&lt;script&gt; &amp; løn?") == 3
    assert texts.unanswered([]) == texts.UNANSWERED_NONE


def test_start_explains_knowledge_logging_and_how_to_ask(kb: kb_module.KnowledgeBase) -> None:
    text = texts.start(kb, BOT)
    assert_telegram_html(text)
    assert f"{len(kb.items)} spørgsmål" in text
    assert "uden navn" in text and "/privatliv" in text and "/spoerg" in text
    assert f"@{BOT}" in text
    for category in kb.categories:
        assert html.escape(category) in text


def test_help_shows_leaders_commands_only_to_leaders() -> None:
    everyone = texts.help_text(COMMANDS, admin=False)
    leaders = texts.help_text(COMMANDS, admin=True)
    for text in (everyone, leaders):
        assert_telegram_html(text)
    for spec in public_commands():
        assert f"/{spec.name}" in everyone
    for spec in admin_commands():
        assert f"/{spec.name}" not in everyone
        assert f"/{spec.name}" in leaders


@pytest.mark.parametrize("keep", list(KeepText))
def test_privacy_says_what_how_long_and_why(keep: KeepText) -> None:
    text = texts.privacy(Settings(keep_text=keep, retention_days=45))
    assert_telegram_html(text)
    assert "Hvad gemmer jeg?" in text and "Hvorfor?" in text
    assert ("45 dage" in text) == (keep is not KeepText.NONE)


def test_bot_texts_are_valid_telegram_html() -> None:
    for text in (
        texts.NOT_ADMIN,
        texts.ADMIN_PRIVATE_ONLY,
        texts.HINT_NOT_TEXT,
        texts.HINT_EMPTY,
        texts.UNKNOWN_COMMAND,
        texts.ERROR,
        texts.REPORT_DAYS_INVALID,
    ):
        assert_telegram_html(text)
    for text in (texts.STALE_BUTTON, texts.ALREADY_VOTED, texts.VOTE_THANKS_UP):
        assert len(text) <= 200  # answerCallbackQuery's limit


# --- commands and the application ---------------------------------------------------------------


def test_command_table_fits_telegram_and_has_a_handler_each() -> None:
    for spec in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", spec.name)
        assert 1 <= len(spec.description) <= 256
    assert {spec.name for spec in COMMANDS} == set(app.COMMAND_HANDLERS)
    assert {spec.name for spec in admin_commands()} == {"rapport", "ubesvarede", "genindlaes"}


def test_build_application_registers_every_command_without_network(
    kb: kb_module.KnowledgeBase,
) -> None:
    settings = Settings(
        telegram_token=TOKEN,
        telegram_base_url="http://127.0.0.1:9/bot",
        rate_limit_per_second=7.0,
        rate_limit_retries=3,
    )
    application = app.build_application(settings, kb)
    handlers = application.handlers[0]
    registered = {
        name for handler in handlers if isinstance(handler, CommandHandler)
        for name in handler.commands
    }  # fmt: skip
    assert {spec.name for spec in COMMANDS} <= registered
    assert any(isinstance(handler, CallbackQueryHandler) for handler in handlers)
    assert application.bot_data.kb is kb and application.bot_data.settings is settings
    assert application.error_handlers
    assert application.concurrent_updates > 1
    assert isinstance(application.bot.rate_limiter, AIORateLimiter)
    assert isinstance(application.bot.request, RetryingRequest)
    assert isinstance(application.update_processor, DeliveryProcessor)
    assert isinstance(application.update_queue, InboxQueue)
    assert application.bot_data.delivery is not None
    assert application.bot.base_url == f"http://127.0.0.1:9/bot{TOKEN}"
    assert application.bot.base_file_url == f"http://127.0.0.1:9/file/bot{TOKEN}"


def test_file_url_sits_beside_the_api_url() -> None:
    assert app.file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert app.file_base_url("http://localhost:8081/bot") == "http://localhost:8081/file/bot"


def test_application_needs_a_token(kb: kb_module.KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="token"):
        app.build_application(Settings(), kb)


# --- the token never reaches a log line ---------------------------------------------------------


def test_token_is_masked_in_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.tokenfilter")
    token_filter = TokenFilter(TOKEN)
    caplog.handler.addFilter(token_filter)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed: https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        caplog.handler.removeFilter(token_filter)
    assert TOKEN not in caplog.text
    assert caplog.text.count(MASK) >= 2
    assert all(TOKEN not in (record.exc_text or "") for record in caplog.records)


def test_install_token_filter_covers_every_handler_once() -> None:
    logger = logging.getLogger("test.tokenfilter.install")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        install_token_filter(TOKEN, logger)
        install_token_filter(TOKEN, logger)
        assert sum(isinstance(f, TokenFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)


# --- errors --------------------------------------------------------------------------------------


async def test_a_network_error_while_polling_is_one_warning_and_a_handler_error_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from types import SimpleNamespace

    from faqbot.bot.handlers import on_error

    with caplog.at_level(logging.WARNING, logger="faqbot"):
        await on_error(None, SimpleNamespace(error=NetworkError("Bad Gateway")))  # type: ignore[arg-type]
        await on_error(None, SimpleNamespace(error=ValueError("a bug")))  # type: ignore[arg-type]
    polling, bug = caplog.records
    assert polling.levelno == logging.WARNING and polling.exc_info is None
    assert "Bad Gateway" in polling.getMessage()
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
