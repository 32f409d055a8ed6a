"""When a message is meant for the bot, and what the question in it is. Pure functions.

In a private chat every text is a question. In a group the bot answers only ``/spoerg``
(handled by its command handler), a message that mentions ``@BotUsername`` (the mention is
stripped), or a reply to one of its own messages; everything else is none of its business.
"""

from __future__ import annotations

import re
from functools import lru_cache

PRIVATE = "private"


def chat_kind(chat_type: str) -> str:
    """The question log's ``chat_kind``: "private" or "group" (groups, supergroups, channels)."""
    return "private" if chat_type == PRIVATE else "group"


@lru_cache(maxsize=8)
def _mention_pattern(username: str) -> re.Pattern[str]:
    # Usernames are [A-Za-z0-9_]; an '@' inside a word (an e-mail address) is no mention.
    return re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)", re.IGNORECASE)


def strip_mention(text: str, username: str | None) -> str | None:
    """The text without ``@username`` if it mentions the bot, else None."""
    if not username:
        return None
    pattern = _mention_pattern(username)
    if not pattern.search(text):
        return None
    return " ".join(pattern.sub(" ", text).split())


def addressed_question(
    text: str,
    *,
    chat_type: str,
    bot_username: str | None,
    reply_to_bot: bool,
) -> str | None:
    """The question a message puts to the bot, or None when the bot should stay silent.

    An empty string means "addressed, but no question in it" (the caller sends a hint).
    """
    if chat_type == PRIVATE:
        return text.strip()
    stripped = strip_mention(text, bot_username)
    if stripped is not None:
        return stripped
    if reply_to_bot:
        return text.strip()
    return None


COMMAND_FOR_A_BOT = re.compile(r"^/[^\s@/]+@(\w+)")
"""A command addressed to a bot by name: ``/spoerg@SomeBot``, ``/spørg@SomeBot``."""


def for_another_bot(text: str, bot_username: str | None) -> bool:
    """Whether the message is a command addressed to another bot (``/spørg@otherbot``), which
    this bot must leave alone even in a group where it reads every message."""
    match = COMMAND_FOR_A_BOT.match(text)
    if match is None:
        return False
    return not bot_username or match.group(1).casefold() != bot_username.casefold()


def command_argument(text: str) -> str:
    """The text after a leading ``/command`` or ``/command@BotName``, whitespace kept inside."""
    parts = text.split(maxsplit=1)
    if not parts or not parts[0].startswith("/"):
        return text.strip()
    return parts[1].strip() if len(parts) > 1 else ""


def cut_question(text: str, limit: int) -> str:
    """The question trimmed and cut to the matcher's limit; long questions are never refused."""
    text = text.strip()
    return text[:limit].rstrip() if len(text) > limit else text


def is_admin(user_id: int | None, admin_ids: frozenset[int]) -> bool:
    """Whether the user may use the leaders' commands (an unknown user never may)."""
    return user_id is not None and user_id in admin_ids
