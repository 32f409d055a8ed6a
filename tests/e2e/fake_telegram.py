"""A local fake of the Telegram Bot API, written to its documented behaviour.

Why: the end-to-end tests start the real ``faqbot run`` process and point it at this server
(``FAQBOT_TELEGRAM_BASE_URL``). The server is deliberately at least as strict as Telegram as
documented at https://core.telegram.org/bots/api (HTML parse mode, text and button limits,
message edits, callback answers, flood control), so a bot that passes here sends requests the
real Bot API would accept.

The server runs on its own event loop in a background thread, so tests can drive it from
plain synchronous code (``send_text``, ``press_button``, ``wait_for``) while the bot process or
an in-process ``telegram.Bot`` talks to it over real HTTP.

Updates reach the bot by long polling (``getUpdates``) or, once ``setWebhook`` is called, by
POSTs to the webhook with the secret-token header, retried until the bot answers 2xx.

Like Telegram, the server allows one ``getUpdates`` consumer at a time: a newer ``getUpdates``
ends an older one still waiting with ``409 Conflict: terminated by other getUpdates request``. A
long poll whose client went away (its process was killed) ends when the connection closes, and
is recorded with status 499 and ``client_gone``. So two bot processes polling at once show up
as 409s, and as ``getUpdates`` calls overlapping in time (``overlapping_polls``).

Limitations (kept on purpose): no file downloads (``getFile``), no inline messages; MarkdownV2
and Markdown parse modes are accepted without validation; only the methods a FAQ bot needs exist,
every other method answers 404 like an unknown method does on Telegram. Where the documentation
leaves a detail open (e.g. bare ``&`` or ``>`` in HTML) the fake takes the strict reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import itertools
import json
import math
import re
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-token"
DEFAULT_BOT_USERNAME = "faqbot_test_bot"

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto: at most 10 MB, width + height <= 10000, ratio <= 20

# Update types getUpdates delivers when allowed_updates is empty (the documented default).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# How form-encoded values are typed; python-telegram-bot sends every non-string value as JSON.
_INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "duration",
        "width",
        "height",
        "from_chat_id",
        "reply_to_message_id",
        "max_connections",
        "user_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_web_page_preview",
        "allow_paid_broadcast",
        "show_caption_above_media",
        "disable_content_type_detection",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "menu_button",
        "reaction",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")
_BOT_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """A Bot API error answer: HTTP status plus the JSON body Telegram sends."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        injected: bool = False,
        parameters: Mapping[str, Any] | None = None,
    ):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.injected = injected  # made by fail_next/fail_every (or the flood they started)
        self.parameters = dict(parameters or {})  # ResponseParameters, e.g. migrate_to_chat_id

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        parameters = dict(self.parameters)
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Call:
    """One request the bot made, as decoded by the server, with the answer it got."""

    method: str
    params: Mapping[str, Any]
    files: Mapping[str, UploadedFile]
    time: float  # time.monotonic() when the request arrived
    status: int
    response: Mapping[str, Any]
    index: int
    injected: bool = False  # the error was injected by the test (fail_next/fail_every)
    ended: float = 0.0  # time.monotonic() when the answer was sent (or the client was gone)
    client_gone: bool = False  # the client closed the connection before the answer

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def text(self) -> str:
        """The message text or caption the bot sent ('' if none)."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons of this call's reply_markup, row by row."""
        return inline_buttons(self.params.get("reply_markup"))


def inline_buttons(markup: Any) -> list[dict[str, Any]]:
    """Flatten an inline keyboard markup (a dict) into its buttons."""
    if not isinstance(markup, Mapping):
        return []
    rows = markup.get("inline_keyboard") or []
    return [button for row in rows for button in row]


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients attach to a typed message: commands and mentions."""
    found: list[tuple[int, str, int]] = []
    for pattern, kind in ((_COMMAND_RE, "bot_command"), (_MENTION_RE, "mention")):
        for match in pattern.finditer(text):
            found.append((match.start(), kind, match.end()))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, kind, end in found
    ]


def parse_html(text: str) -> str:
    """Validate Telegram-HTML and return the visible text; raise ApiError(400) like Telegram."""

    def fail(detail: str, at: int) -> ApiError:
        offset = len(text[:at].encode("utf-8"))
        return bad_request(f"can't parse entities: {detail} at byte offset {offset}")

    out: list[str] = []
    stack: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "<":
            if text.startswith("</", i):
                end = text.find(">", i)
                if end < 0:
                    raise fail("Unclosed end tag", i)
                name = text[i + 2 : end].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "{name}"', i)
                if stack[-1] != name:
                    raise fail(
                        f'Unmatched end tag, expected "</{stack[-1]}>", found "</{name}>"', i
                    )
                stack.pop()
                i = end + 1
                continue
            match = re.match(r"<([A-Za-z][A-Za-z0-9-]*)", text[i:])
            if not match:
                raise fail('Unsupported start tag ""', i)
            name = match.group(1).lower()
            if name not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{name}"', i)
            end, attributes = _read_tag(text, i + match.end(), fail)
            _check_tag(name, attributes, stack, fail, i)
            stack.append(name)
            i = end + 1
            continue
        if char == "&":
            match = re.match(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);", text[i:])
            if not match:
                raise fail("Character '&' must be escaped as &amp;", i)
            entity = match.group(1)
            if entity.startswith("#"):
                code = int(entity[2:], 16) if entity[1] in "xX" else int(entity[1:])
                if not 0 < code <= 0x10FFFF:
                    raise fail("Invalid numeric HTML entity", i)
                out.append(chr(code))
            elif entity in _NAMED_ENTITIES:
                out.append(_NAMED_ENTITIES[entity])
            else:
                raise fail(f'Unsupported HTML entity "&{entity};"', i)
            i += match.end()
            continue
        if char == ">":
            raise fail("Character '>' must be escaped as &gt;", i)
        out.append(char)
        i += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def _read_tag(text: str, i: int, fail: Callable[[str, int], ApiError]) -> tuple[int, dict]:
    """Read attributes up to the closing '>' of a start tag; return its index and attributes."""
    attributes: dict[str, str | None] = {}
    attribute_re = re.compile(r"\s*([A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            raise fail("Unclosed start tag", i)
        if text[i] == ">":
            return i, attributes
        match = attribute_re.match(text, i)
        if not match or match.end() == i:
            raise fail("Unexpected character in tag", i)
        value = match.group(2)
        if value is not None and value[:1] in "\"'":
            value = value[1:-1]
        attributes[match.group(1).lower()] = value
        i = match.end()


def _check_tag(
    name: str,
    attributes: Mapping[str, str | None],
    stack: list[str],
    fail: Callable[[str, int], ApiError],
    at: int,
) -> None:
    """The documented nesting rules and required attributes."""
    if "code" in stack:
        raise fail(f'Tag "{name}" can\'t be nested in "code"', at)
    if "pre" in stack and name != "code":
        raise fail(f'Tag "{name}" can\'t be nested in "pre"', at)
    if name == "blockquote" and "blockquote" in stack:
        raise fail("Blockquotes can't be nested", at)
    if name == "a" and "a" in stack:
        raise fail("Links can't be nested", at)
    if name == "a" and not attributes.get("href"):
        raise fail('Tag "a" must have attribute "href"', at)
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise fail('Tag "span" must have class "tg-spoiler"', at)
    if name == "tg-emoji" and not attributes.get("emoji-id"):
        raise fail('Tag "tg-emoji" must have attribute "emoji-id"', at)
    if name == "tg-time" and not (attributes.get("unix") or "").isdigit():
        raise fail('Tag "tg-time" must have attribute "unix"', at)


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk, or None if it is no PNG."""
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    method: str | None
    remaining: int | None = None  # fail_next: how many more calls fail
    every: int | None = None  # fail_every: each n-th matching call fails
    seen: int = 0
    kind: str = "status"  # "status": an error answer; "reset": the connection is dropped;
    # "hang": the answer is held back ``hang`` seconds (then the call is carried out if
    # ``deliver``, else the connection is dropped)
    hang: float = 0.0
    deliver: bool = False
    description: str | None = None  # the error's text, else the usual one for its status

    def matches(self, method: str) -> bool:
        if self.method is None:
            return method != "getupdates"
        return self.method.lower() == method


_REQUEST: contextvars.ContextVar[web.Request] = contextvars.ContextVar("fake_telegram_request")
"""The request being handled (each is handled in its own task)."""


class _ClientGone(Exception):
    """The client closed the connection while its long poll waited (its process died)."""


class _Dropped(Exception):
    """The fake drops this request's connection instead of answering it."""

    def __init__(self, fault: str) -> None:
        super().__init__(fault)
        self.fault = fault


@dataclass
class _CallbackQuery:
    id: str
    user_id: int
    answered: bool = False


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    allowed_updates: list[str] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_error: tuple[int, str] | None = None  # (unix time, message) of the last failure
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    next_message_id: dict[int, int] = field(default_factory=dict)
    callback_queries: dict[str, _CallbackQuery] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    flood_until: float = 0.0
    logged_out: bool = False
    migrated: dict[int, int] = field(default_factory=dict)  # group id -> its supergroup's id
    refusing: dict[int, str] = field(default_factory=dict)  # chat id -> 403 description
    topics: dict[int, set[int]] = field(default_factory=dict)  # forum chat id -> thread ids
    unrequested: set[int] = field(default_factory=set)  # update ids sent whatever is allowed


class FakeTelegram:
    """The fake Bot API server plus the test side: inject updates, inspect and await calls."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "FAQ-bot",
        local_mode: bool = False,
        privacy_mode: bool = False,
    ) -> None:
        """``local_mode`` behaves like a self-hosted Bot API server started with ``--local``:
        webhooks may use plain HTTP and any port (the cloud API insists on HTTPS and
        ports 443, 80, 88 or 8443). ``privacy_mode`` is BotFather's group privacy: the bot
        gets only group messages that are commands (``/cmd`` or ``/cmd@thisbot``), mention it,
        or reply to it; off (the default), it gets every group message, as when privacy is
        disabled or it is a group admin. It may be switched between updates."""
        self.token = token
        self.local_mode = local_mode
        self.privacy_mode = privacy_mode
        self.withheld: list[dict[str, Any]] = []  # group messages privacy mode kept back
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._state = _State()
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._calls_changed = threading.Condition(self._lock)
        self._update_ids = itertools.count(100_001)
        self._query_ids = itertools.count(7_000_000_001)
        self._file_ids = itertools.count(1)
        self._poll_generation = 0
        self._polls_started = 0
        self._closing = False
        self._delivery: asyncio.Task | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self.delivered_updates: dict[int, dict[str, Any]] = {}  # by update_id, as posted
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._wake: asyncio.Event | None = None
        self.port = 0

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """What FAQBOT_TELEGRAM_BASE_URL / Bot(base_url=...) takes: the token is appended."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeTelegram:
        """Start serving on 127.0.0.1 on a free port, in a background thread."""
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as error:  # surfaced to the caller of start()
                errors.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            raise errors[0]
        return self

    async def _serve(self) -> None:
        self._wake = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{bot}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._delivery = asyncio.get_running_loop().create_task(self._deliver_webhooks())

    async def _shutdown(self) -> None:
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._loop is None or self._thread is None:
            return
        self._closing = True  # waiting long polls answer [] at once
        self._notify_pollers()
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- calls

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        """The number of calls so far; pass it as ``after=`` to wait only for newer calls."""
        with self._lock:
            return len(self._calls)

    def calls_to(self, method: str, *, after: int = 0) -> list[Call]:
        with self._lock:
            return [c for c in self._calls[after:] if c.method.lower() == method.lower()]

    def wait_for(
        self,
        predicate: Callable[[Call], bool] | str,
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> Call:
        """Block until a call (from index ``after`` on) satisfies ``predicate``; return it.

        ``predicate`` may be a method name. Raises AssertionError with the calls seen on timeout.
        """
        if isinstance(predicate, str):
            method = predicate.lower()
            predicate = lambda call: call.method.lower() == method  # noqa: E731
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while True:
                for call in self._calls[after:]:
                    if predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        f"{c.method} {c.status} {dict(c.params)!r:.200}"
                        for c in self._calls[after:]
                    ]
                    raise AssertionError(
                        f"no matching call within {timeout}s; calls since #{after}: {seen}"
                    )
                self._calls_changed.wait(remaining)

    def overlapping_polls(self) -> list[tuple[Call, Call]]:
        """Pairs of ``getUpdates`` calls that were in progress at the same moment: each is two
        bot processes polling at once (one process polls one call after another)."""
        polls = sorted(self.calls_to("getUpdates"), key=lambda call: call.time)
        pairs = []
        for number, earlier in enumerate(polls):
            for later in polls[number + 1 :]:
                if later.time >= earlier.ended:
                    break
                pairs.append((earlier, later))
        return pairs

    @property
    def polls_started(self) -> int:
        """How many getUpdates requests have arrived (answered or still waiting)."""
        with self._lock:
            return self._polls_started

    def wait_for_poll(self, timeout: float = 5.0, *, after: int = 0) -> None:
        """Block until more than ``after`` getUpdates requests have arrived (long polls count
        when they start, not when they are answered)."""
        deadline = time.monotonic() + timeout
        with self._calls_changed:
            while self._polls_started <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no getUpdates request within {timeout}s")
                self._calls_changed.wait(remaining)

    async def wait_for_async(
        self,
        predicate: Callable[[Call], bool] | str,
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> Call:
        """``wait_for`` for async tests whose own loop must keep running meanwhile."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout, after=after)

    def assert_no_call(
        self, predicate: Callable[[Call], bool] | str, within: float, *, after: int = 0
    ) -> None:
        """Assert that no matching call arrives within ``within`` seconds."""
        try:
            call = self.wait_for(predicate, within, after=after)
        except AssertionError:
            return
        raise AssertionError(f"unexpected call: {call.method} {dict(call.params)!r}")

    # ----------------------------------------------------------------- failures

    def fail_next(
        self,
        status: int = 429,
        *,
        retry_after: int | None = None,
        method: str | None = None,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls (to ``method``, default any but getUpdates) fail,
        with ``description`` as the error's text if given (e.g. Telegram's exact words).

        A 429 defaults to retry_after=1 and, like Telegram's flood control, keeps refusing
        further calls until retry_after seconds have passed.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._state.failures.append(
                _Failure(status, retry_after, method, remaining=count, description=description)
            )

    def fail_every(
        self,
        n: int,
        status: int = 502,
        *,
        retry_after: int | None = None,
        method: str | None = None,
    ) -> None:
        """Make every n-th matching call fail (until ``clear_failures``)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._state.failures.append(_Failure(status, retry_after, method, every=n))

    def reset_next(self, *, method: str | None = None, count: int = 1) -> None:
        """Drop the connection of the next ``count`` calls (to ``method``, default any but
        getUpdates) without answering or carrying them out: a connection reset."""
        with self._lock:
            self._state.failures.append(_Failure(0, None, method, remaining=count, kind="reset"))

    def hang_next(
        self,
        seconds: float,
        *,
        method: str | None = None,
        count: int = 1,
        deliver: bool = False,
    ) -> None:
        """Hold the next ``count`` calls (to ``method``) ``seconds`` before answering, longer
        than the bot's read timeout makes it give up. With ``deliver`` the call is then carried
        out (Telegram sent the message, its answer was lost); without, the connection is
        dropped and nothing happens."""
        with self._lock:
            self._state.failures.append(
                _Failure(
                    0, None, method, remaining=count, kind="hang", hang=seconds, deliver=deliver
                )
            )

    def clear_failures(self) -> None:
        with self._lock:
            self._state.failures.clear()
            self._state.flood_until = 0.0

    # ----------------------------------------------------------------- the user's side

    @staticmethod
    def user(user_id: int, first_name: str = "Test", username: str | None = None) -> dict:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "da",
        }
        if username:
            user["username"] = username
        return user

    @staticmethod
    def private_chat(user: Mapping[str, Any]) -> dict:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    @staticmethod
    def group_chat(chat_id: int = -4001, title: str = "Peer-gruppen", *, supergroup: bool = False):
        if supergroup and chat_id > -1_000_000_000_000:
            chat_id = -1_000_000_000_000 + chat_id
        return {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}

    def send_text(
        self,
        text: str,
        *,
        user: Mapping[str, Any],
        chat: Mapping[str, Any] | None = None,
        reply_to: Mapping[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        thread_id: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user types ``text``; entities for commands and mentions are set like Telegram's.
        ``thread_id``: in that topic of a forum; ``extra``: more Message fields (``via_bot``,
        ``sender_chat``, ``is_automatic_forward`` ...)."""
        message = self._new_message(user, chat)
        message["text"] = text
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        message.update(copy.deepcopy(dict(extra or {})))
        found = detect_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        if reply_to is not None:
            message["reply_to_message"] = self._quoted(reply_to)
        return self._push_message(message)

    def send_command(self, command: str, args: str = "", **kwargs: Any) -> dict[str, Any]:
        """``/command[@bot] args`` with its bot_command entity."""
        text = command if command.startswith("/") else f"/{command}"
        return self.send_text(f"{text} {args}".strip(), **kwargs)

    def send_mention(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """A message starting with @botusername (a ``mention`` entity)."""
        return self.send_text(f"@{self.bot_user['username']} {text}", **kwargs)

    def send_reply(self, text: str, to: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """A reply to message ``to`` (e.g. a bot message: ``call.result``)."""
        return self.send_text(text, reply_to=to, **kwargs)

    def send_sticker(self, *, user: Mapping[str, Any], chat=None, emoji: str = "👍") -> dict:
        message = self._new_message(user, chat)
        message["sticker"] = {
            "file_id": self._file_id("sticker"),
            "file_unique_id": self._file_id("u"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._push_message(message)

    def send_photo(self, *, user: Mapping[str, Any], chat=None, caption: str | None = None):
        message = self._new_message(user, chat)
        message["photo"] = [
            self._photo_size(90, 67),
            self._photo_size(320, 240),
            self._photo_size(1280, 960),
        ]
        if caption:
            message["caption"] = caption
            found = detect_entities(caption)
            if found:
                message["caption_entities"] = found
        return self._push_message(message)

    def send_voice(self, *, user: Mapping[str, Any], chat=None, duration: int = 3) -> dict:
        message = self._new_message(user, chat)
        message["voice"] = {
            "file_id": self._file_id("voice"),
            "file_unique_id": self._file_id("u"),
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4242,
        }
        return self._push_message(message)

    def press_button(
        self,
        message: Mapping[str, Any],
        *,
        user: Mapping[str, Any],
        text: str | None = None,
        data: str | None = None,
        index: int | None = None,
    ) -> dict[str, Any]:
        """Press an inline button (by text, callback_data or position) of a bot message.

        ``message`` is a Message the bot sent (``call.result``); its current state (after
        edits) is used, as Telegram would. Returns the callback_query.
        """
        chat_id = message["chat"]["id"]
        with self._lock:
            current = self._state.messages.get((chat_id, message["message_id"]))
            if current is None:
                raise AssertionError(f"message {message['message_id']} in {chat_id} is gone")
            buttons = inline_buttons(current.get("reply_markup"))
            chosen = None
            for position, button in enumerate(buttons):
                if (
                    (text is not None and button.get("text") == text)
                    or (data is not None and button.get("callback_data") == data)
                    or (index is not None and position == index)
                ):
                    chosen = button
                    break
            if chosen is None or "callback_data" not in chosen:
                raise AssertionError(f"no such callback button ({text=}, {data=}): {buttons}")
            query_id = str(next(self._query_ids))
            self._state.callback_queries[query_id] = _CallbackQuery(query_id, user["id"])
            query = {
                "id": query_id,
                "from": dict(user),
                "message": copy.deepcopy(current),
                "chat_instance": str(abs(chat_id) * 31 + 7),
                "data": chosen["callback_data"],
            }
        self._push_update({"callback_query": query})
        return query

    def press_forged(
        self, message: Mapping[str, Any], *, user: Mapping[str, Any], data: str
    ) -> dict[str, Any]:
        """A callback query carrying any ``data`` for a bot message, as a modified client or a
        forged webhook delivery would send it. Returns the callback_query."""
        chat_id = message["chat"]["id"]
        with self._lock:
            current = self._state.messages.get((chat_id, message["message_id"]), message)
            query_id = str(next(self._query_ids))
            self._state.callback_queries[query_id] = _CallbackQuery(query_id, user["id"])
            query = {
                "id": query_id,
                "from": dict(user),
                "message": copy.deepcopy(current),
                "chat_instance": str(abs(chat_id) * 31 + 7),
                "data": data,
            }
        self._push_update({"callback_query": query})
        return query

    def bot_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a message in the server (after edits), or None if deleted."""
        with self._lock:
            found = self._state.messages.get((chat_id, message_id))
            return copy.deepcopy(found) if found else None

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._state.updates)

    def commands(self, scope: str = "default", language_code: str = "") -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._state.commands.get(f"{scope}|{language_code}", []))

    def push_update(self, update: Mapping[str, Any], *, unrequested: bool = False) -> dict:
        """Queue any raw update (without update_id; it is assigned). ``unrequested``: delivered
        even if the bot's ``allowed_updates`` leaves its type out (a server that ignores them)."""
        pushed = self._push_update(dict(update))
        if unrequested:
            with self._lock:
                self._state.unrequested.add(pushed["update_id"])
        return pushed

    # ----------------------------------------------------------------- chats that change

    @staticmethod
    def forum_chat(chat_id: int = -1_000_000_004_001, title: str = "Peer-forum") -> dict:
        """A supergroup with topics (``is_forum``)."""
        return {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}

    def open_topic(self, chat: Mapping[str, Any], name: str, *, user: Mapping[str, Any]) -> int:
        """A user opens a topic in a forum: the service message (``forum_topic_created``)
        is sent to the bot; its message id is the topic's ``message_thread_id``."""
        message = self._new_message(user, chat)
        thread_id = message["message_id"]
        message.update(
            {
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": 7322096},
            }
        )
        with self._lock:
            self._state.topics.setdefault(chat["id"], set()).add(thread_id)
        self._push_message(message)
        return thread_id

    def migrate_to_supergroup(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """The group is upgraded to a supergroup (a new chat id): from now on every request to
        the old id answers 400 with ``parameters.migrate_to_chat_id``. Returns the new chat."""
        new = {"id": -1_000_000_000_000 + int(group["id"]), "type": "supergroup"}
        new["title"] = group.get("title", "")
        with self._lock:
            self._state.chats[new["id"]] = new
            self._state.migrated[int(group["id"])] = new["id"]
        return new

    def refuse_chat(
        self, chat_id: int, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        """Every request to ``chat_id`` answers 403 (the user blocked the bot, or the bot was
        kicked: "Forbidden: bot was kicked from the group chat")."""
        with self._lock:
            self._state.refusing[chat_id] = description

    def delete_user_message(self, message: Mapping[str, Any]) -> None:
        """The user deletes their message (a reply to it then finds nothing to quote)."""
        with self._lock:
            self._state.messages.pop((message["chat"]["id"], message["message_id"]), None)

    def revoke_token(self) -> None:
        """The token is revoked in @BotFather: every request answers 401 Unauthorized."""
        with self._lock:
            self._state.logged_out = True

    def set_webhook_elsewhere(self, url: str = "http://127.0.0.1:9/elsewhere") -> None:
        """Someone sets a webhook for this bot (another deployment): getUpdates answers 409."""
        with self._lock:
            self._state.webhook_url = url

    # ----------------------------------------------------------------- internals: updates

    def _file_id(self, kind: str) -> str:
        return f"AgAC{kind}{next(self._file_ids):06d}"

    def _photo_size(self, width: int, height: int, size: int | None = None) -> dict[str, Any]:
        photo = {
            "file_id": self._file_id("photo"),
            "file_unique_id": self._file_id("u"),
            "width": width,
            "height": height,
        }
        if size is not None:
            photo["file_size"] = size
        return photo

    def _new_message(self, user: Mapping[str, Any], chat: Mapping[str, Any] | None) -> dict:
        chat = dict(chat) if chat is not None else self.private_chat(user)
        with self._lock:
            self._state.chats[chat["id"]] = chat
            message_id = self._next_id(chat["id"])
        return {
            "message_id": message_id,
            "from": dict(user),
            "chat": chat,
            "date": int(time.time()),
        }

    def _next_id(self, chat_id: int) -> int:
        with self._lock:
            value = self._state.next_message_id.get(chat_id, 1)
            self._state.next_message_id[chat_id] = value + 1
            return value

    def _quoted(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """A message as it appears inside reply_to_message (one level, current state)."""
        key = (message["chat"]["id"], message["message_id"])
        with self._lock:
            current = self._state.messages.get(key, message)
        quoted = copy.deepcopy(dict(current))
        quoted.pop("reply_to_message", None)
        return quoted

    def _push_message(self, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._state.messages[(message["chat"]["id"], message["message_id"])] = message
        if self._privacy_hides(message):
            self.withheld.append(copy.deepcopy(message))
        else:
            self._push_update({"message": message})
        return copy.deepcopy(message)

    def _privacy_hides(self, message: Mapping[str, Any]) -> bool:
        """Whether group privacy keeps ``message`` from the bot."""
        if not self.privacy_mode or message["chat"]["type"] not in ("group", "supergroup"):
            return False
        reply = message.get("reply_to_message") or {}
        if reply.get("from", {}).get("id") == self.bot_user["id"]:
            return False
        text = message.get("text") or message.get("caption") or ""
        entities = message.get("entities") or message.get("caption_entities") or []
        encoded = text.encode("utf-16-le")
        for entity in entities:
            start, length = entity["offset"] * 2, entity["length"] * 2
            value = encoded[start : start + length].decode("utf-16-le")
            if entity["type"] == "bot_command" and (
                "@" not in value or value.endswith(f"@{self.bot_user['username']}")
            ):
                return False
            if entity["type"] == "mention" and value == f"@{self.bot_user['username']}":
                return False
        return True

    def _push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": next(self._update_ids), **copy.deepcopy(update)}
            self._state.updates.append(update)
        self._notify_pollers()
        return update

    def _notify_pollers(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    # ----------------------------------------------------------------- internals: HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        try:
            bot_part = request.match_info["bot"]
            if not bot_part.startswith("bot"):
                raise ApiError(404, "Not Found")
            if bot_part[3:] != self.token or self._state.logged_out:
                raise ApiError(401, "Unauthorized")
            handler = self._handlers().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            params, files = await self._read_params(request)
            _REQUEST.set(request)  # for a long poll: is its client still there?
            fault = self._inject_failure(method.lower())
            if fault is not None:
                await asyncio.sleep(fault.hang)
                if not fault.deliver:
                    raise _Dropped(fault.kind)
            result = await handler(params, files)
            status, body = 200, {"ok": True, "result": result}
            injected = fault is not None
        except ApiError as error:
            status, body, injected = error.status, error.body(), error.injected
        except _ClientGone:
            body = {"ok": False, "client_gone": True}
            self._record(method, params, files, started, 499, body, False, client_gone=True)
            raise web.HTTPInternalServerError() from None  # nobody to answer
        except _Dropped as dropped:
            body = {"ok": False, "dropped": dropped.fault}
            self._record(method, params, files, started, 0, body, True)
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPInternalServerError() from None  # never reaches the client
        except Exception as error:  # a bug in the fake: make it loud in the call record
            body = {"ok": False, "error_code": 500, "description": f"fake bug: {error!r}"}
            status, injected = 500, False
        self._record(method, params, files, started, status, body, injected)
        return web.json_response(body, status=status)

    def _record(
        self, method, params, files, started, status, body, injected, *, client_gone=False
    ) -> None:
        with self._calls_changed:
            call = Call(
                method=method,
                params=params,
                files=files,
                time=started,
                status=status,
                response=copy.deepcopy(body),
                index=len(self._calls),
                injected=injected,
                ended=time.monotonic(),
                client_gone=client_gone,
            )
            self._calls.append(call)
            self._calls_changed.notify_all()

    async def _read_params(self, request: web.Request) -> tuple[dict, dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        typed_json = False
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON encoded request body") from None
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                raw.update(body)
                typed_json = True
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        files[name] = UploadedFile(
                            name, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[name] = value
            elif await request.read():
                raise bad_request(f"unsupported content type {content_type}")
        params = {name: _decode(name, value, typed_json) for name, value in raw.items()}
        return params, files

    def _inject_failure(self, method: str) -> _Failure | None:
        """Raise the injected error answer for this call, or return a reset or hang fault."""
        with self._lock:
            state = self._state
            now = time.monotonic()
            if state.flood_until > now and method != "getupdates":
                retry = max(1, math.ceil(state.flood_until - now))
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry}",
                    retry_after=retry,
                    injected=True,
                )
            for failure in list(state.failures):
                if not failure.matches(method):
                    continue
                failure.seen += 1
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        state.failures.remove(failure)
                elif failure.every and failure.seen % failure.every:
                    continue
                if failure.kind != "status":
                    return failure
                raise self._failure_error(failure, now)
        return None

    def _failure_error(self, failure: _Failure, now: float) -> ApiError:
        if failure.status == 429:
            retry = failure.retry_after or 1
            self._state.flood_until = now + retry
            return ApiError(
                429, f"Too Many Requests: retry after {retry}", retry_after=retry, injected=True
            )
        descriptions = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        description = failure.description or descriptions.get(failure.status, "Error")
        return ApiError(failure.status, description, injected=True)

    # ----------------------------------------------------------------- internals: methods

    def _handlers(self) -> dict[str, Callable]:
        return {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "close": self._close,
            "logout": self._log_out,
        }

    async def _get_me(self, params, files) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params, files) -> list[dict]:
        request = _REQUEST.get()
        state = self._state
        if state.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(int(params.get("timeout") or 0), 0)
        allowed = params.get("allowed_updates")
        with self._calls_changed:
            self._poll_generation += 1
            self._polls_started += 1
            self._calls_changed.notify_all()
            generation = self._poll_generation
            if allowed is not None:
                if not isinstance(allowed, list):
                    raise bad_request("can't parse allowed updates JSON array")
                state.allowed_updates = [str(kind) for kind in allowed]
            if isinstance(offset, int) and offset != 0:
                if offset > 0:
                    state.updates = [u for u in state.updates if u["update_id"] >= offset]
                else:
                    state.updates = state.updates[offset:]
        self._notify_pollers()  # a newer getUpdates terminates an older waiting one
        deadline = time.monotonic() + timeout
        assert self._wake is not None
        while True:
            self._wake.clear()
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                deliverable = self._deliverable()
                if deliverable or self._closing or time.monotonic() >= deadline:
                    return copy.deepcopy(deliverable[:limit])
            if request.transport is None or request.transport.is_closing():
                raise _ClientGone()
            remaining = deadline - time.monotonic()
            with contextlib.suppress(TimeoutError):  # awake now and then: is the client there?
                await asyncio.wait_for(self._wake.wait(), min(remaining, 0.1))

    def _deliverable(self) -> list[dict]:
        """Queued updates of allowed types; others are dropped as Telegram never sends them."""
        state = self._state
        allowed = set(state.allowed_updates)

        def wanted(update: dict) -> bool:
            if update["update_id"] in state.unrequested:
                return True
            kind = next(key for key in update if key != "update_id")
            return kind in allowed if allowed else kind not in DEFAULT_EXCLUDED_UPDATES

        state.updates = [u for u in state.updates if wanted(u)]
        return state.updates

    async def _delete_webhook(self, params, files) -> bool:
        with self._lock:
            self._state.webhook_url = ""
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
        return True

    async def _set_webhook(self, params, files) -> bool:
        url = str(params.get("url") or "")
        if url and not self.local_mode:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme != "https":
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (443, 80, 88, 8443):
                raise bad_request(
                    "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
                )
        elif url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: Wrong HTTP URL specified")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        with self._lock:
            self._state.webhook_url = url
            self._state.webhook_secret = str(secret) if secret else None
            self._state.webhook_error = None
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
            if params.get("allowed_updates") is not None:
                self._state.allowed_updates = list(params["allowed_updates"])
        return True

    async def _get_webhook_info(self, params, files) -> dict:
        with self._lock:
            info: dict[str, Any] = {
                "url": self._state.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._state.updates),
            }
            if self._state.webhook_url:
                info["max_connections"] = 40
                if self._state.allowed_updates:
                    info["allowed_updates"] = list(self._state.allowed_updates)
                if self._state.webhook_error is not None:
                    info["last_error_date"], info["last_error_message"] = self._state.webhook_error
            return info

    async def _deliver_webhooks(self) -> None:
        """Like Telegram: POST each pending update (one per request) to the webhook with the
        secret token header; drop it on a 2xx answer, otherwise keep it and retry later."""
        assert self._wake is not None
        async with aiohttp.ClientSession() as session:
            while True:
                self._wake.clear()
                with self._lock:
                    url, secret = self._state.webhook_url, self._state.webhook_secret
                    pending = self._deliverable() if url else []
                    update = copy.deepcopy(pending[0]) if pending else None
                if update is None:
                    await self._wake.wait()
                    continue
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                try:
                    async with session.post(
                        url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                    ) as response:
                        status = response.status
                        error = f"Wrong response from the webhook: {status} {response.reason}"
                except (aiohttp.ClientError, TimeoutError) as problem:
                    status, error = 0, f"Connection failed: {problem.__class__.__name__}"
                with self._lock:
                    self.webhook_deliveries.append((update["update_id"], status))
                    self.delivered_updates[update["update_id"]] = update
                    if 200 <= status < 300:
                        self._state.updates = [
                            u for u in self._state.updates if u["update_id"] != update["update_id"]
                        ]
                        continue
                    self._state.webhook_error = (int(time.time()), error)
                await asyncio.sleep(0.3)

    def _scope_key(self, params: Mapping[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, Mapping) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            self._chat(scope)  # Telegram knows only chats the bot has seen
        extra = ",".join(f"{k}={scope[k]}" for k in sorted(scope) if k != "type")
        kind = scope["type"] + (f"({extra})" if extra else "")
        return f"{kind}|{params.get('language_code') or ''}"

    async def _set_my_commands(self, params, files) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON array")
        for command in commands:
            name = command.get("command") if isinstance(command, Mapping) else None
            description = command.get("description") if isinstance(command, Mapping) else None
            if not isinstance(name, str) or not _BOT_COMMAND_NAME_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params)
        with self._lock:
            self._state.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    async def _get_my_commands(self, params, files) -> list[dict]:
        key = self._scope_key(params)
        with self._lock:
            return copy.deepcopy(self._state.commands.get(key, []))

    async def _delete_my_commands(self, params, files) -> bool:
        key = self._scope_key(params)
        with self._lock:
            self._state.commands.pop(key, None)
        return True

    def _chat(self, params: Mapping[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self._state.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat_id in self._state.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self._state.migrated[chat_id]},
            )
        if chat_id in self._state.refusing:
            raise ApiError(403, self._state.refusing[chat_id])
        return chat

    def _visible_text(self, text: Any, parse_mode: Any, *, caption: bool = False) -> str:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if parse_mode in (None, ""):
            visible = text
        elif str(parse_mode).lower() == "html":
            visible = parse_html(text)
        elif str(parse_mode).lower() in ("markdownv2", "markdown"):
            visible = text  # accepted without validation (see the module docstring)
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        visible = visible.strip()
        if caption:
            if len(visible) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        else:
            if not visible:
                raise bad_request("message text is empty")
            if len(visible) > MAX_TEXT:
                raise bad_request("message is too long")
        return visible

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, Mapping):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse inline keyboard button: field must be an Array")
            if sum(len(row) for row in rows) > 100:
                raise bad_request("too many inline keyboard buttons")
            for row in rows:
                if len(row) > 8:
                    raise bad_request("too many buttons in a row")
                for button in row:
                    self._check_button(button)
            return {"inline_keyboard": copy.deepcopy(rows)}
        if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return None  # reply keyboards are not part of the returned Message

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, Mapping) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text must be a String")
        if not button["text"].strip():
            raise bad_request("text buttons are unallowed in the inline keyboard")
        kinds = [
            k
            for k in (
                "url",
                "callback_data",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "web_app",
                "login_url",
                "callback_game",
                "pay",
            )
            if k in button
        ]
        if len(kinds) != 1:
            raise bad_request("text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
            raise bad_request("BUTTON_URL_INVALID")

    def _reply_to(self, chat: Mapping[str, Any], params: Mapping[str, Any]) -> dict | None:
        reply = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, Mapping):
            message_id = reply.get("message_id")
            if reply.get("chat_id") not in (None, chat["id"]):
                raise bad_request("replying to messages in other chats is not supported here")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        elif reply is not None:
            raise bad_request("can't parse reply parameters JSON object")
        if message_id is None:
            return None
        found = self._state.messages.get((chat["id"], message_id))
        if found is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return self._quoted(found)

    def _store_bot_message(self, chat, params, content: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
            **content,
        }
        thread = params.get("message_thread_id")
        if thread is not None:
            if thread not in self._state.topics.get(chat["id"], set()):
                raise bad_request("message thread not found")
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        reply_to = self._reply_to(chat, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        self._state.messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    async def _send_message(self, params, files) -> dict:
        with self._lock:
            chat = self._chat(params)
            visible = self._visible_text(params.get("text"), params.get("parse_mode"))
            return self._store_bot_message(chat, params, {"text": visible})

    def _upload(self, name: str, params, files) -> UploadedFile | str:
        value = params.get(name)
        if name in files:
            return files[name]
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified for {name}")
            return attached
        if isinstance(value, str) and value:
            return value  # a file_id or an HTTP URL
        raise bad_request(f"there is no {name} in the request")

    async def _send_photo(self, params, files) -> dict:
        with self._lock:
            chat = self._chat(params)
            photo = self._upload("photo", params, files)
            content: dict[str, Any] = {}
            caption = self._visible_text(
                params.get("caption"), params.get("parse_mode"), caption=True
            )
            if isinstance(photo, UploadedFile):
                size = png_size(photo.data)
                if size is None and not photo.data.startswith(b"\xff\xd8"):
                    raise bad_request("IMAGE_PROCESS_FAILED")
                width, height = size or (800, 600)
                if len(photo.data) > MAX_PHOTO_BYTES:
                    raise bad_request("file is too big")
                if width + height > 10_000 or max(width, height) > 20 * min(width, height):
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
                scale = min(1.0, 320 / max(width, height))
                content["photo"] = [
                    self._photo_size(round(width * scale), round(height * scale)),
                    self._photo_size(width, height, len(photo.data)),
                ]
            else:
                content["photo"] = [self._photo_size(800, 600)]
            if caption:
                content["caption"] = caption
            return self._store_bot_message(chat, params, content)

    async def _send_document(self, params, files) -> dict:
        with self._lock:
            chat = self._chat(params)
            document = self._upload("document", params, files)
            caption = self._visible_text(
                params.get("caption"), params.get("parse_mode"), caption=True
            )
            content: dict[str, Any] = {
                "document": {
                    "file_id": self._file_id("doc"),
                    "file_unique_id": self._file_id("u"),
                }
            }
            if isinstance(document, UploadedFile):
                if not document.data:
                    raise bad_request("file must be non-empty")
                content["document"]["file_size"] = len(document.data)
                if document.filename:
                    content["document"]["file_name"] = document.filename
                if document.content_type:
                    content["document"]["mime_type"] = document.content_type
            if caption:
                content["caption"] = caption
            return self._store_bot_message(chat, params, content)

    async def _send_chat_action(self, params, files) -> bool:
        with self._lock:
            self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _editable(self, params) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by this fake")
        chat = self._chat(params)
        message = self._state.messages.get((chat["id"], params.get("message_id")))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return message

    async def _edit_message_text(self, params, files) -> dict:
        with self._lock:
            message = self._editable(params)
            visible = self._visible_text(params.get("text"), params.get("parse_mode"))
            markup = self._check_markup(params.get("reply_markup"))
            if "text" not in message:
                raise bad_request("there is no text in the message to edit")
            if visible == message["text"] and markup == message.get("reply_markup"):
                raise bad_request(NOT_MODIFIED)
            message["text"] = visible
            return _edited(message, markup)

    async def _edit_message_reply_markup(self, params, files) -> dict:
        with self._lock:
            message = self._editable(params)
            markup = self._check_markup(params.get("reply_markup"))
            if markup == message.get("reply_markup"):
                raise bad_request(NOT_MODIFIED)
            return _edited(message, markup)

    async def _answer_callback_query(self, params, files) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        with self._lock:
            query = self._state.callback_queries.get(query_id)
            if query is None or query.answered:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER:
                raise bad_request("MESSAGE_TOO_LONG")
            query.answered = True
        return True

    async def _delete_message(self, params, files) -> bool:
        with self._lock:
            chat = self._chat(params)
            key = (chat["id"], params.get("message_id"))
            if key not in self._state.messages:
                raise bad_request("message to delete not found")
            del self._state.messages[key]
        return True

    async def _close(self, params, files) -> bool:
        return True

    async def _log_out(self, params, files) -> bool:
        with self._lock:
            self._state.logged_out = True
        return True

    # ----------------------------------------------------------------- convenience

    def unanswered_callback_queries(self) -> list[str]:
        with self._lock:
            return [q.id for q in self._state.callback_queries.values() if not q.answered]

    def sent_messages(self, chat_id: int | None = None) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendDocument calls, optionally to one chat."""
        kinds = {"sendmessage", "sendphoto", "senddocument"}
        return [
            c
            for c in self.calls
            if c.ok and c.method.lower() in kinds and (chat_id is None or c.chat_id == chat_id)
        ]


def _decode(name: str, value: Any, typed_json: bool) -> Any:
    """Type one parameter the way the Bot API reads it from a form or JSON body."""
    if name in _JSON_PARAMS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name.replace('_', ' ')} JSON object") from None
    if name == "chat_id":
        return _int_or_str(value)
    if typed_json and not isinstance(value, str):
        return value
    if name in _INT_PARAMS:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None
    if name in _BOOL_PARAMS:
        return str(value).lower() in ("true", "1")
    return value


def _int_or_str(value: Any) -> int | str:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def _edited(message: dict, markup: object) -> dict:
    """Apply an edit's reply markup (None removes it), stamp it, and return a copy."""
    message["edit_date"] = int(time.time())
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup
    return copy.deepcopy(message)
