"""The Bot API transport: python-telegram-bot's own ``HTTPXRequest``, plus bounded retries.

``HTTPXRequest`` (httpx) honours ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` and
takes an explicit proxy (``FAQBOT_PROXY_URL``, which then wins), with connect, read, write, pool
and upload timeouts. ``RetryingRequest`` adds what the library leaves to the bot: a request that
fails transiently (an HTTP 5xx, a dropped or refused connection, a timeout) is sent again after
a backoff with jitter, at most ``retries`` times. A 4xx is never retried (the request itself is
wrong); a 429 is left to python-telegram-bot's ``AIORateLimiter``, which waits as Telegram asks.

Retrying below the rate limiter covers every request the bot makes (replies, edits, callback
answers, the command menu) in one place. ``getUpdates`` has its own plain transport: the polling
loop (``faqbot.bot.delivery``) decides itself when to ask again.

A retry may deliver a message twice (Telegram may have sent it before the answer was lost); a
duplicate is acceptable, a lost answer is not. Whether a failed request may have reached
Telegram is recorded in ``SendRecord`` so the error handler apologises only when nothing went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from faqbot.settings import Settings

logger = logging.getLogger(__name__)

BACKOFF_BASE = 0.5
"""Seconds before the first retry (at most; jitter takes it down to half)."""
BACKOFF_CAP = 5.0
"""No single wait between retries is longer than this."""
POLL_CONNECTIONS = 1
"""``getUpdates`` is one long poll at a time."""
UPLOAD_TIMEOUT_FACTOR = 4
"""Uploads (the report's chart) may take this many times the request timeout to send."""

_RANDOM = random.Random()

# Failures after which the request may have reached Telegram: it was sent, the answer was lost.
_MAYBE_DELIVERED = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """The wait before retry ``attempt + 1``: doubling from ``BACKOFF_BASE`` up to
    ``BACKOFF_CAP``, times a random factor in [0.5, 1] so many failed requests do not all
    come back at the same instant."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt)
    factor = (rng or _RANDOM).uniform(0.5, 1.0)
    return ceiling * factor


@dataclass
class SendRecord:
    """What the requests of one update went through; set up per update by the delivery."""

    maybe_delivered: bool = False
    """A request failed after it was sent (no answer came): Telegram may have carried it out."""


_RECORD: ContextVar[SendRecord | None] = ContextVar("faqbot_send_record", default=None)


@contextlib.contextmanager
def recording() -> Iterator[SendRecord]:
    """Record, for the requests made in this context (one update's task), what failed how."""
    record = SendRecord()
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


def current_record() -> SendRecord | None:
    """The ``SendRecord`` of the update being handled in this task, if any."""
    return _RECORD.get()


def maybe_delivered(error: BaseException) -> bool:
    """Whether a transport error left it open if Telegram got the request."""
    return isinstance(error.__cause__, _MAYBE_DELIVERED)


def _endpoint(url: str) -> str:
    """The Bot API method of a request URL (never the token, which is part of the path)."""
    return url.rsplit("/", 1)[-1]


class RetryingRequest(HTTPXRequest):
    """``HTTPXRequest`` that retries transient failures with backoff and jitter."""

    def __init__(self, *, retries: int, rng: random.Random | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.retries = retries
        self._rng = rng
        self.retry_log_level = logging.WARNING
        """Retries are warnings, except at start-up (where a failure is one ``Error:`` line)."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request; on a 5xx or a transport error wait and send it again."""
        attempt = 0
        while True:
            try:
                status, body = await super().do_request(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except (TimedOut, NetworkError) as error:
                if maybe_delivered(error):
                    record = current_record()
                    if record is not None:
                        record.maybe_delivered = True
                if attempt >= self.retries:
                    raise
                reason = str(error) or error.__class__.__name__
            else:
                if status < 500 or attempt >= self.retries:
                    return status, body
                reason = f"HTTP {status}"
            delay = backoff_delay(attempt, self._rng)
            attempt += 1
            logger.log(
                self.retry_log_level,
                "Bot API %s failed (%s); retry %d of %d in %.1f s",
                _endpoint(url),
                reason,
                attempt,
                self.retries,
                delay,
            )
            await asyncio.sleep(delay)


class PollRequest(HTTPXRequest):
    """``HTTPXRequest`` for ``getUpdates`` that keeps the last answer's updates as Telegram
    sent them, so the inbox stores them verbatim instead of re-serialising python-telegram-bot's
    objects (which cost about as much CPU as matching the question)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._last_body = b""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        self._last_body = b""
        status, body = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == 200 and _endpoint(url) == "getUpdates":
            self._last_body = body
        return status, body

    def raw_updates(self) -> dict[int, str]:
        """The last ``getUpdates`` answer's updates as JSON text, by update id."""
        if not self._last_body:
            return {}
        try:
            result = json.loads(self._last_body).get("result") or []
            return {int(update["update_id"]): json.dumps(update) for update in result}
        except (ValueError, TypeError, KeyError, AttributeError):
            return {}


def build_requests(settings: Settings, connections: int) -> tuple[RetryingRequest, PollRequest]:
    """The transports for every request and for ``getUpdates``, with the proxy and timeouts.

    ``proxy=None`` lets httpx read the proxy environment variables; ``FAQBOT_PROXY_URL`` wins.
    """
    timeout = settings.request_timeout
    options: dict[str, Any] = {
        "proxy": settings.proxy_url,
        "connect_timeout": timeout,
        "read_timeout": timeout,
        "write_timeout": timeout,
        "pool_timeout": timeout,
        "media_write_timeout": timeout * UPLOAD_TIMEOUT_FACTOR,
    }
    return (
        RetryingRequest(retries=settings.send_retries, connection_pool_size=connections, **options),
        PollRequest(connection_pool_size=POLL_CONNECTIONS, **options),
    )
