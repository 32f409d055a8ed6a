"""Sending as Telegram documents it: the bot's ``ExtBot`` that mends a request Telegram refuses
for a reason the bot can fix, so an answer is never lost to one of Telegram's documented
answers (https://core.telegram.org/bots/api).

Every request of the bot (replies, button follow-ups, the apology, the digest) passes through
``FaqBot._do_post``, the hook python-telegram-bot's own ``ExtBot`` uses for its rate limiter, so
the mending sits in one place, above the rate limiter and the transport's retries:

- a group upgraded to a supergroup (400 with ``parameters.migrate_to_chat_id``, raised as
  ``ChatMigrated``): the request is sent to the new chat, and every later one to the old id too;
- HTML Telegram cannot parse (400 "can't parse entities"): sent again as plain text;
- a quoted message that is gone (400 "message to be replied not found") or a topic that is
  gone (400 "message thread not found"): sent again without the quote or the topic;
- a text longer than Telegram's 4,096 characters: sent as several messages, cut between
  paragraphs (HTML tags closed and reopened), the keyboard under the last one; a keyboard over
  Telegram's 100 buttons (or 8 in a row) is shortened, keeping its last row (votes, "back");
- a button press answered too late (400 "query is too old"): nothing to do, no error.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.constants import InlineKeyboardMarkupLimit, MessageLimit
from telegram.error import BadRequest, ChatMigrated
from telegram.ext import ExtBot

logger = logging.getLogger(__name__)

MAX_TEXT_UNITS = int(MessageLimit.MAX_TEXT_LENGTH)
"""Telegram's limit for one message's text (counted here in UTF-16 code units of the HTML,
which is never shorter than the text Telegram counts)."""
MAX_BUTTONS = int(InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER)
MAX_ROW_BUTTONS = int(InlineKeyboardMarkupLimit.BUTTONS_PER_ROW)
MAX_MENDS = 3
"""A request is mended and sent again at most this often (each mend removes one reason)."""

_TEXT_ENDPOINTS = frozenset({"sendMessage", "editMessageText"})
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9-]*)")


def units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram measures text."""
    return len(text.encode("utf-16-le")) // 2


def html_to_plain(text: str) -> str:
    """The visible text of Telegram HTML: tags dropped, entities resolved."""
    return html.unescape(_TAG.sub("", text))


def _prefix_within(text: str, room: int) -> int:
    """The largest ``n`` with ``units(text[:n]) <= room``."""
    end = min(len(text), room)
    while end > 0 and units(text[:end]) > room:
        end -= 1
    return end


def _cut(text: str, room: int) -> int:
    """Where to cut ``text`` so the first part fits ``room``: after a paragraph, else a line,
    else a space, else anywhere (never inside an HTML entity such as ``&amp;``)."""
    end = _prefix_within(text, room)
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, 0, end)
        if at > end // 3:
            end = at + len(separator)
            break
    entity = text.rfind("&", 0, end)
    if entity >= 0 and ";" not in text[entity:end] and entity > 0:
        end = entity
    return end


def split_html(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """``text`` (Telegram HTML) as messages of at most ``limit`` units each; tags open at a cut
    are closed before it and opened again after it."""
    if units(text) <= limit:
        return [text]
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open here
    current = ""

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    def flush() -> None:
        nonlocal current
        part = current + closing()
        if html_to_plain(part).strip():
            parts.append(part)
        current = "".join(opening for _, opening in stack)

    for token in _TAG.split(text):
        if not token:
            continue
        if token.startswith("<"):
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            if token.startswith("</"):
                if stack and stack[-1][0] == name:
                    stack.pop()
                current += token
                continue
            if units(current + token) + units(closing()) + len(name) + 3 > limit:
                flush()
            current += token
            stack.append((name, token))
            continue
        rest = token
        while rest:
            room = limit - units(current) - units(closing())
            if units(rest) <= room:
                current += rest
                break
            cut = _cut(rest, room) if room > 0 else 0
            if cut <= 0 and html_to_plain(current).strip():
                flush()
                continue
            cut = max(cut, 1)
            current += rest[:cut]
            rest = rest[cut:].lstrip("\n")
            flush()
    flush()
    return parts


def fit_keyboard(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """``markup`` within Telegram's limits: rows of at most 8 buttons, at most 100 buttons in
    all, the last row (votes, "back") kept when rows must go."""
    rows: list[list[InlineKeyboardButton]] = []
    for given in markup.inline_keyboard:
        for start in range(0, len(given), MAX_ROW_BUTTONS):
            rows.append(list(given[start : start + MAX_ROW_BUTTONS]))
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        last = rows[-1]
        kept: list[list[InlineKeyboardButton]] = []
        room = MAX_BUTTONS - len(last)
        for row in rows[:-1]:
            if len(row) > room:
                break
            kept.append(row)
            room -= len(row)
        rows = [*kept, last]
    if rows == [list(row) for row in markup.inline_keyboard]:
        return markup
    return InlineKeyboardMarkup(rows)


def _reason(error: BadRequest) -> str:
    return str(error.message).lower()


def mend(endpoint: str, data: JSONDict, error: BadRequest) -> JSONDict | None:
    """``data`` changed so Telegram takes it despite ``error``, or None if nothing helps."""
    reason = _reason(error)
    if "can't parse entities" in reason or "can't find end" in reason:
        if data.get("parse_mode") is None:
            return None
        field = "caption" if "caption" in data and "text" not in data else "text"
        plain = {key: value for key, value in data.items() if key != "parse_mode"}
        if isinstance(plain.get(field), str):
            plain[field] = html_to_plain(plain[field])
        logger.warning("Telegram could not read a message's formatting; sent as plain text")
        return plain
    if "replied" in reason and "not found" in reason:
        if "reply_parameters" not in data and "reply_to_message_id" not in data:
            return None
        return {
            key: value
            for key, value in data.items()
            if key not in ("reply_parameters", "reply_to_message_id")
        }
    if ("thread not found" in reason or "topic_closed" in reason) and "message_thread_id" in data:
        logger.info("a forum topic is gone or closed; the reply goes to the general topic")
        return {key: value for key, value in data.items() if key != "message_thread_id"}
    return None


def _too_late(endpoint: str, error: BadRequest) -> bool:
    """A button press answered after Telegram gave up waiting: the user's spinner is gone."""
    reason = _reason(error)
    return endpoint == "answerCallbackQuery" and (
        "query is too old" in reason or "query id is invalid" in reason
    )


class FaqBot(ExtBot[Any]):
    """python-telegram-bot's ``ExtBot`` that mends what Telegram refuses for a known reason."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # python-telegram-bot freezes its bots after __init__
            self.migrated: dict[int, int] = {}
            """Groups upgraded to supergroups: the old chat id to the new one."""

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        timeouts: dict[str, ODVInput[float]] = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        data = self._to_current_chat(data)
        markup = data.get("reply_markup")
        if isinstance(markup, InlineKeyboardMarkup):
            data = {**data, "reply_markup": fit_keyboard(markup)}
        text = data.get("text")
        if endpoint != "sendMessage" or not isinstance(text, str) or units(text) <= MAX_TEXT_UNITS:
            return await self._post_mended(endpoint, data, timeouts)
        if data.get("parse_mode") is None:
            parts = split_html(html.escape(text, quote=False))
            parts = [html_to_plain(part) for part in parts]
        else:
            parts = split_html(text)
        result: bool | JSONDict | list[JSONDict] = False
        for number, part in enumerate(parts):
            piece = {**data, "text": part}
            if number:  # the quote on the first part only
                piece.pop("reply_parameters", None)
                piece.pop("reply_to_message_id", None)
            if number < len(parts) - 1:  # the keyboard under the last part
                piece.pop("reply_markup", None)
            result = await self._post_mended(endpoint, piece, timeouts)
        return result

    def _to_current_chat(self, data: JSONDict) -> JSONDict:
        chat_id = data.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.migrated:
            return data
        moved = {
            key: value
            for key, value in data.items()
            if key not in ("reply_parameters", "reply_to_message_id", "message_thread_id")
        }
        moved["chat_id"] = self.migrated[chat_id]
        return moved

    async def _post_mended(
        self, endpoint: str, data: JSONDict, timeouts: dict[str, ODVInput[float]]
    ) -> bool | JSONDict | list[JSONDict]:
        for _ in range(MAX_MENDS):
            try:
                return await super()._do_post(endpoint, data, **timeouts)
            except ChatMigrated as error:
                chat_id = data.get("chat_id")
                if not isinstance(chat_id, int) or chat_id == error.new_chat_id:
                    raise
                self.migrated[chat_id] = int(error.new_chat_id)
                logger.info("a group became a supergroup; its replies go to the new chat")
                data = self._to_current_chat(data)
            except BadRequest as error:
                if _too_late(endpoint, error):
                    logger.info("a button press was answered too late for Telegram; ignored")
                    return True
                mended = mend(endpoint, data, error)
                if mended is None:
                    raise
                data = mended
        return await super()._do_post(endpoint, data, **timeouts)
