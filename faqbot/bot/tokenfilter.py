"""Keep the bot token out of every log line.

httpx and python-telegram-bot log request URLs, and the Bot API puts the token in the URL
(``.../bot<token>/sendMessage``). The httpx loggers (and APScheduler's, which logs every job
run) are quietened to WARNING and a filter on every root handler masks the token in messages,
arguments and tracebacks alike (a filter on a logger would miss records propagated from child
loggers; a handler filter sees them all).

The libraries log a network failure with its whole traceback (python-telegram-bot's retry
loops, a proxy's HTML error page); unless the level is DEBUG, ``LibraryTracebackFilter`` turns
such a record into its one line plus the exception's one line. faqbot's own error records keep
their tracebacks: those are bugs.
"""

from __future__ import annotations

import logging

from faqbot.bot.logfilter import install_privacy_filter

MASK = "<token>"
_NOISY_LOGGERS = ("httpx", "httpcore", "aiosqlite", "apscheduler")


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


class LibraryTracebackFilter(logging.Filter):
    """Drop the traceback of a record that does not come from faqbot, keeping one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.name.startswith("faqbot"):
            error = record.exc_info[1]
            message = record.getMessage()
            if error is not None:
                message = f"{message} ({error.__class__.__name__}: {error})"
            record.msg, record.args = message, None
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: str, token: str | None) -> None:
    """Log to stderr at ``level``, with the token masked, personal data kept out of every
    line (``logfilter``), httpx's request lines off and libraries' tracebacks only at DEBUG."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if logging.getLevelName(level) != logging.DEBUG:  # before the masks: it writes the line
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, LibraryTracebackFilter) for f in handler.filters):
                handler.addFilter(LibraryTracebackFilter())
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
