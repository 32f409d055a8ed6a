"""Keep the bot token out of every log line.

httpx and python-telegram-bot log request URLs, and the Bot API puts the token in the URL
(``.../bot<token>/sendMessage``). The httpx loggers are quietened to WARNING and a filter on
every root handler masks the token in messages, arguments and tracebacks alike (a filter on a
logger would miss records propagated from child loggers; a handler filter sees them all).
"""

from __future__ import annotations

import logging

from faqbot.bot.logfilter import install_privacy_filter

MASK = "<token>"
_NOISY_LOGGERS = ("httpx", "httpcore", "aiosqlite")


class TokenFilter(logging.Filter):
    """Replace the token in a record's final message and traceback text."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, MASK), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, MASK)
        if record.stack_info and self.token in record.stack_info:
            record.stack_info = record.stack_info.replace(self.token, MASK)
        return True


def configure_logging(level: str, token: str | None) -> None:
    """Log to stderr at ``level``, with the token masked, personal data kept out of every
    line (``logfilter``) and httpx's request lines off."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if token:  # first: the privacy filter masks long numbers, a token's included
        install_token_filter(token)
    install_privacy_filter()


def install_token_filter(token: str, logger: logging.Logger | None = None) -> TokenFilter:
    """Add a ``TokenFilter`` to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    token_filter = TokenFilter(token)
    for handler in target.handlers:
        if not any(isinstance(f, TokenFilter) and f.token == token for f in handler.filters):
            handler.addFilter(token_filter)
    return token_filter
