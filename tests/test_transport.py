"""The Bot API transport: python-telegram-bot's HTTPXRequest with proxies and timeouts from the
settings, and bounded retries of transient failures (never of a 4xx). Loopback only."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut

from faqbot.bot import transport
from faqbot.bot.transport import (
    BACKOFF_CAP,
    PollRequest,
    RetryingRequest,
    backoff_delay,
    build_requests,
    recording,
)
from faqbot.settings import Settings

REAL_SLEEP = asyncio.sleep  # the transport's backoff sleeps are patched away below


class Server:
    """A loopback HTTP server answering each request with the next planned reply."""

    def __init__(self) -> None:
        self.plan: list[str] = []
        self.seen: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        step = self.plan.pop(0) if self.plan else "ok"
        self.seen.append(step)
        if step == "reset":
            assert request.transport is not None
            request.transport.abort()
            raise web.HTTPInternalServerError()
        if step == "hang":
            await REAL_SLEEP(1)
        if step.isdigit():
            return web.json_response({"ok": False, "description": step}, status=int(step))
        return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    fake = Server()
    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", fake.handle)
    fake.runner = web.AppRunner(application, access_log=None)
    await fake.runner.setup()
    site = web.TCPSite(fake.runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/botX/sendMessage"  # type: ignore[union-attr]
    try:
        yield fake
    finally:
        await fake.runner.cleanup()


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps are recorded, not slept."""
    waits: list[float] = []

    async def sleep(delay: float, *args: object) -> None:
        waits.append(delay)
        await REAL_SLEEP(0)

    monkeypatch.setattr(transport.asyncio, "sleep", sleep)
    return waits


async def send(request: RetryingRequest, url: str) -> tuple[int, bytes]:
    await request.initialize()
    try:
        return await request.do_request(url, "POST")
    finally:
        await request.shutdown()


@pytest.mark.parametrize(
    ("plan", "attempts"),
    [
        (["500"], 2),
        (["502", "502"], 3),
        (["503", "504", "500"], 4),
        (["reset"], 2),
        (["hang"], 2),
    ],
)
async def test_transient_failures_are_retried_until_one_gets_through(
    server: Server, no_waiting: list[float], plan: list[str], attempts: int
) -> None:
    server.plan = list(plan)
    request = RetryingRequest(retries=3, read_timeout=0.3)
    status, _ = await send(request, server.url)
    assert status == 200
    assert server.seen == [*plan, "ok"]
    assert len(no_waiting) == attempts - 1


@pytest.mark.parametrize("status", [400, 403, 404, 409, 429])
async def test_a_4xx_is_never_retried(server: Server, status: int) -> None:
    server.plan = [str(status)]
    code, _ = await send(RetryingRequest(retries=3), server.url)
    assert code == status
    assert server.seen == [str(status)]


async def test_retries_are_bounded_then_the_last_failure_counts(server: Server) -> None:
    server.plan = ["502"] * 5
    code, _ = await send(RetryingRequest(retries=3), server.url)
    assert code == 502
    assert server.seen == ["502"] * 4
    server.plan, server.seen = ["reset"] * 3, []
    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await send(RetryingRequest(retries=2), server.url)
    assert server.seen == ["reset"] * 3
    server.plan, server.seen = ["502"], []
    code, _ = await send(RetryingRequest(retries=0), server.url)
    assert (code, server.seen) == (502, ["502"])


async def test_a_request_lost_after_sending_is_recorded_as_maybe_delivered(
    server: Server,
) -> None:
    server.plan = ["hang", "hang"]
    with recording() as record, pytest.raises(TimedOut):
        await send(RetryingRequest(retries=1, read_timeout=0.2), server.url)
    assert record.maybe_delivered
    server.plan = ["502", "502"]
    with recording() as record:
        await send(RetryingRequest(retries=1), server.url)
    assert not record.maybe_delivered  # a 5xx answer says it was not carried out


async def test_a_refused_connection_is_retried_and_was_not_delivered(
    no_waiting: list[float],
) -> None:
    with recording() as record, pytest.raises(NetworkError, match="ConnectError"):
        await send(RetryingRequest(retries=2), "http://127.0.0.1:9/botX/getMe")
    assert len(no_waiting) == 2
    assert not record.maybe_delivered


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(8):
        ceiling = min(BACKOFF_CAP, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed


def proxy_hosts(request: object) -> set[tuple[bytes, int | None]]:
    """The proxies an HTTPXRequest's httpx client routes through (httpx's mounts)."""
    mounts = request._client._mounts.values()  # type: ignore[attr-defined]
    return {
        (mount._pool._proxy_url.host, mount._pool._proxy_url.port)
        for mount in mounts
        if mount is not None
    }


def test_the_transport_is_httpx_with_the_settings_proxy_and_timeouts() -> None:
    settings = Settings(proxy_url="http://proxy.example.org:3128", request_timeout=7.0)
    send_request, poll_request = build_requests(settings, 36)
    assert send_request.retries == settings.send_retries == 3
    assert not isinstance(poll_request, RetryingRequest)  # getUpdates: the poll loop retries
    for request in (send_request, poll_request):
        client = request._client
        timeout = client.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (7.0,) * 4
        assert request._media_write_timeout == 28.0
        assert proxy_hosts(request) == {(b"proxy.example.org", 3128)}


def test_without_a_setting_the_proxy_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://envproxy.example.org:8080")
    send_request, _ = build_requests(Settings(), 4)
    assert proxy_hosts(send_request) == {(b"envproxy.example.org", 8080)}


def test_a_socks_proxy_is_supported() -> None:
    send_request, _ = build_requests(Settings(proxy_url="socks5://127.0.0.1:1080"), 4)
    assert send_request._client._mounts  # built without "install python-telegram-bot[socks]"


async def test_the_poll_transport_keeps_the_updates_as_telegram_sent_them(server: Server) -> None:
    poll = PollRequest()
    await poll.initialize()
    try:
        server.plan = ["ok"]
        await poll.do_request(server.url.replace("sendMessage", "getUpdates"), "POST")
        assert poll.raw_updates() == {}  # {"ok": true, "result": true}: no updates
    finally:
        await poll.shutdown()
    poll._last_body = json.dumps(
        {"ok": True, "result": [{"update_id": 7, "message": {"text": "æ"}}]}
    ).encode()
    assert json.loads(poll.raw_updates()[7]) == {"update_id": 7, "message": {"text": "æ"}}
