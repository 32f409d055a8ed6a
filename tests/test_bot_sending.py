"""The bot's mending of requests Telegram refuses (``faqbot.bot.sending``): long texts split
between paragraphs with their HTML intact, keyboards within Telegram's limits, the plain-text
fallback, and which errors are mended how."""

from __future__ import annotations

import re
from html import escape

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest

from faqbot.bot.sending import (
    MAX_BUTTONS,
    MAX_ROW_BUTTONS,
    MAX_TEXT_UNITS,
    fit_keyboard,
    html_to_plain,
    mend,
    split_html,
    units,
)

_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def balanced(part: str) -> bool:
    """Every tag in ``part`` is closed in order (the obvious stack check)."""
    stack: list[str] = []
    for closing, name in _TAG.findall(part):
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def words(text: str) -> list[str]:
    return html_to_plain(text).split()


def test_a_text_within_the_limit_is_one_message() -> None:
    text = "<b>Kort</b> svar"
    assert split_html(text) == [text]


def test_a_long_answer_is_cut_between_paragraphs_with_every_word_kept() -> None:
    paragraphs = [f"Afsnit {n}: " + "ord og flere ord " * 30 for n in range(20)]
    text = "\n\n".join(escape(p) for p in paragraphs)
    parts = split_html(text)
    assert len(parts) >= 2
    assert all(units(part) <= MAX_TEXT_UNITS for part in parts)
    assert all(part.rstrip().endswith("ord") for part in parts)  # never mid-paragraph
    assert words("".join(parts)) == words(text)


def test_tags_open_at_a_cut_are_closed_and_reopened() -> None:
    text = "<i>" + " ".join(f"ord{n} &amp; mere" for n in range(900)) + "</i>"
    parts = split_html(text, limit=1000)
    assert len(parts) > 4
    assert all(balanced(part) and units(part) <= 1000 for part in parts)
    assert all(part.startswith("<i>") and part.endswith("</i>") for part in parts)
    assert words(" ".join(parts)) == words(text)
    assert all("&amp" not in part.replace("&amp;", "") for part in parts)  # no entity cut


def test_a_text_without_any_space_is_still_cut_within_the_limit() -> None:
    text = "x" * 10_000
    parts = split_html(text)
    assert [len(part) for part in parts] == [4096, 4096, 1808]


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    parts = split_html(text)
    assert all(units(part) <= MAX_TEXT_UNITS for part in parts)
    assert "".join(parts) == text


def button(n: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(f"Spørgsmål {n}", callback_data=f"i|{n}|abcdef")


def test_a_keyboard_within_the_limits_is_left_alone() -> None:
    markup = InlineKeyboardMarkup([[button(1)], [button(2), button(3)]])
    assert fit_keyboard(markup) is markup


def test_a_keyboard_over_100_buttons_keeps_its_last_row() -> None:
    back = [InlineKeyboardButton("« Alle emner", callback_data="t")]
    markup = InlineKeyboardMarkup([[button(n)] for n in range(150)] + [back])
    fitted = fit_keyboard(markup)
    rows = fitted.inline_keyboard
    assert sum(len(row) for row in rows) == MAX_BUTTONS
    assert list(rows[-1]) == back
    assert [row[0].text for row in rows[:3]] == ["Spørgsmål 0", "Spørgsmål 1", "Spørgsmål 2"]


def test_a_row_over_8_buttons_is_wrapped() -> None:
    markup = InlineKeyboardMarkup([[button(n) for n in range(20)]])
    rows = fit_keyboard(markup).inline_keyboard
    assert [len(row) for row in rows] == [MAX_ROW_BUTTONS, MAX_ROW_BUTTONS, 4]


def test_html_to_plain_shows_what_telegram_would() -> None:
    assert html_to_plain("<b>Løn</b> &amp; <i>timer</i> &lt;3") == "Løn & timer <3"


def refused(description: str) -> BadRequest:
    return BadRequest(description)


def test_html_telegram_cannot_parse_is_sent_again_as_plain_text() -> None:
    data = {"chat_id": 1, "text": "<b>Svar</b> &amp; mere", "parse_mode": "HTML"}
    error = refused("Bad Request: can't parse entities: unsupported start tag at byte offset 0")
    assert mend("sendMessage", data, error) == {"chat_id": 1, "text": "Svar & mere"}
    assert mend("sendMessage", {"chat_id": 1, "text": "x"}, error) is None  # already plain


def test_a_reply_to_a_deleted_message_is_sent_without_the_quote() -> None:
    data = {"chat_id": 1, "text": "x", "reply_parameters": ReplyParameters(5)}
    error = refused("Bad Request: message to be replied not found")
    assert mend("sendMessage", data, error) == {"chat_id": 1, "text": "x"}


def test_a_reply_to_a_deleted_topic_goes_to_the_general_topic() -> None:
    data = {"chat_id": -100, "text": "x", "message_thread_id": 7}
    error = refused("Bad Request: message thread not found")
    assert mend("sendMessage", data, error) == {"chat_id": -100, "text": "x"}


@pytest.mark.parametrize(
    "description",
    ["Bad Request: chat not found", "Bad Request: message is too long", "Bad Request"],
)
def test_other_refusals_are_not_mended(description: str) -> None:
    data = {"chat_id": 1, "text": "x", "parse_mode": "HTML"}
    assert mend("sendMessage", data, refused(description)) is None
