"""Keep personal data out of every log line, at every level, DEBUG included.

python-telegram-bot logs whole updates and Bot API calls at DEBUG ("Processing update
Update(...)", "Calling Bot API endpoint `sendMessage` with parameters `{'chat_id': ...,
'text': ...}`") and, at ERROR and CRITICAL, the raw data it could not parse (a whole webhook
body or getUpdates answer). Those carry user ids, names, usernames and question texts.

A filter on every root handler rewrites each record before it is written:

* A third-party record (any logger outside ``faqbot``) keeps its message template, but its
  arguments pass only when they are plainly not data: booleans, small numbers, and short
  words such as an endpoint name (``sendMessage``). An update, a dict, a list, bytes or a long
  string becomes a placeholder naming what was withheld; an exception keeps its type and a
  short message.
* Every record (faqbot's own too, and tracebacks) is then redacted (``faqbot.redact``), any
  bot token and every number long enough to be a Telegram user or chat id is masked, and the
  text is capped, so no body is ever logged whole.

faqbot's own log calls never pass personal data; this filter is the net under them and under
every library.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from faqbot.redact import redact

OWN_LOGGER = "faqbot"
MAX_MESSAGE_CHARS = 2_000
"""A log message longer than this is cut (a 20 MB webhook body must never reach the log)."""
MAX_TRACEBACK_CHARS = 16_000
MAX_ARGUMENT_CHARS = 80
ID_MASK = "<id>"

# Telegram user ids have 6 to 10+ digits (groups: -100...); update ids and ports are masked
# too, which costs nothing when debugging.
_LONG_NUMBER = re.compile(r"-?\d{6,}")
# A bot token (digits, a colon, 35 URL-safe characters), whichever token it is: masking its
# digits alone as an id would leave the secret half readable.
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
TOKEN_MASK = "<token>"
_PARTIAL_TAIL = re.compile(r"\S{0,64}[\d\s.,/()+-]*$")
_INDENT = re.compile(r"[ \t]*")
_PLAIN_ARGUMENT = re.compile(r"[A-Za-z_][\w .:/`'()-]*")


class PrivacyFilter(logging.Filter):
    """Withhold data arguments of library records, then redact, mask ids and cap every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _own(record):
            record.msg = _plain(record.msg) if not isinstance(record.msg, str) else record.msg
            if isinstance(record.args, dict):
                record.args = {key: _argument(value) for key, value in record.args.items()}
            elif record.args:
                record.args = tuple(_argument(value) for value in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a template that does not fit its arguments
            message = f"{record.msg!s} (arguments withheld)"
        record.msg, record.args = _clean(message, MAX_MESSAGE_CHARS), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text, MAX_TRACEBACK_CHARS)
        if record.stack_info:
            record.stack_info = _clean(record.stack_info, MAX_TRACEBACK_CHARS)
        return True


def _own(record: logging.LogRecord) -> bool:
    return record.name == OWN_LOGGER or record.name.startswith(OWN_LOGGER + ".")


def _argument(value: Any) -> Any:
    """A library's log argument as it may be written: itself if plainly no data, else a
    placeholder."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 100_000 else ID_MASK
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {_clean(str(value), 200)}"
    plain = (
        isinstance(value, str)
        and len(value) <= MAX_ARGUMENT_CHARS
        and _PLAIN_ARGUMENT.fullmatch(value) is not None
        and _LONG_NUMBER.search(value) is None
    )
    return value if plain else _plain(value)


def _plain(value: Any) -> str:
    size = len(value) if isinstance(value, str | bytes | dict | list | tuple) else None
    return f"<{type(value).__name__} withheld{f', {size} long' if size is not None else ''}>"


def _clean(text: str, limit: int) -> str:
    """Redacted, ids masked, and cut to ``limit``; a cut drops the token it would split (half
    a phone number is no longer recognised as one)."""
    cut = ""
    if len(text) > limit:
        cut = f" … ({len(text) - limit} characters cut)"
        text = _PARTIAL_TAIL.sub("", text[:limit])
    text = _BOT_TOKEN.sub(TOKEN_MASK, text)
    lines = []
    for line in text.split("\n"):  # line by line, so a traceback keeps its indentation
        indent = _INDENT.match(line)
        start = indent.end() if indent else 0
        lines.append(line[:start] + redact(line[start:]))
    return _LONG_NUMBER.sub(ID_MASK, "\n".join(lines)) + cut


def install_privacy_filter(logger: logging.Logger | None = None) -> PrivacyFilter:
    """Add a ``PrivacyFilter`` to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    privacy = PrivacyFilter()
    for handler in target.handlers:
        if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
            handler.addFilter(privacy)
    return privacy
