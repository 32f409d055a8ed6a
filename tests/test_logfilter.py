"""The log privacy filter: python-telegram-bot's (and aiosqlite's) data dumps at every level
become placeholders, every line is redacted with user ids masked, and nothing is logged whole.

The records below are the ones those libraries really write (same logger names, templates and
argument types); the end-to-end test in tests/e2e/test_privacy.py greps a real DEBUG log.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from telegram import Update

from faqbot.bot.logfilter import (
    ID_MASK,
    MAX_MESSAGE_CHARS,
    PrivacyFilter,
    install_privacy_filter,
)

USER_ID = 987_654_321
UPDATE = {
    "update_id": 100_001,
    "message": {
        "message_id": 7,
        "date": 1_790_000_000,
        "chat": {"id": USER_ID, "type": "private", "first_name": "Zebulonia"},
        "from": {
            "id": USER_ID,
            "is_bot": False,
            "first_name": "Zebulonia",
            "last_name": "Quaxenberg",
            "username": "zebu_hemmelig",
        },
        "text": "Min kollega har cpr 020290-5678 og spørger om hemmelighedsfuld løn",
    },
}
SECRETS = ("987654321", "Zebulonia", "Quaxenberg", "zebu_hemmelig", "020290", "hemmelighedsfuld")


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What a root-style handler with the filter writes, for the loggers the tests use."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrivacyFilter())
    loggers = [
        logging.getLogger(name)
        for name in ("telegram.ext.ExtBot", "telegram.ext.Application", "aiosqlite", "faqbot.x")
    ]
    loggers.append(logging.getLogger("telegram.ext._utils.webhookhandler"))
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in {text!r}"


def test_python_telegram_bot_debug_dumps_are_withheld(written: io.StringIO) -> None:
    bot = logging.getLogger("telegram.ext.ExtBot")
    bot.debug(
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "sendMessage",
        {"chat_id": USER_ID, "text": UPDATE["message"]["text"]},
    )
    bot.debug(
        "Call to Bot API endpoint `%s` finished with return value `%s`", "getUpdates", [UPDATE]
    )
    bot.debug("Getting updates: %s", [100_001])
    update = Update.de_json(UPDATE, None)
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", update)
    logging.getLogger("aiosqlite").debug(
        "executing %s", ("INSERT ...", (UPDATE["message"]["text"],))
    )
    text = written.getvalue()
    assert_no_secret(text)
    assert (
        "Calling Bot API endpoint `sendMessage` with parameters `<dict withheld, 2 long>`" in text
    )
    assert "Processing update <Update withheld>" in text


def test_a_huge_webhook_body_is_never_logged_whole(written: io.StringIO) -> None:
    body = {**UPDATE, "message": {**UPDATE["message"], "text": "x" * 20_000_000}}
    hook = logging.getLogger("telegram.ext._utils.webhookhandler")
    hook.debug("Webhook received data: %s", json.dumps(body))
    hook.critical(
        "Something went wrong processing the data received from Telegram. "
        "Received data was *not* processed! Received data was: %r",
        body,
    )
    text = written.getvalue()
    assert len(text) < 2_000
    assert_no_secret(text)


def test_every_line_is_redacted_ids_masked_and_capped(written: io.StringIO) -> None:
    own = logging.getLogger("faqbot.x")
    own.info("chat %d wrote 020290-5678 to anna@region.dk", USER_ID)
    own.warning("x" * 50_000)
    try:
        raise ValueError(f"bad input from {USER_ID}: cpr 020290-5678")
    except ValueError:
        own.exception("handler failed")
    lines = written.getvalue()
    assert_no_secret(lines)
    assert f"chat {ID_MASK} wrote [CPR-nr.] to [e-mail]" in lines
    assert "ValueError: bad input from <id>: cpr [CPR-nr.]" in lines  # kept, cleaned
    assert '\n  File "' in lines  # with its indentation
    longest = max(len(line) for line in lines.splitlines())
    assert longest < MAX_MESSAGE_CHARS + 100
    assert "(48000 characters cut)" in lines


def test_a_cut_never_leaves_half_a_number(written: io.StringIO) -> None:
    logging.getLogger("faqbot.x").info("%s tlf 12 34 56 78", "y" * (MAX_MESSAGE_CHARS - 13))
    text = written.getvalue()
    assert "12 34" not in text and "characters cut" in text


def test_exceptions_and_plain_arguments_of_libraries_stay_readable(written: io.StringIO) -> None:
    bot = logging.getLogger("telegram.ext.ExtBot")
    bot.warning("Retrying %s after %s: %s", "sendMessage", 1.5, TimeoutError("Timed out"))
    bot.debug("Request %s took %d ms", "getMe", 12)
    text = written.getvalue()
    assert "Retrying sendMessage after 1.5: TimeoutError: Timed out" in text
    assert "Request getMe took 12 ms" in text


def test_any_bot_token_is_masked_whole(written: io.StringIO) -> None:
    token = "7123456789:AAH-s3cr3t_part_of_the_token_0123456789"
    logging.getLogger("faqbot.x").warning("POST https://api.telegram.org/bot%s/getMe", token)
    text = written.getvalue()
    assert "s3cr3t" not in text and "bot<token>/getMe" in text


def test_install_privacy_filter_covers_every_handler_once() -> None:
    logger = logging.getLogger("test.logfilter.install")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        install_privacy_filter(logger)
        install_privacy_filter(logger)
        assert sum(isinstance(f, PrivacyFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)
